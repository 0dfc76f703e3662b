package dev.bulwark.storage;

import java.util.List;

/**
 * What must survive a restart about a partition besides its files: where recovery starts (everything below was
 * fsynced), the log start offset (DeleteRecords and retention), corrupt stretches found by an earlier recovery, and
 * the log cleaner's progress.
 *
 * @param firstDirtyOffset the cleaner checkpoint: offsets below it were compacted (each key's latest value among them
 *                         survives); the cleaner starts looking for newer values here
 * @param deleteHorizonMs  the earliest time at which a tombstone kept by compaction may be removed, or -1 for none;
 *                         the cleaner runs then even when little is dirty
 */
record PartitionCheckpoint(long recoveryPoint, long logStartOffset, List<SegmentRange> corruptRanges,
                           long firstDirtyOffset, long deleteHorizonMs) {

    /** A corrupt range and the segment it lies in. */
    record SegmentRange(long segmentBase, Segment.CorruptRange range) {
    }

    static final PartitionCheckpoint NONE = new PartitionCheckpoint(0, 0, List.of(), 0, -1);
}
