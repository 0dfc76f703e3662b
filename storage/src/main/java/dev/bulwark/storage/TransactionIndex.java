package dev.bulwark.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The aborted transactions whose ABORT marker lies in one segment, in marker order: what a READ_COMMITTED fetch needs
 * to tell consumers which records to skip (Kafka's transaction index).
 *
 * <p>Like the {@link SegmentIndex}, it is kept in memory and written beside the segment when the segment is sealed;
 * entries appended since (the active segment's) are rebuilt after an unclean stop by replaying the batches after the
 * producer snapshot ({@link LogLoader}). The file says up to which offset it is complete, so an index written at a
 * clean close of the active segment still serves after more batches were appended to that segment.
 *
 * <p>Threads: entries are appended under the partition's append lock; readers take a published copy of the array and
 * its count without a lock.
 *
 * <p>File format ({@link MetadataFile} payload, version 1), ids and offsets only:
 * <pre>
 * i64 complete-up-to offset (every ABORT marker of the segment below it is listed)
 * i32 entry count, then per entry: i64 producer id, i64 first offset, i64 last offset (the marker's),
 * i64 last stable offset when the transaction completed
 * </pre>
 */
final class TransactionIndex {

    static final int FILE_MAGIC = 0x42575458; // "BWTX"
    static final byte FILE_VERSION = 1;
    private static final int ENTRY_BYTES = 32;

    /** The entries and how many of them are valid, published together. */
    private record Entries(AbortedTransaction[] items, int count) {
    }

    private volatile Entries entries = new Entries(new AbortedTransaction[0], 0);
    private long completeUpTo;

    /** @param completeUpTo the offset below which every ABORT marker of the segment is listed */
    TransactionIndex(long completeUpTo) {
        this.completeUpTo = completeUpTo;
    }

    /** Adds the entry of an ABORT marker written after every marker listed. */
    void append(AbortedTransaction aborted) {
        Entries current = entries;
        AbortedTransaction[] items = current.items();
        if (current.count() == items.length) {
            items = Arrays.copyOf(items, Math.max(4, items.length * 2));
        }
        items[current.count()] = aborted;
        entries = new Entries(items, current.count() + 1);
    }

    /**
     * Adds the entry of a marker found while replaying the log after a restart, unless the loaded file already
     * listed it.
     */
    void replayed(AbortedTransaction aborted) {
        if (aborted.lastOffset() >= completeUpTo) {
            append(aborted);
        }
    }

    /** The offset below which every ABORT marker of the segment is listed. */
    long completeUpTo() {
        return completeUpTo;
    }

    /** Records that the segment's markers below {@code offset} are all listed (its batches were replayed). */
    void completeUpTo(long offset) {
        completeUpTo = Math.max(completeUpTo, offset);
    }

    int size() {
        return entries.count();
    }

    List<AbortedTransaction> all() {
        Entries current = entries;
        return List.of(Arrays.copyOf(current.items(), current.count()));
    }

    /**
     * Adds to {@code into} the entries of transactions that overlap [{@code fetchOffset}, {@code upperBoundOffset}).
     *
     * @return true when no later marker can belong to a transaction overlapping that range (an entry's last stable
     *         offset reached the upper bound), so the search is complete
     */
    boolean collect(long fetchOffset, long upperBoundOffset, List<AbortedTransaction> into) {
        Entries current = entries;
        for (int i = 0; i < current.count(); i++) {
            AbortedTransaction aborted = current.items()[i];
            if (aborted.lastOffset() >= fetchOffset && aborted.firstOffset() < upperBoundOffset) {
                into.add(aborted);
            }
            if (aborted.lastStableOffset() >= upperBoundOffset) {
                return true;
            }
        }
        return false;
    }

    void write(Path path) throws IOException {
        Entries current = entries;
        ByteBuffer buffer = ByteBuffer.allocate(12 + current.count() * ENTRY_BYTES);
        buffer.putLong(completeUpTo).putInt(current.count());
        for (int i = 0; i < current.count(); i++) {
            AbortedTransaction a = current.items()[i];
            buffer.putLong(a.producerId()).putLong(a.firstOffset()).putLong(a.lastOffset())
                    .putLong(a.lastStableOffset());
        }
        MetadataFile.write(path, FILE_MAGIC, FILE_VERSION, buffer.array());
    }

    /**
     * Loads the index of a segment whose batches end at {@code segmentNextOffset}. Entries at or past that offset (a
     * truncated tail) are dropped. A missing or unreadable file gives an index complete up to {@code baseOffset}
     * only, which the caller rebuilds by replaying the segment.
     */
    static TransactionIndex read(Path path, long baseOffset, long segmentNextOffset) {
        try {
            var content = MetadataFile.read(path, FILE_MAGIC);
            if (content.isEmpty() || content.get().version() != FILE_VERSION) {
                return new TransactionIndex(baseOffset);
            }
            ByteBuffer buffer = content.get().payload();
            long upTo = buffer.getLong();
            int n = buffer.getInt();
            if (n < 0 || buffer.remaining() != n * ENTRY_BYTES) {
                return new TransactionIndex(baseOffset);
            }
            TransactionIndex index = new TransactionIndex(Math.min(Math.max(upTo, baseOffset), segmentNextOffset));
            List<AbortedTransaction> kept = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                AbortedTransaction a = new AbortedTransaction(buffer.getLong(), buffer.getLong(), buffer.getLong(),
                        buffer.getLong());
                if (a.lastOffset() < index.completeUpTo) {
                    kept.add(a);
                }
            }
            kept.forEach(index::append);
            return index;
        } catch (IOException e) {
            return new TransactionIndex(baseOffset);
        }
    }
}
