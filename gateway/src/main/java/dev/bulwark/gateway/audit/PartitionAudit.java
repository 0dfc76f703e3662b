package dev.bulwark.gateway.audit;

import dev.bulwark.audit.Outcome;
import dev.bulwark.storage.PartitionLog;

import java.util.Map;

/**
 * Records what the partitions find wrong in the audit trail: a tampered or damaged batch fenced (never served), a
 * partition gone offline.
 */
public final class PartitionAudit implements PartitionLog.Listener {

    private final AuditTrail trail;

    public PartitionAudit(AuditTrail trail) {
        this.trail = trail;
    }

    @Override
    public void highWatermarkAdvanced(PartitionLog log) {
        // Waiting fetches follow high watermarks; the trail records only what went wrong.
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
