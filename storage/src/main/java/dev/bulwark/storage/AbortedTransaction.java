package dev.bulwark.storage;

/**
 * A transaction that was aborted in a partition: what a READ_COMMITTED fetch lists in its aborted_transactions field
 * (producer id and first offset), so the consumer skips the transaction's records.
 *
 * @param firstOffset      the offset of its first batch in this partition
 * @param lastOffset       the offset of its ABORT marker
 * @param lastStableOffset the partition's first unstable offset right after the marker (the first offset of the
 *                         oldest transaction of another producer still open, or the offset after the marker): a
 *                         search for transactions overlapping offsets below it need not look at later markers
 */
public record AbortedTransaction(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
