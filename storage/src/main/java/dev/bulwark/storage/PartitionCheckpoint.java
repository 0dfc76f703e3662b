package dev.bulwark.storage;

import java.util.List;

/**
 * What must survive a restart about a partition besides its files: where recovery starts (everything below was
 * fsynced), the log start offset (DeleteRecords and retention), and corrupt stretches found by an earlier recovery.
 */
record PartitionCheckpoint(long recoveryPoint, long logStartOffset, List<SegmentRange> corruptRanges) {

    /** A corrupt range and the segment it lies in. */
    record SegmentRange(long segmentBase, Segment.CorruptRange range) {
    }

    static final PartitionCheckpoint NONE = new PartitionCheckpoint(0, 0, List.of());
}
