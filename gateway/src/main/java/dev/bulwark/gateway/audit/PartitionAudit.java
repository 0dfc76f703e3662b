package dev.bulwark.gateway.audit;

import dev.bulwark.audit.Outcome;
import dev.bulwark.storage.PartitionLog;

import java.util.Map;

/**
 * Passes each partition's high watermark on to the fetches waiting for it, and records what the partitions find
 * wrong in the audit trail: a tampered or damaged batch fenced (never served), a partition gone offline.
 */
public final class PartitionAudit implements PartitionLog.Listener {

    private final PartitionLog.Listener highWatermarks;
    private final AuditTrail trail;

    public PartitionAudit(PartitionLog.Listener highWatermarks, AuditTrail trail) {
        this.highWatermarks = highWatermarks;
        this.trail = trail;
    }

    @Override
    public void highWatermarkAdvanced(PartitionLog log) {
        highWatermarks.highWatermarkAdvanced(log);
    }

    @Override
    public void corruptionFenced(PartitionLog log, String where) {
        trail.recordSystem("storage.tamper-detected", "partition:" + log.id(), Outcome.FAILURE, where,
                Map.of("action", "fenced, never served"));
    }

    @Override
    public void wentOffline(PartitionLog log, String reason) {
        trail.recordSystem("storage.partition-offline", "partition:" + log.id(), Outcome.FAILURE, reason, Map.of());
    }
}
