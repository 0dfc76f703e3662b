package dev.bulwark.storage;

/**
 * Where an append landed.
 *
 * @param firstOffset    offset of the first record appended (or of the original append, for a duplicate)
 * @param lastOffset     offset of the last record
 * @param logAppendTime  the broker time stamped on the batches for LogAppendTime topics, else -1
 * @param logStartOffset the log start offset after the append
 * @param duplicate      whether this was a producer's retry of a batch already in the log
 */
public record AppendResult(long firstOffset, long lastOffset, long logAppendTime, long logStartOffset,
                           boolean duplicate) {
}
