package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.CloseableIterator;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;

/**
 * One compaction of one partition, as Kafka's log cleaner does it.
 *
 * <ol>
 *   <li>Read the dirty segments (from the cleaner checkpoint on) and note, for every key, the highest offset it has
 *       there. When the keys do not fit the memory given, stop at a segment boundary: that is where this pass ends
 *       and the next begins.</li>
 *   <li>Rewrite every segment from the start of the log to that end, in groups of adjacent segments that fit one
 *       segment together ({@code segment.bytes}), each group into one compacted segment named by its first base
 *       offset and sealed under a fresh data key (its batches are opened from the old frames, filtered, and sealed
 *       again). A record survives when no later offset of its key was noted; a tombstone also needs its batch's delete
 *       horizon not to have passed. The first compaction that keeps a tombstone sets that horizon to now plus
 *       {@code delete.retention.ms} (KIP-534: kafka-clients' {@link MemoryRecords#filterTo} writes it into the
 *       rewritten batch, whose base offset, last offset, producer id, epoch and base sequence stay as they were). A
 *       batch that loses all its records goes, unless it is the newest batch of an idempotent producer the partition
 *       still knows: it stays as an empty batch, so the producer state rebuilt from the log after a restart keeps
 *       that producer's epoch and last sequence (producer snapshots, taken at rolls, stay valid: compaction changes no
 *       producer's state; one sealed under the key of a segment compaction replaced no longer opens, and the start
 *       falls back to an older snapshot or to the log). Records without a key cannot be produced to a compacted topic; ones written before the
 *       topic became compacted are dropped, as Kafka does.</li>
 *   <li>Swap each compacted segment in ({@link SegmentSwap}); a group that came out unchanged (one segment, nothing
 *       dropped, no horizon set) is left as it is.</li>
 *   <li>Move the cleaner checkpoint to the end of the pass.</li>
 * </ol>
 *
 * <p>Transactions, as Kafka's cleaner treats them ({@link CleanedTransactions}). Only offsets below the last stable
 * offset are compacted, so every transaction met is decided. Aborted transactions' records are dropped, and their
 * keys are not noted (an aborted record must not hide a committed one of the same key). A marker is kept while
 * records of its transaction remain; once none do, it gets a delete horizon of now plus {@code delete.retention.ms}
 * (written into the batch as for tombstones) and goes at the first compaction after it, so a consumer that read the
 * transaction's records within that time still reads its marker. As in Kafka, the emptied batch kept for a known
 * producer's state counts as a batch of its transaction, so its marker stays as long as that batch does: a restart
 * that replays the batch must find the marker that ends its transaction. The ABORT markers kept are listed in the
 * compacted segment's transaction index.
 */
final class Compaction {

    private static final Logger LOG = LoggerFactory.getLogger(Compaction.class);

    /** How many bytes of batches are read at once. */
    private static final int READ_CHUNK = 1 << 20;
    /** What a key costs in the offset map besides its own bytes (entry, boxed offset, buffer object). */
    private static final int KEY_OVERHEAD = 96;

    /** What a pass did. */
    record Result(long endOffset, int segmentsRead, long bytesRead, int segmentsWritten, long bytesWritten,
                  long recordsRead, long recordsKept) {
    }

    private final PartitionLog log;
    private final LogCleaner.Plan plan;
    private final LogConfig config;
    private final long now;
    private final long keyMemory;
    private final BooleanSupplier stopping;
    private final SegmentSwap.StepListener listener;
    private final Map<ByteBuffer, Long> latestOffsets = new HashMap<>();
    private final BufferSupplier decompression = BufferSupplier.create();
    private long keyBytes;

    Compaction(PartitionLog log, LogCleaner.Plan plan, long now, long keyMemory, BooleanSupplier stopping,
               SegmentSwap.StepListener listener) {
        this.log = log;
        this.plan = plan;
        this.config = plan.view().config();
        this.now = now;
        this.keyMemory = keyMemory;
        this.stopping = stopping;
        this.listener = listener;
    }

    /**
     * Runs the pass.
     *
     * @return what it did, or empty when it was abandoned (the cleaner stops, or retention, a topic deletion or a
     *         close changed the log under it); segments swapped in before that stay, the checkpoint does not move
     */
    Optional<Result> run() throws IOException {
        try {
            return compact();
        } catch (IOException | RuntimeException e) {
            if (!log.holdsSegments(plan.cleanable())) {
                LOG.debug("{}: compaction abandoned, the log changed under it: {}", log.id(), e.toString());
                return Optional.empty();
            }
            throw e;
        } finally {
            decompression.close();
        }
    }

