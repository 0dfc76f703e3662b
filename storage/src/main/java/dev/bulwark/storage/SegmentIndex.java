package dev.bulwark.storage;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * The sparse offset and time index of one segment, kept in memory and written beside the segment when it is sealed.
 *
 * <p>An entry is taken at the start of a batch once {@code index.interval.bytes} of batches have passed since the
 * previous entry. It records the batch's base offset (relative to the segment), its file position, and the largest
 * timestamp of every batch before it in the segment. So both lookups find a position from which a short forward scan
 * of batch headers reaches the answer: the offset lookup starts at the last entry at or below the target offset, the
 * time lookup at the last entry all of whose predecessors are older than the target timestamp.
 *
 * <p>File format: a {@link MetadataFile} of version 2 whose payload is sealed under the segment's data key
 * ({@link PartitionSealing#sealPayload}, kind {@value #SEALED_KIND}), since the timestamps are record content; the
 * sealed plaintext is:
 * <pre>
 * i32 entry count, then per entry: i32 relative offset, i32 position, i64 largest earlier timestamp
 * i32 segment size the index covers, i64 next offset, i64 largest timestamp, i64 base offset of its batch,
 * i64 first batch's largest timestamp (segment.ms roll anchor)
 * </pre>
 * Version 1 held that plaintext in the clear; it is ignored (the index is rebuilt).
 */
final class SegmentIndex {

    static final int FILE_MAGIC = 0x42574958; // "BWIX"
    static final byte FILE_VERSION = 2;
    static final String SEALED_KIND = "segment-index";

    private int[] relativeOffsets = new int[16];
    private int[] positions = new int[16];
    private long[] earlierMaxTimestamps = new long[16];
    private int count;

    synchronized void append(int relativeOffset, int position, long earlierMaxTimestamp) {
        if (count == positions.length) {
            int grown = count * 2;
            relativeOffsets = Arrays.copyOf(relativeOffsets, grown);
            positions = Arrays.copyOf(positions, grown);
            earlierMaxTimestamps = Arrays.copyOf(earlierMaxTimestamps, grown);
        }
        relativeOffsets[count] = relativeOffset;
        positions[count] = position;
        earlierMaxTimestamps[count] = earlierMaxTimestamp;
        count++;
    }

    synchronized int entries() {
        return count;
    }

    /** Position of the last entry whose batch starts at or before {@code relativeOffset}, or {@code fallback}. */
    synchronized int floorPositionForOffset(int relativeOffset, int fallback) {
        int lo = 0;
        int hi = count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (relativeOffsets[mid] <= relativeOffset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? fallback : positions[found];
    }

    /** Position of the last entry all of whose earlier batches are older than {@code timestamp}, or {@code fallback}. */
    synchronized int floorPositionForTimestamp(long timestamp, int fallback) {
        int lo = 0;
        int hi = count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (earlierMaxTimestamps[mid] < timestamp) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? fallback : positions[found];
    }

    /** Drops entries at or after {@code position} (the segment was truncated there). */
    synchronized void truncateToPosition(int position) {
        while (count > 0 && positions[count - 1] >= position) {
            count--;
        }
    }

    /** What a segment knows of itself besides its index, saved with it so a sealed segment opens without a scan. */
    record Summary(int size, long nextOffset, long maxTimestamp, long maxTimestampBatchOffset, long rollTimestamp) {
    }

    /** The file payload: the entries and the summary, before the segment seals it. */
    synchronized byte[] encode(Summary summary) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + count * 16 + 4 + 8 * 4);
        buffer.putInt(count);
        for (int i = 0; i < count; i++) {
            buffer.putInt(relativeOffsets[i]).putInt(positions[i]).putLong(earlierMaxTimestamps[i]);
        }
        buffer.putInt(summary.size()).putLong(summary.nextOffset()).putLong(summary.maxTimestamp())
                .putLong(summary.maxTimestampBatchOffset()).putLong(summary.rollTimestamp());
        return buffer.array();
    }

    /**
     * Decodes a payload written by {@link #encode}; empty when it is malformed or does not describe a segment of
     * {@code segmentSize} bytes (the caller then rebuilds the index from the segment).
     */
    static Optional<Loaded> decode(ByteBuffer buffer, int segmentSize) {
        if (buffer.remaining() < 4) {
            return Optional.empty();
        }
        int n = buffer.getInt();
        if (n < 0 || buffer.remaining() != n * 16 + 36) {
            return Optional.empty();
        }
        SegmentIndex index = new SegmentIndex();
        for (int i = 0; i < n; i++) {
            index.append(buffer.getInt(), buffer.getInt(), buffer.getLong());
        }
        Summary summary = new Summary(buffer.getInt(), buffer.getLong(), buffer.getLong(), buffer.getLong(),
                buffer.getLong());
        if (summary.size() != segmentSize) {
            return Optional.empty();
        }
        return Optional.of(new Loaded(index, summary));
    }

    record Loaded(SegmentIndex index, Summary summary) {
    }
}
