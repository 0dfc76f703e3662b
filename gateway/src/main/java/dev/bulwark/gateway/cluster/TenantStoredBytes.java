package dev.bulwark.gateway.cluster;

import dev.bulwark.auth.TenantLimits;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.errors.PolicyViolationException;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes each tenant's partitions' logs hold, for {@code max-stored-bytes}: produce must not sum every partition's
 * segments on every batch, so each tenant with a limit has a counter that produce reserves batches against, counted
 * from the logs at its first reservation and again at the first reservation {@link #REFRESH} after the last count
 * (retention, compaction, DeleteRecords and topic deletions shrink the logs behind its back; it learns of growth
 * from the reservations). Tenants without a limit have no counter and pay nothing.
 *
 * <p>The counter may be off, between two counts, by what the logs lost meanwhile (the limit then bites early), by
 * the batches reserved while a count ran, and by the batches appended while its tenant had no limit (it then bites a
 * few batches late). Reservations are atomic, so concurrent producers cannot all pass on the same headroom.
 */
public final class TenantStoredBytes {

    /** How stale a tenant's counter may get before a produce recomputes it from the logs. */
    static final Duration REFRESH = Duration.ofSeconds(5);

    private final LogManager logs;
    private final Clock clock;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    private static final class Counter {
        final AtomicLong bytes = new AtomicLong();
        /** When the counter is next recounted from the logs; at the first reservation. */
        volatile long recountAtMs = Long.MIN_VALUE;
    }

    TenantStoredBytes(LogManager logs, Clock clock) {
        this.logs = logs;
        this.clock = clock;
    }

    /**
     * Reserves room for {@code bytes} more in the tenant's logs, which must stay within {@code limit}.
     *
     * @throws PolicyViolationException naming the limit when they do not fit; nothing is reserved then
     */
    void reserve(String tenantId, String tenantName, long limit, long bytes) {
        Counter counter = counters.computeIfAbsent(tenantId, id -> new Counter());
        long now = clock.millis();
        if (now >= counter.recountAtMs) {
            synchronized (counter) {
                if (now >= counter.recountAtMs) {
                    counter.bytes.set(measure(tenantId));
                    counter.recountAtMs = now + REFRESH.toMillis();
                }
            }
        }
        long after = counter.bytes.addAndGet(bytes);
        if (after > limit) {
            counter.bytes.addAndGet(-bytes);
            throw new PolicyViolationException("tenant " + tenantName + " may store at most " + limit + " bytes ("
                    + TenantLimits.MAX_STORED_BYTES + "); it stores " + (after - bytes) + " and this batch adds "
                    + bytes);
        }
    }

    /** Returns a reservation whose batch was not written (a duplicate, or a refused batch). */
    void release(String tenantId, long bytes) {
        Counter counter = counters.get(tenantId);
        if (counter != null) {
            counter.bytes.addAndGet(-bytes);
        }
    }

    /** The bytes the tenant's partitions' logs hold now, summed from the logs. */
    long measure(String tenantId) {
        long total = 0;
        for (TopicMetadata topic : logs.topics(tenantId)) {
            if (Topics.AUDIT_TOPIC.equals(topic.name())) {
                continue; // the broker's copy of the tenant's audit trail is not the tenant's data
            }
            for (int p = 0; p < topic.partitions(); p++) {
                Optional<PartitionLog> log = logs.log(topic.id(), p);
                if (log.isPresent()) {
                    total += log.get().sizeInBytes();
                }
            }
        }
        return total;
    }
}