    private Optional<Result> compact() throws IOException {
        List<Segment> cleanable = plan.cleanable();
        int end = plan.firstDirtyIndex();
        CleanedTransactions dirtyTransactions = new CleanedTransactions(end < cleanable.size()
                ? log.collectAbortedTransactions(cleanable.get(end).baseOffset, plan.firstUncleanableOffset())
                : List.of());
        while (end < cleanable.size()
                && noteKeys(cleanable.get(end), end == plan.firstDirtyIndex(), dirtyTransactions)) {
            if (stopping.getAsBoolean()) {
                return Optional.empty();
            }
            end++;
        }
        long endOffset = end < cleanable.size() ? cleanable.get(end).baseOffset : plan.firstUncleanableOffset();

        Filter filter = new Filter(new CleanedTransactions(
                log.collectAbortedTransactions(cleanable.get(0).baseOffset, endOffset)));
        ByteBuffer output = ByteBuffer.allocate(READ_CHUNK);
        int segmentsRead = 0;
        int segmentsWritten = 0;
        long bytesRead = 0;
        long bytesWritten = 0;
        for (List<Segment> group : groups(cleanable.subList(0, end))) {
            Segment compacted = Segment.createCompacted(log.dir(), group.get(0).baseOffset, log.sealing());
            filter.startGroup(compacted);
            boolean handedOver = false;
            try {
                for (Segment segment : group) {
                    output = rewrite(segment, compacted, filter, output);
                    if (output == null) {
                        return Optional.empty();
                    }
                }
                compacted.finishCompacted();
                segmentsRead += group.size();
                bytesRead += group.stream().mapToLong(Segment::dataSize).sum();
                if (!filter.changed && filter.batchesIn == filter.batchesOut && group.size() == 1) {
                    bytesWritten += group.get(0).dataSize();
                    continue;
                }
                handedOver = true; // from here on the log owns its files, even if the swap fails after its commit
                if (!log.replaceSegments(group, compacted, listener)) {
                    SegmentSwap.discard(compacted);
                    return Optional.empty();
                }
                segmentsWritten++;
                bytesWritten += compacted.dataSize();
            } finally {
                if (!handedOver) {
                    SegmentSwap.discard(compacted);
                }
            }
        }
        log.compactionDone(endOffset, filter.earliestHorizon);
        return Optional.of(new Result(endOffset, segmentsRead, bytesRead, segmentsWritten, bytesWritten,
                filter.recordsRead, filter.recordsKept));
    }

    /**
     * Notes the highest offset of every key of a dirty segment, leaving out aborted transactions' records.
     *
     * @param force whether to take the segment even if its keys overflow the memory (the first dirty segment always
     *              goes in, so every pass makes progress)
     * @return false, noting nothing, when its keys do not fit
     */
    private boolean noteKeys(Segment segment, boolean force, CleanedTransactions transactions) throws IOException {
        Map<ByteBuffer, Long> found = new HashMap<>();
        for (int position = segment.dataStart(); position < segment.size(); ) {
            Segment.Chunk read = segment.readBatches(position, READ_CHUNK);
            position += read.fileBytes();
            for (MutableRecordBatch batch : read.records().batches()) {
                if (batch.isControlBatch()) {
                    transactions.marker(batch);
                    continue;
                }
                if (transactions.isAborted(batch)) {
                    continue;
                }
                try (CloseableIterator<Record> records = batch.streamingIterator(decompression)) {
                    while (records.hasNext()) {
                        Record record = records.next();
                        if (record.hasKey()) {
                            found.put(copy(record.key()), record.offset());
                        }
                    }
                }
            }
        }
        long added = 0;
        for (ByteBuffer key : found.keySet()) {
            if (!latestOffsets.containsKey(key)) {
                added += key.remaining() + KEY_OVERHEAD;
            }
        }
        if (!force && keyBytes + added > keyMemory) {
            return false;
        }
        latestOffsets.putAll(found);
        keyBytes += added;
        return true;
    }

    private static ByteBuffer copy(ByteBuffer key) {
        byte[] bytes = new byte[key.remaining()];
        key.duplicate().get(bytes);
        return ByteBuffer.wrap(bytes);
    }

    /** Adjacent segments that fit one segment together, with relative offsets that fit 32 bits. */
    private List<List<Segment>> groups(List<Segment> segments) {
        List<List<Segment>> groups = new ArrayList<>();
        long maxBytes = (long) config.segmentBytes - Segment.HEADER_SIZE;
        int i = 0;
        while (i < segments.size()) {
            List<Segment> group = new ArrayList<>();
            Segment first = segments.get(i);
            long bytes = 0;
            do {
                group.add(segments.get(i));
                bytes += segments.get(i).dataSize();
                i++;
            } while (i < segments.size()
                    && bytes + segments.get(i).dataSize() <= maxBytes
                    && LogCleaner.nextBase(plan.cleanable(), i, plan.firstUncleanableOffset()) - 1 - first.baseOffset
                    <= Integer.MAX_VALUE);
            groups.add(group);
        }
        return groups;
    }

