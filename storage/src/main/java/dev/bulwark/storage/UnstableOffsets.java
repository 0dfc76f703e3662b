package dev.bulwark.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Where a partition's first unstable offset lies: the first batch of the oldest transaction that is still open, or
 * whose marker is not yet below the high watermark. Kafka keeps a completed transaction unstable until the high
 * watermark passes its marker (its "unreplicated" transactions); here the high watermark is the fsynced end under
 * {@link FlushPolicy#DURABLE}, so a READ_COMMITTED consumer never reads a transaction whose marker a crash could
 * take away.
 *
 * <p>Threads: {@link #begin} and {@link #complete} run under the partition's append lock; {@link #firstUnstable} runs
 * on fetch threads without a lock and allocates nothing: it reads two published values.
 */
final class UnstableOffsets {

    /** A completed transaction whose marker the high watermark had not passed when it was written. */
    private record Completing(PartitionLog.Position first, long markerOffset) {
    }

    private static final Completing[] NONE = new Completing[0];

    /** The open transactions' first batches, by offset; guarded by the append lock. */
    private final TreeMap<Long, PartitionLog.Position> open = new TreeMap<>();
    private volatile PartitionLog.Position firstOpen;
    private volatile Completing[] completing = NONE;

    /** A transaction began with the batch at {@code first}. */
    void begin(PartitionLog.Position first) {
        open.put(first.offset(), first);
        firstOpen = open.firstEntry().getValue();
    }

    /** The transaction that began at {@code firstOffset} ended with the marker at {@code markerOffset}. */
    void complete(long firstOffset, long markerOffset, long highWatermark) {
        PartitionLog.Position first = open.remove(firstOffset);
        firstOpen = open.isEmpty() ? null : open.firstEntry().getValue();
        List<Completing> kept = new ArrayList<>(completing.length + 1);
        for (Completing c : completing) {
            if (c.markerOffset() >= highWatermark) {
                kept.add(c);
            }
        }
        if (first != null && markerOffset >= highWatermark) {
            kept.add(new Completing(first, markerOffset));
        }
        completing = kept.isEmpty() ? NONE : kept.toArray(NONE);
    }

    /** The first batch of the oldest unstable transaction given the high watermark, or null when there is none. */
    PartitionLog.Position firstUnstable(long highWatermark) {
        PartitionLog.Position first = firstOpen;
        for (Completing c : completing) {
            if (c.markerOffset() >= highWatermark && (first == null || c.first().offset() < first.offset())) {
                first = c.first();
            }
        }
        return first;
    }
}
