package dev.bulwark.storage;

/** When appended batches reach stable storage, and what acks=all and consumers wait for. */
public enum FlushPolicy {
    /**
     * acks=all is answered only after the batch is fsynced; consumers see only fsynced batches (the high watermark is
     * the durable end of the log). Concurrent producers share fsyncs (group commit).
     */
    DURABLE,
    /**
     * As Apache Kafka by default: acks=all is answered once the batch is in the page cache and the log is fsynced on
     * a fixed interval, so a machine crash can lose acknowledged batches.
     */
    PAGE_CACHE
}