    /**
     * Filters every batch of {@code segment} into {@code compacted}.
     *
     * @return the output buffer to use next (it may have grown), or null when the cleaner stops
     */
    private ByteBuffer rewrite(Segment segment, Segment compacted, Filter filter, ByteBuffer output)
            throws IOException {
        for (int position = segment.dataStart(); position < segment.size(); ) {
            if (stopping.getAsBoolean()) {
                return null;
            }
            Segment.Chunk read = segment.readBatches(position, READ_CHUNK);
            position += read.fileBytes();
            MemoryRecords chunk = read.records();
            for (RecordBatch ignored : chunk.batches()) {
                filter.batchesIn++;
            }
            ByteBuffer input = chunk.buffer();
            while (input.hasRemaining()) {
                output.clear();
                MemoryRecords.FilterResult result = MemoryRecords.readableRecords(input.slice())
                        .filterTo(filter, output, decompression, config.maxMessageBytes);
                if (result.bytesRead() <= 0) {
                    throw new IllegalStateException("filtering made no progress at " + segment);
                }
                ByteBuffer written = result.outputBuffer();
                written.flip();
                appendAll(compacted, written, filter);
                input.position(input.position() + result.bytesRead());
                if (written != output) {
                    output = ByteBuffer.allocate(written.capacity()); // a batch grew: keep the larger size
                }
            }
        }
        return output;
    }

    private void appendAll(Segment compacted, ByteBuffer batches, Filter filter) throws IOException {
        int position = 0;
        while (position < batches.limit()) {
            BatchHeader header = BatchHeader.read(batches, position);
            ByteBuffer batch = batches.duplicate();
            batch.limit(position + header.sizeInBytes()).position(position);
            compacted.append(batch, header, config.indexIntervalBytes, config.segmentBytes);
            filter.batchesOut++;
            position += header.sizeInBytes();
        }
    }

    /** Decides, for filterTo, which batches and records survive. */
    private final class Filter extends MemoryRecords.RecordFilter {

        long recordsRead;
        long recordsKept;
        /** The earliest delete horizon of a tombstone kept, or -1. */
        long earliestHorizon = -1;
        /** Whether the current group loses anything or gains a delete horizon. */
        boolean changed;
        int batchesIn;
        int batchesOut;
        private final CleanedTransactions transactions;
        /** The compacted segment of the current group, whose transaction index lists the ABORT markers kept. */
        private Segment compacted;
        /** Whether the records of the batch being filtered all go (aborted data, or a marker past its horizon). */
        private boolean discardBatch;

        Filter(CleanedTransactions transactions) {
            super(now, Math.min(config.deleteRetentionMs, Long.MAX_VALUE - now)); // a horizon that cannot overflow
            this.transactions = transactions;
        }

        void startGroup(Segment compactedSegment) {
            compacted = compactedSegment;
            changed = false;
            batchesIn = 0;
            batchesOut = 0;
        }

        @Override
        protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
            boolean markerClosesNothing = false;
            if (batch.isControlBatch()) {
                CleanedTransactions.Marker marker = transactions.marker(batch);
                markerClosesNothing = marker.closesNothing();
                OptionalLong horizon = batch.deleteHorizonMs();
                discardBatch = markerClosesNothing && horizon.isPresent() && horizon.getAsLong() <= now;
                if (markerClosesNothing && !discardBatch) {
                    long kept = horizon.orElse(now + deleteRetentionMs);
                    if (horizon.isEmpty()) {
                        changed = true; // filterTo rewrites the marker with its delete horizon
                    }
                    earliestHorizon = earliestHorizon < 0 ? kept : Math.min(earliestHorizon, kept);
                }
                marker.indexEntry().ifPresent(compacted.transactionIndex()::append);
            } else {
                discardBatch = transactions.isAborted(batch);
            }
            Long producersLast = batch.hasProducerId() ? plan.view().producerLastBatch().get(batch.producerId()) : null;
            boolean keepForProducerState = producersLast != null && producersLast == batch.lastOffset();
            BatchRetention retention = keepForProducerState ? BatchRetention.RETAIN_EMPTY
                    : discardBatch ? BatchRetention.DELETE : BatchRetention.DELETE_EMPTY;
            return new BatchRetentionResult(retention, markerClosesNothing);
        }

        @Override
        protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
            recordsRead++;
            boolean keep = !discardBatch && retain(batch, record);
            if (keep) {
                recordsKept++;
            } else {
                changed = true;
            }
            return keep;
        }

        private boolean retain(RecordBatch batch, Record record) {
            if (batch.isControlBatch()) {
                return true;
            }
            if (!record.hasKey()) {
                return false;
            }
            Long latest = latestOffsets.get(record.key());
            if (latest != null && record.offset() < latest) {
                return false;
            }
            if (!record.hasValue()) {
                OptionalLong horizon = batch.deleteHorizonMs();
                if (horizon.isPresent() && horizon.getAsLong() <= now) {
                    return false;
                }
                long kept = horizon.orElse(now + deleteRetentionMs);
                if (horizon.isEmpty()) {
                    changed = true; // filterTo rewrites the batch with its delete horizon
                }
                earliestHorizon = earliestHorizon < 0 ? kept : Math.min(earliestHorizon, kept);
            }
            return true;
        }
    }
}
