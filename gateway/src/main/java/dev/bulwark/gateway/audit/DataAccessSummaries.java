package dev.bulwark.gateway.audit;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who read or wrote what, summed per connection, topic partition and direction between flushes: records, bytes, the
 * offset range and the first and last time. Producing and fetching only add to counters here; {@link #drain} turns
 * the sums into audit events, which the stage flushes every minute and when a connection closes, so the trail holds
 * who accessed a patient's feed without an entry per request.
 *
 * <p>Thread-safe: requests of many connections add concurrently; a drain takes each summary it emits out of the map.
 */
final class DataAccessSummaries {

    enum Direction {
        PRODUCE("data.produce"), FETCH("data.fetch");

        final String action;

        Direction(String action) {
            this.action = action;
        }
    }

    /** Who a connection is, as every one of its summaries names it. */
    record Who(String tenantId, String principal, String clientAddress, String clientSoftware, String listener) {
    }

    private record Key(String connectionId, String topic, int partition, Direction direction) {
    }

    private static final class Summary {
        private final Who who;
        private long records;
        private long bytes;
        private long firstOffset = Long.MAX_VALUE;
        private long lastOffset = -1;
        private long firstMs;
        private long lastMs;
        /** Set once drained: an add that finds it set starts a new summary instead, so nothing is lost. */
        private boolean drained;

        Summary(Who who) {
            this.who = who;
        }

        synchronized boolean add(long addedRecords, long addedBytes, long first, long last, long nowMs) {
            if (drained) {
                return false;
            }
            if (records == 0 && bytes == 0) {
                firstMs = nowMs;
            }
            records += addedRecords;
            bytes += addedBytes;
            firstOffset = Math.min(firstOffset, first);
            lastOffset = Math.max(lastOffset, last);
            lastMs = nowMs;
            return true;
        }
    }

    private final Map<Key, Summary> summaries = new ConcurrentHashMap<>();

    void add(String connectionId, Who who, String topic, int partition, Direction direction, long records, long bytes,
             long firstOffset, long lastOffset, long nowMs) {
        Key key = new Key(connectionId, topic, partition, direction);
        while (!summaries.computeIfAbsent(key, k -> new Summary(who))
                .add(records, bytes, firstOffset, lastOffset, nowMs)) {
            Thread.onSpinWait(); // drained meanwhile: its replacement takes this
        }
    }

    /** The summaries of one connection (a closed one), or of all (null), as events; they start again from zero. */
    List<AuditEvent> drain(String connectionId) {
        List<AuditEvent> events = new ArrayList<>();
        for (Key key : List.copyOf(summaries.keySet())) {
            if (connectionId != null && !connectionId.equals(key.connectionId())) {
                continue;
            }
            Summary summary = summaries.remove(key);
            if (summary == null) {
                continue;
            }
            synchronized (summary) {
                summary.drained = true;
                Map<String, String> details = new LinkedHashMap<>();
                details.put("connection", key.connectionId());
                details.put("partition", Integer.toString(key.partition()));
                details.put("records", Long.toString(summary.records));
                details.put("bytes", Long.toString(summary.bytes));
                details.put("firstOffset", Long.toString(summary.firstOffset));
                details.put("lastOffset", Long.toString(summary.lastOffset));
                details.put("firstTime", Instant.ofEpochMilli(summary.firstMs).toString());
                details.put("lastTime", Instant.ofEpochMilli(summary.lastMs).toString());
                Who who = summary.who;
                events.add(new AuditEvent(summary.lastMs, who.tenantId(), who.principal(), who.clientAddress(),
                        who.clientSoftware(), who.listener(), key.direction().action, "topic:" + key.topic(),
                        Outcome.SUCCESS, null, details));
            }
        }
        return events;
    }
}
