package dev.bulwark.storage;

/**
 * What a partition knows of one idempotent or transactional producer: what DescribeProducers answers.
 *
 * @param lastSequence          the last sequence of its newest batch in the current epoch, or -1 when it wrote none
 *                              since the epoch began (a marker with a newer epoch starts the sequences again)
 * @param lastTimestamp         the largest timestamp of its batches and markers
 * @param coordinatorEpoch      the epoch of the transaction coordinator that wrote its last marker, or -1
 * @param currentTxnStartOffset the offset of the first batch of its ongoing transaction here, or -1 when none is open
 */
public record ActiveProducer(long producerId, short producerEpoch, int lastSequence, long lastTimestamp,
                             int coordinatorEpoch, long currentTxnStartOffset) {
}
