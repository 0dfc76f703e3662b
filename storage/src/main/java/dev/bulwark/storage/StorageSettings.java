package dev.bulwark.storage;

import java.time.Duration;

/**
 * How the log store runs.
 *
 * @param flushPolicy            when batches reach stable storage (see {@link FlushPolicy})
 * @param flushInterval          under {@link FlushPolicy#PAGE_CACHE}, how often unflushed partitions are fsynced
 * @param flushThreads           threads running fsyncs in parallel
 * @param recoveryThreads        threads opening and recovering partitions at start
 * @param retentionCheckInterval how often retention runs (Kafka's log.retention.check.interval.ms)
 * @param checkpointInterval     how often recovery points and log start offsets are written
 * @param producerIdExpiration   idle time after which a producer's state is dropped (producer.id.expiration.ms)
 * @param cleanerBackoff         how often the log cleaner looks for compacted partitions that are due (Kafka's
 *                               log.cleaner.backoff.ms); it runs on a thread of its own, never on appends
 * @param sealBatches            whether topics' segments seal their record batches (always, but to measure what
 *                               sealing costs); fixed when the store is created, which refuses to open with the
 *                               other choice ({@link BatchSealingRecord}); a store that seals serves no segment
 *                               written without
 */
public record StorageSettings(FlushPolicy flushPolicy, Duration flushInterval, int flushThreads, int recoveryThreads,
                              Duration retentionCheckInterval, Duration checkpointInterval,
                              Duration producerIdExpiration, Duration cleanerBackoff, boolean sealBatches) {

    /** Settings that seal every batch. */
    public StorageSettings(FlushPolicy flushPolicy, Duration flushInterval, int flushThreads, int recoveryThreads,
                           Duration retentionCheckInterval, Duration checkpointInterval,
                           Duration producerIdExpiration, Duration cleanerBackoff) {
        this(flushPolicy, flushInterval, flushThreads, recoveryThreads, retentionCheckInterval, checkpointInterval,
                producerIdExpiration, cleanerBackoff, true);
    }

    /** Kafka's default log.cleaner.backoff.ms. */
    public static final Duration DEFAULT_CLEANER_BACKOFF = Duration.ofSeconds(15);

    public static StorageSettings defaults() {
        return new StorageSettings(FlushPolicy.DURABLE, Duration.ofSeconds(1), 4,
                Math.max(1, Runtime.getRuntime().availableProcessors()), Duration.ofMinutes(5), Duration.ofMinutes(1),
                Duration.ofDays(1), DEFAULT_CLEANER_BACKOFF);
    }
}
