package dev.bulwark.storage;

import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The log of one partition: an ordered run of segments, the offsets that bound it, and its producers' state.
 *
 * <p>Threads: appends, rolls, retention and the swap of compacted segments take the append lock; reads take no lock
 * and are bounded by positions published after the bytes they cover were written; flushes run on the
 * {@link FlushScheduler}'s threads, compaction on the {@link LogCleaner}'s. The high
 * watermark, what consumers may read and what acks=all waits for, is the fsynced end of the log under
 * {@link FlushPolicy#DURABLE} and the written end under {@link FlushPolicy#PAGE_CACHE}.
 *
 * <p>Transactions. Producers write transactional batches; the transaction coordinator ends each transaction with a
 * marker ({@link #appendControl}). The last stable offset, below which READ_COMMITTED consumers read, is the high
 * watermark or the first batch of the oldest transaction not yet decided below it ({@link UnstableOffsets}),
 * whichever is lower. Aborted transactions are listed in their marker's segment ({@link TransactionIndex}) so that a
 * fetch can tell consumers what to skip ({@link #collectAbortedTransactions}).
 */
public final class PartitionLog {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionLog.class);

    /** Bulwark has one replica per partition and never changes leader, so every partition stays in epoch 0. */
    public static final int LEADER_EPOCH = 0;

    static final String SNAPSHOT_SUFFIX = ".snapshot";
    /** The kind of payload a producer snapshot is sealed as ({@link PartitionSealing}). */
    static final String SNAPSHOT_KIND = "producer-snapshot";
    private static final int SNAPSHOTS_KEPT = 2;

    /** A point in the log: an offset and where the batch starting there would begin. */
    record Position(long offset, long segmentBase, int position) {
    }

    /**
     * What a partition tells the broker as it happens: a higher high watermark, an fsync done, and what it found
     * wrong. Called on the thread that saw it happen (a request or flush thread): implementations return quickly.
     */
    public interface Listener {
        void highWatermarkAdvanced(PartitionLog log);

        /** Appended data was forced to stable storage, which took {@code nanos}. */
        default void flushed(PartitionLog log, long nanos) {
        }

        /** A read found a frame unfit to serve (changed, moved, replayed): it is fenced, never served. */
        default void corruptionFenced(PartitionLog log, String where) {
        }

        /** The partition went offline: it serves nothing until restart. */
        default void wentOffline(PartitionLog log, String reason) {
        }

        /** One listener telling each of {@code listeners} everything, in order. */
        static Listener all(List<Listener> listeners) {
            List<Listener> each = List.copyOf(listeners);
            return new Listener() {
                @Override
                public void highWatermarkAdvanced(PartitionLog log) {
                    each.forEach(l -> l.highWatermarkAdvanced(log));
                }

                @Override
                public void flushed(PartitionLog log, long nanos) {
                    each.forEach(l -> l.flushed(log, nanos));
                }

                @Override
                public void corruptionFenced(PartitionLog log, String where) {
                    each.forEach(l -> l.corruptionFenced(log, where));
                }

                @Override
                public void wentOffline(PartitionLog log, String reason) {
                    each.forEach(l -> l.wentOffline(log, reason));
                }
            };
        }
    }

    /** Disposes of segments that left the log, after a delay so reads in progress finish. */
    interface SegmentReaper {
        void retire(Segment segment, long delayMs);
    }

    private record Waiter(long offset, CompletableFuture<Void> future) {
    }

    private final PartitionId id;
    private final Path dir;
    private final PartitionSealing sealing;
    private final Clock clock;
    private final FlushPolicy flushPolicy;
    private final FlushScheduler flushScheduler;
    private final Listener listener;
    private final SegmentReaper reaper;
    private final ConcurrentSkipListMap<Long, Segment> segments;
    private final ProducerStateManager producers;
    private final UnstableOffsets unstable;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final Object flushLock = new Object();
    /** Pending {@link #awaitHighWatermark} calls by offset: all the high watermark passed are found, in any order. */
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::offset));
    private final AtomicBoolean flushQueued = new AtomicBoolean();

    private volatile LogConfig config;
    private volatile long logStartOffset;
    private volatile Position end;
    private volatile Position durable;
    private volatile String offlineReason;
    private volatile boolean closed;
    /** The cleaner checkpoint: offsets below it are compacted. */
    private volatile long firstDirtyOffset;
    /** When the earliest tombstone kept by compaction may go, or -1. */
    private volatile long deleteHorizonMs;
    private boolean corruptionSkipLogged;
    /**
     * Counts the changes compaction makes to the segment map; odd while one is under way. A lookup that walks the map
     * from segment to segment repeats when a swap overlapped it, or it could step from a replaced segment past the
     * compacted one that took the place of those after it.
     */
    private volatile long segmentSwaps;

    /**
     * @param offlineReason when not null, the partition starts offline: it serves nothing and takes no appends (a
     *                      segment's data key did not open)
     */
    PartitionLog(PartitionId id, Path dir, PartitionSealing sealing, LogConfig config, Clock clock,
                 FlushPolicy flushPolicy, FlushScheduler flushScheduler, Listener listener,
                 SegmentReaper reaper, ConcurrentSkipListMap<Long, Segment> segments, ProducerStateManager producers,
                 UnstableOffsets unstable, long logStartOffset, long firstDirtyOffset, long deleteHorizonMs,
                 String offlineReason) {
        this.id = id;
        this.dir = dir;
        this.sealing = sealing;
        this.offlineReason = offlineReason;
        this.config = config;
        this.clock = clock;
        this.flushPolicy = flushPolicy;
        this.flushScheduler = flushScheduler;
        this.listener = listener;
        this.reaper = reaper;
        this.segments = segments;
        this.producers = producers;
        this.unstable = unstable;
        Segment active = segments.lastEntry().getValue();
        this.end = new Position(active.nextOffset(), active.baseOffset, active.size());
        this.durable = end;
        this.logStartOffset = Math.max(logStartOffset, segments.firstKey());
        this.firstDirtyOffset = firstDirtyOffset;
        this.deleteHorizonMs = deleteHorizonMs;
    }

    public PartitionId id() {
        return id;
    }

    Path dir() {
        return dir;
    }

    PartitionSealing sealing() {
        return sealing;
    }

    public LogConfig config() {
        return config;
    }

    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return end.offset();
    }

    /** The offset below which records are visible to consumers and acknowledged to acks=all producers. */
    public long highWatermark() {
        return highWatermarkPosition().offset();
    }

    /** The fsynced end of the log: what survives a crash, and where recovery starts. */
    public long recoveryPoint() {
        return durable.offset();
    }

    private Position highWatermarkPosition() {
        return flushPolicy == FlushPolicy.DURABLE ? durable : end;
    }

    /**
     * The offset below which READ_COMMITTED consumers read: the high watermark, or the first offset of the oldest
     * transaction that is open or whose marker is not yet below the high watermark, whichever is lower (never below
     * the log start offset).
     */
    public long lastStableOffset() {
        return stablePosition(highWatermarkPosition()).offset();
    }

    /** The last stable offset's position, given the high watermark's. */
    private Position stablePosition(Position hw) {
        Position first = unstable.firstUnstable(hw.offset());
        if (first == null || first.offset() >= hw.offset()) {
            return hw;
        }
        long start = logStartOffset;
        // A transaction whose first batches were deleted holds the stable offset at the log start: nothing is read.
        return first.offset() >= start ? first : new Position(start, first.segmentBase(), first.position());
    }

    public long sizeInBytes() {
        long total = 0;
        for (Segment segment : segments.values()) {
            total += segment.dataSize();
        }
        return total;
    }

    public int segmentCount() {
        return segments.size();
    }

    // ---------------------------------------------------------------- append

    /**
     * Validates and appends a producer's batches, assigning offsets (and LogAppendTime timestamps).
     *
     * @throws org.apache.kafka.common.errors.ApiException with Kafka's error for invalid batches, stale producer
     *                                                     epochs, sequence gaps, or a storage failure
     */
    public AppendResult append(MemoryRecords records) {
        long now = clock.millis();
        LogConfig cfg = config;
        List<BatchValidator.ValidBatch> batches = BatchValidator.validate(records, cfg, now);
        if (batches.isEmpty()) {
            return new AppendResult(-1, -1, -1, logStartOffset, false);
        }
        boolean logAppendTime = cfg.timestampType == TimestampType.LOG_APPEND_TIME;
        long firstOffset;
        long lastOffset;
        appendLock.lock();
        try {
            ensureWritable();
            Optional<ProducerStateManager.CachedBatch> duplicate = producers.check(batches.get(0).header());
            if (duplicate.isPresent()) {
                return new AppendResult(duplicate.get().firstOffset(), duplicate.get().lastOffset(), -1, logStartOffset,
                        true);
            }
            firstOffset = end.offset();
            lastOffset = firstOffset - 1;
            ByteBuffer buffer = records.buffer();
            for (BatchValidator.ValidBatch valid : batches) {
                BatchHeader header = valid.header();
                long base = end.offset();
                long batchTime = logAppendTime ? now : header.maxTimestamp();
                Segment active = maybeRoll(Frame.sizeOf(header.sizeInBytes()), batchTime,
                        base + header.lastOffsetDelta(), cfg);
                MutableRecordBatch batch = valid.batch();
                batch.setLastOffset(base + header.lastOffsetDelta());
                batch.setPartitionLeaderEpoch(LEADER_EPOCH);
                if (logAppendTime) {
                    batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, now);
                }
                BatchHeader stored = header.assigned(base, batchTime);
                ByteBuffer bytes = buffer.duplicate();
                bytes.limit(valid.position() + header.sizeInBytes()).position(valid.position());
                int position = active.size();
                active.append(bytes, stored, cfg.indexIntervalBytes, cfg.segmentBytes);
                if (producers.update(stored)) {
                    unstable.begin(new Position(base, active.baseOffset, position));
                }
                end = new Position(stored.nextOffset(), active.baseOffset, active.size());
                lastOffset = stored.lastOffset();
            }
        } catch (IOException e) {
            throw goOffline("append failed", e);
        } finally {
            appendLock.unlock();
        }
        appended();
        return new AppendResult(firstOffset, lastOffset, logAppendTime ? now : -1, logStartOffset, false);
    }

    /** After an append: the high watermark moves now, or after the fsync that covers it. */
    private void appended() {
        if (flushPolicy == FlushPolicy.PAGE_CACHE) {
            completeWaiters();
            listener.highWatermarkAdvanced(this);
        } else {
            flushScheduler.request(this);
        }
    }

    /**
     * Writes the end-transaction marker the transaction coordinator sends (WriteTxnMarkers): a control batch of one
     * COMMIT or ABORT record, which ends the producer's ongoing transaction here. An ABORT is listed in the transaction
     * index, so READ_COMMITTED fetches tell consumers to skip the transaction's records. A marker for a producer with
     * no ongoing transaction here is written too (the coordinator sends one to every partition of the transaction).
     * Like a produce, the marker is decided once the high watermark passes it ({@link #awaitHighWatermark}).
     *
     * @param timestamp the marker's timestamp (the broker's time under LogAppendTime)
     * @return the marker's offset as first and last offset
     * @throws org.apache.kafka.common.errors.InvalidProducerEpochException         when {@code producerEpoch} is older
     *                                                                              than the producer's
     * @throws org.apache.kafka.common.errors.TransactionCoordinatorFencedException when {@code coordinatorEpoch} is
     *                                                                              older than the last marker's
     * @throws IllegalArgumentException                                             for another control type
     */
    public AppendResult appendControl(long producerId, short producerEpoch, ControlRecordType type,
                                      int coordinatorEpoch, long timestamp) {
        if (type != ControlRecordType.COMMIT && type != ControlRecordType.ABORT) {
            throw new IllegalArgumentException("An end-transaction marker is COMMIT or ABORT, not " + type);
        }
        long now = clock.millis();
        LogConfig cfg = config;
        boolean logAppendTime = cfg.timestampType == TimestampType.LOG_APPEND_TIME;
        long offset;
        appendLock.lock();
        try {
            ensureWritable();
            producers.checkMarker(producerId, producerEpoch, coordinatorEpoch);
            offset = end.offset();
            MemoryRecords marker = MemoryRecords.withEndTransactionMarker(offset, timestamp, LEADER_EPOCH, producerId,
                    producerEpoch, new EndTransactionMarker(type, coordinatorEpoch));
            if (logAppendTime) {
                marker.batches().iterator().next().setMaxTimestamp(TimestampType.LOG_APPEND_TIME, now);
            }
            BatchHeader header = BatchHeader.read(marker.buffer(), 0);
            Segment active = maybeRoll(Frame.sizeOf(header.sizeInBytes()), header.maxTimestamp(), offset, cfg);
            active.append(marker.buffer(), header, cfg.indexIntervalBytes, cfg.segmentBytes);
            Optional<ProducerStateManager.CompletedTransaction> completed = producers.completeTransaction(producerId,
                    producerEpoch, coordinatorEpoch, offset, header.maxTimestamp(), type == ControlRecordType.ABORT);
            if (completed.isPresent()) {
                ProducerStateManager.CompletedTransaction done = completed.get();
                if (done.aborted()) {
                    active.transactionIndex().append(new AbortedTransaction(producerId,
                            done.firstOffset(), offset, done.lastStableOffset()));
                }
                unstable.complete(done.firstOffset(), offset, highWatermark());
            }
            end = new Position(header.nextOffset(), active.baseOffset, active.size());
        } catch (IOException e) {
            throw goOffline("marker append failed", e);
        } finally {
            appendLock.unlock();
        }
        appended();
        return new AppendResult(offset, offset, logAppendTime ? now : -1, logStartOffset, false);
    }

    /**
     * Kafka's roll rule: the batch would overflow segment.bytes, or lies segment.ms (on compacted topics at most
     * max.compaction.lag.ms) after the segment's first. A segment whose data key has sealed in every incarnation rolls
     * too (see {@link dev.bulwark.storage.crypto.SegmentNonce}).
     */
    private Segment maybeRoll(int frameSize, long batchTimestamp, long lastOffset, LogConfig cfg) throws IOException {
        Segment active = segments.lastEntry().getValue();
        if (active.isEmpty()) {
            return active;
        }
        boolean full = (long) active.size() + frameSize > cfg.segmentBytes;
        boolean old = active.rollTimestamp() >= 0 && batchTimestamp - active.rollTimestamp() > cfg.maxSegmentMs();
        if (!full && !old && active.canHoldOffset(lastOffset) && active.canSealAgain()) {
            return active;
        }
        return roll();
    }

    /** Seals the active segment and starts a new one at the log end. Called under the append lock. */
    private Segment roll() throws IOException {
        Segment active = segments.lastEntry().getValue();
        long next = end.offset();
        active.seal();
        Segment fresh = Segment.create(dir, next, sealing);
        segments.put(next, fresh);
        end = new Position(next, next, fresh.size());
        writeProducerSnapshot(next);
        LOG.debug("{}: rolled to a new segment at offset {}", id, next);
        return fresh;
    }

    /** Writes a producer snapshot sealed under the data key of the segment holding {@code offset}. */
    private void writeProducerSnapshot(long offset) throws IOException {
        producers.writeSnapshot(dir.resolve(Segment.fileName(offset) + SNAPSHOT_SUFFIX), offset,
                segments.floorEntry(offset).getValue().payloadSeal(SNAPSHOT_KIND, offset));
        List<Path> snapshots = LogLoader.snapshotFiles(dir);
        for (int i = 0; i < snapshots.size() - SNAPSHOTS_KEPT; i++) {
            java.nio.file.Files.deleteIfExists(snapshots.get(i));
        }
    }

    // ---------------------------------------------------------------- durability

    /**
     * Completes once the high watermark has passed {@code offset}: at once under {@link FlushPolicy#PAGE_CACHE},
     * after the fsync that covers it under {@link FlushPolicy#DURABLE}. Fails if the partition goes offline or is
     * closed first.
     */
    public CompletableFuture<Void> awaitHighWatermark(long offset) {
        if (highWatermark() > offset) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (waiters) {
            waiters.add(new Waiter(offset, future));
        }
        String reason = offlineReason;
        if (closed || reason != null) {
            // Checked after registering, so a close or failure that drained the waiters before this one fails it too.
            failWaiters(new KafkaStorageException("Partition " + id
                    + (closed ? " is closed" : " is offline: " + reason)));
            return future;
        }
        flushScheduler.request(this);
        completeWaiters();
        return future;
    }

    /** Forces everything appended so far to stable storage now, on the caller's thread. */
    public void sync() {
        flush();
        ensureReadable();
    }

    boolean markFlushQueued() {
        return flushQueued.compareAndSet(false, true);
    }

    void clearFlushQueued() {
        flushQueued.set(false);
    }

    /** Forces everything appended so far to stable storage; run by the {@link FlushScheduler}. */
    void flush() {
        boolean advanced = false;
        long flushNanos = 0;
        synchronized (flushLock) {
            Position target = end;
            if (target.offset() > durable.offset()) {
                long started = System.nanoTime();
                try {
                    for (Segment segment : segments.subMap(durable.segmentBase(), true, target.segmentBase(), true)
                            .values()) {
                        segment.flush();
                    }
                } catch (IOException e) {
                    if (!closed) {
                        goOffline("fsync failed", e);
                    }
                    return;
                }
                durable = target;
                advanced = true;
                flushNanos = System.nanoTime() - started;
            }
        }
        completeWaiters();
        if (advanced) {
            listener.flushed(this, flushNanos);
            if (flushPolicy == FlushPolicy.DURABLE) {
                listener.highWatermarkAdvanced(this);
            }
        }
    }

    boolean hasUnflushedData() {
        return end.offset() > durable.offset();
    }

    private void completeWaiters() {
        long hw = highWatermark();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        synchronized (waiters) {
            while (!waiters.isEmpty() && waiters.peek().offset() < hw) {
                done.add(waiters.poll().future());
            }
        }
        done.forEach(f -> f.complete(null));
    }

    // ---------------------------------------------------------------- reads

    /** What a fetch of this partition returns. */
    public record LogRead(Optional<LogSlice> slice, long highWatermark, long lastStableOffset, long logStartOffset,
                          long logEndOffset) {
    }

    /** {@link #read(long, int, boolean, IsolationLevel)} for READ_UNCOMMITTED. */
    public LogRead read(long fetchOffset, int maxBytes, boolean minOneBatch) {
        return read(fetchOffset, maxBytes, minOneBatch, IsolationLevel.READ_UNCOMMITTED);
    }

    /**
     * Reads from {@code fetchOffset}: the batch holding it and those after it, up to {@code maxBytes} (at least the
     * first whole batch when {@code minOneBatch}), never past the high watermark, and under READ_COMMITTED never past
     * the last stable offset (the consumer skips aborted transactions' records with
     * {@link #collectAbortedTransactions}).
     *
     * <p>{@code maxBytes} counts the bytes of the batches as the consumer gets them (opened); the slice opens them
     * when it is read ({@link LogSlice#readInto}).
     *
     * @throws OffsetOutOfRangeException when the offset is below the log start or above the log end
     * @throws KafkaStorageException     when the offset lies in a corrupt stretch, the batches found there are out of
     *                                   place, or the partition is offline
     */
    public LogRead read(long fetchOffset, int maxBytes, boolean minOneBatch, IsolationLevel isolation) {
        ensureReadable();
        Position hw = highWatermarkPosition();
        Position stable = stablePosition(hw);
        Position bound = isolation == IsolationLevel.READ_COMMITTED ? stable : hw;
        long start = logStartOffset;
        long logEnd = end.offset();
        if (fetchOffset < start || fetchOffset > logEnd) {
            throw new OffsetOutOfRangeException("Offset " + fetchOffset + " is outside the log [" + start + ", "
                    + logEnd + "] of " + id);
        }
        if (fetchOffset >= bound.offset()) {
            return new LogRead(Optional.empty(), hw.offset(), stable.offset(), start, logEnd);
        }
        try {
            return stable(() -> readFrom(fetchOffset, maxBytes, minOneBatch, bound, hw.offset(), stable.offset(),
                    start, logEnd));
        } catch (Segment.CorruptSegmentException e) {
            LOG.error("{}: fetch at offset {} refused: {}", id, fetchOffset, e.getMessage());
            throw new KafkaStorageException(e.getMessage());
        } catch (Segment.SealedBatchException e) {
            throw new KafkaStorageException(e.getMessage());
        } catch (IOException e) {
            throw goOffline("read failed", e);
        }
    }

    private LogRead readFrom(long fetchOffset, int maxBytes, boolean minOneBatch, Position bound, long hw,
                             long lastStable, long start, long logEnd) throws IOException {
        Map.Entry<Long, Segment> entry = segments.floorEntry(fetchOffset);
        if (entry == null) {
            entry = segments.firstEntry();
        }
        while (entry != null && entry.getKey() <= bound.segmentBase()) {
            Segment segment = entry.getValue();
            int maxPosition = segment.baseOffset == bound.segmentBase() ? bound.position() : segment.size();
            Optional<Segment.Located> located = segment.locate(fetchOffset, maxPosition);
            if (located.isPresent()) {
                Optional<LogSlice> slice = slice(segment, located.get(), fetchOffset, maxPosition, maxBytes,
                        minOneBatch);
                return new LogRead(slice, hw, lastStable, start, logEnd);
            }
            entry = segments.higherEntry(entry.getKey());
        }
        return new LogRead(Optional.empty(), hw, lastStable, start, logEnd);
    }

    /**
     * The frames to serve from {@code first}: up to {@code maxBytes} of opened batches (at least the first whole one
     * when {@code minOneBatch}; the last may be cut), never past {@code maxPosition} or into a corrupt range. Their
     * offsets must follow each other (with gaps only in a compacted segment), and in a segment the log appended to
     * the first must hold {@code fetchOffset}: frames that were swapped or repeated open fine one by one, so their
     * places are checked here.
     */
    private Optional<LogSlice> slice(Segment segment, Segment.Located first, long fetchOffset, int maxPosition,
                                     int maxBytes, boolean minOneBatch) throws IOException {
        int end = segment.firstCorruptRangeIn(first.position(), maxPosition).map(Segment.CorruptRange::startPosition)
                .orElse(maxPosition);
        int wanted = Math.max(maxBytes, minOneBatch ? first.frame().batchSize() : 0);
        boolean contiguous = !segment.compacted;
        if (contiguous && fetchOffset >= segment.baseOffset && first.frame().baseOffset() > fetchOffset) {
            throw outOfPlace(segment, first, "starts after offset " + fetchOffset + ", which it should hold");
        }
        List<Segment.Located> frames = new ArrayList<>();
        ByteBuffer header = ByteBuffer.allocate(Frame.SEALED_OFFSET);
        int length = 0;
        int lastLength = 0;
        Segment.Located current = first;
        while (length < wanted) {
            if (!frames.isEmpty()) {
                Frame previous = frames.get(frames.size() - 1).frame();
                long base = current.frame().baseOffset();
                if (contiguous ? base != previous.nextOffset() : base < previous.nextOffset()) {
                    throw outOfPlace(segment, current, "follows the batch ending at offset " + previous.lastOffset());
                }
            }
            lastLength = Math.min(current.frame().batchSize(), wanted - length);
            frames.add(current);
            length += lastLength;
            if (current.end() >= end) {
                break;
            }
            current = new Segment.Located(current.end(), segment.readFrame(header, current.end()));
        }
        return frames.isEmpty() ? Optional.empty()
                : Optional.of(new LogSlice(segment, frames, length, lastLength, this::fence));
    }

    private Segment.SealedBatchException outOfPlace(Segment segment, Segment.Located located, String why) {
        Segment.SealedBatchException failure = new Segment.SealedBatchException(segment, located,
                "is out of place: it " + why);
        fence(segment, failure);
        return failure;
    }

    /**
     * Fences a frame that a read found unfit to serve: its bytes and offsets become a corrupt range, which fails every
     * fetch of those offsets, stops compaction, and is kept in the partition's checkpoint.
     */
    private void fence(Segment segment, Segment.SealedBatchException failure) {
        Segment.Located located = failure.located();
        Segment.CorruptRange range = new Segment.CorruptRange(located.position(), located.end(),
                located.frame().baseOffset(), located.frame().nextOffset());
        synchronized (segment) {
            if (segment.corruptRanges().contains(range)) {
                return;
            }
            segment.addCorruptRange(range);
        }
        String where = "segment " + segment + ", position " + range.startPosition() + ", offsets ["
                + range.fromOffset() + ", " + range.toOffset() + ")";
        LOG.error("{}: {}: fenced and never served: {}", id, where, failure.getMessage());
        listener.corruptionFenced(this, where + ": " + failure.getMessage());
    }

    /**
     * The aborted transactions that overlap the offsets [{@code fetchOffset}, {@code upperBoundOffset}), in marker
     * order: what a READ_COMMITTED fetch answers in its aborted_transactions field, with {@code upperBoundOffset} the
     * offset after the last batch it returns. Markers lie after their transactions' records, so the search starts at
     * the segment holding {@code fetchOffset} and walks later segments until an entry shows that no transaction open
     * before the upper bound was still open after it.
     */
    public List<AbortedTransaction> collectAbortedTransactions(long fetchOffset, long upperBoundOffset) {
        try {
            return stable(() -> {
                List<AbortedTransaction> found = new ArrayList<>();
                Long from = segments.floorKey(fetchOffset);
                for (Segment segment : segments.tailMap(from == null ? segments.firstKey() : from).values()) {
                    if (segment.transactionIndex().collect(fetchOffset, upperBoundOffset, found)) {
                        break;
                    }
                }
                return found;
            });
        } catch (IOException e) {
            throw goOffline("aborted transaction lookup failed", e);
        }
    }

    private interface Lookup<T> {
        T run() throws IOException;
    }

    /** Runs a walk over the segment map until no compaction swap overlapped it (see {@link #segmentSwaps}). */
    private <T> T stable(Lookup<T> lookup) throws IOException {
        while (true) {
            long before = segmentSwaps;
            if ((before & 1) == 0) {
                T result = lookup.run();
                if (segmentSwaps == before) {
                    return result;
                }
            }
            Thread.onSpinWait();
        }
    }

    /** The first record at or after {@code timestamp} below the high watermark (ListOffsets by time). */
    public Optional<TimestampAndOffset> offsetForTimestamp(long timestamp) {
        ensureReadable();
        Position bound = highWatermarkPosition();
        long start = logStartOffset;
        try {
            return stable(() -> firstAtOrAfter(timestamp, bound, start));
        } catch (Segment.SealedBatchException e) {
            fence(e.segment(), e);
            throw new KafkaStorageException(e.getMessage());
        } catch (IOException e) {
            throw goOffline("timestamp lookup failed", e);
        }
    }

    private Optional<TimestampAndOffset> firstAtOrAfter(long timestamp, Position bound, long start)
            throws IOException {
        for (Segment segment : segments.values()) {
            if (segment.baseOffset > bound.segmentBase()) {
                break;
            }
            if (segment.nextOffset() <= start || segment.maxTimestamp() < timestamp) {
                continue;
            }
            int maxPosition = segment.baseOffset == bound.segmentBase() ? bound.position() : segment.size();
            Optional<Segment.OpenBatch> located = segment.locateByTimestamp(timestamp, 0, maxPosition);
            while (located.isPresent()) {
                for (Record record : located.get().records().records()) {
                    if (record.timestamp() >= timestamp && record.offset() >= start) {
                        return Optional.of(new TimestampAndOffset(record.timestamp(), record.offset()));
                    }
                }
                located = segment.locateByTimestamp(timestamp, located.get().located().end(), maxPosition);
            }
        }
        return Optional.empty();
    }

    /**
     * The record with the largest timestamp at or above the log start offset and below the high watermark (ListOffsets
     * MAX_TIMESTAMP); the earliest such record when several share it.
     */
    public Optional<TimestampAndOffset> maxTimestamp() {
        ensureReadable();
        Position bound = highWatermarkPosition();
        long start = logStartOffset;
        try {
            return stable(() -> largestTimestamp(bound, start));
        } catch (Segment.SealedBatchException e) {
            fence(e.segment(), e);
            throw new KafkaStorageException(e.getMessage());
        } catch (IOException e) {
            throw goOffline("timestamp lookup failed", e);
        }
    }

    private Optional<TimestampAndOffset> largestTimestamp(Position bound, long start) throws IOException {
        Optional<TimestampAndOffset> best = Optional.empty();
        for (Segment segment : segments.values()) {
            if (segment.baseOffset > bound.segmentBase()) {
                break;
            }
            if (segment.nextOffset() <= start
                    || best.isPresent() && segment.maxTimestamp() <= best.get().timestamp()) {
                continue;
            }
            int maxPosition = segment.baseOffset == bound.segmentBase() ? bound.position() : segment.size();
            Optional<TimestampAndOffset> found = largestTimestamp(segment, start, bound.offset(), maxPosition);
            if (found.isPresent() && (best.isEmpty() || found.get().timestamp() > best.get().timestamp())) {
                best = found;
            }
        }
        return best;
    }

    /** The earliest record with the largest timestamp among a segment's offsets in [{@code start}, {@code bound}). */
    private static Optional<TimestampAndOffset> largestTimestamp(Segment segment, long start, long bound,
                                                                 int maxPosition) throws IOException {
        List<Long> candidates = new ArrayList<>(2);
        long summarised = segment.maxTimestampBatchOffset();
        if (summarised >= start && summarised < bound) {
            candidates.add(summarised); // the segment's largest timestamp is readable: the summary names its batch
        } else {
            // It is deleted or not yet acknowledged: look at the readable batches' headers. The batch holding the
            // log start offset is a candidate too, as its largest timestamp may lie below the log start offset.
            long[] largest = {RecordBatch.NO_TIMESTAMP, -1};
            segment.forEachBatchFrom(start, maxPosition, batch -> {
                if (batch.baseOffset() < start) {
                    candidates.add(batch.baseOffset());
                } else if (largest[1] < 0 || batch.maxTimestamp() > largest[0]) {
                    largest[0] = batch.maxTimestamp();
                    largest[1] = batch.baseOffset();
                }
            });
            if (largest[1] >= 0) {
                candidates.add(largest[1]);
            }
        }
        Optional<TimestampAndOffset> best = Optional.empty();
        for (long batchOffset : candidates) {
            Optional<Segment.Located> located = segment.locate(batchOffset, maxPosition);
            if (located.isEmpty()) {
                continue;
            }
            for (Record record : segment.open(located.get()).records().records()) {
                if (record.offset() >= start && (best.isEmpty() || record.timestamp() > best.get().timestamp())) {
                    best = Optional.of(new TimestampAndOffset(record.timestamp(), record.offset()));
                }
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- retention and deletion

    /**
     * Moves the log start offset up to {@code offset} (DeleteRecords); segments wholly below it are deleted by the
     * next retention pass.
     *
     * @throws OffsetOutOfRangeException when {@code offset} is above the high watermark
     */
    public long advanceLogStartOffset(long offset) {
        appendLock.lock();
        try {
            ensureWritable();
            long hw = highWatermark();
            if (offset > hw) {
                throw new OffsetOutOfRangeException("Cannot delete records of " + id + " up to " + offset
                        + ", above the high watermark " + hw);
            }
            if (offset > durable.offset()) {
                // Under PAGE_CACHE the high watermark can be ahead of the fsynced end. A log start offset beyond what
                // a crash keeps would be checkpointed above the recovered log end, where nothing appended is readable.
                flush();
                ensureWritable();
            }
            if (offset > logStartOffset) {
                logStartOffset = offset;
            }
            return logStartOffset;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Deletes the oldest segments that retention time or size, or the log start offset, no longer keeps.
     *
     * @return how many segments were deleted
     */
    public int applyRetention() {
        long now = clock.millis();
        LogConfig cfg = config;
        appendLock.lock();
        try {
            if (closed || offlineReason != null) {
                return 0;
            }
            List<Segment> doomed = new ArrayList<>();
            long remaining = sizeInBytes();
            for (Segment segment : segments.values()) {
                long segmentBytes = segment.dataSize();
                Long nextBase = segments.higherKey(segment.baseOffset);
                long segmentEnd = nextBase != null ? nextBase : end.offset();
                // Only the active segment is empty in a log that is not compacted. Compaction can leave an older
                // segment without a record: it holds nothing to keep, and must not stop retention of those after it.
                boolean keepsRecords = !segment.isEmpty();
                boolean removable = keepsRecords || nextBase != null;
                boolean belowStart = segmentEnd <= logStartOffset && removable;
                boolean expired = cfg.delete() && cfg.retentionMs >= 0 && removable
                        && (!keepsRecords || segment.maxTimestamp() < now - cfg.retentionMs);
                boolean oversize = cfg.delete() && cfg.retentionBytes >= 0 && removable
                        && remaining - segmentBytes >= cfg.retentionBytes;
                if (!belowStart && !expired && !oversize) {
                    break;
                }
                if (segmentEnd > highWatermark()) {
                    break; // never delete what consumers cannot read yet
                }
                doomed.add(segment);
                remaining -= segmentBytes;
            }
            if (doomed.isEmpty()) {
                return 0;
            }
            if (doomed.size() == segments.size()) {
                roll();
            }
            for (Segment segment : doomed) {
                segments.remove(segment.baseOffset);
                segment.markDeleted();
                reaper.retire(segment, cfg.fileDeleteDelayMs);
            }
            // Make the renames durable, so deleted records cannot come back after a crash.
            MetadataFile.syncDirectory(dir);
            long newStart = Math.max(logStartOffset, segments.firstKey());
            LOG.info("{}: retention deleted {} segment(s); log start offset {} -> {}", id, doomed.size(),
                    logStartOffset, newStart);
            logStartOffset = newStart;
            return doomed.size();
        } catch (IOException e) {
            throw goOffline("retention failed", e);
        } finally {
            appendLock.unlock();
        }
    }

    // ---------------------------------------------------------------- compaction

    /**
     * What the cleaner may work on, taken under the append lock: the segments wholly below the high watermark's and
     * the fsynced end's segment (never the active one), oldest first, and what decides how they are compacted. Empty
     * when the log is closed, offline, or holds a corrupt stretch (which compaction must not rewrite: it stays fenced
     * until DeleteRecords moves past it).
     */
    Optional<LogCleaner.View> cleaningView() {
        appendLock.lock();
        try {
            if (closed || offlineReason != null) {
                return Optional.empty();
            }
            for (Segment segment : segments.values()) {
                if (!segment.corruptRanges().isEmpty()) {
                    if (!corruptionSkipLogged) {
                        corruptionSkipLogged = true;
                        LOG.warn("{}: not compacted while segment {} holds a corrupt stretch", id, segment);
                    }
                    return Optional.empty();
                }
            }
            long bound = cleanableBound();
            List<Segment> below = new ArrayList<>(segments.headMap(bound, false).values());
            long boundOffset = segments.ceilingKey(bound);
            return Optional.of(new LogCleaner.View(id, dir, below, boundOffset, logStartOffset, firstDirtyOffset,
                    deleteHorizonMs, config, producers.lastBatchOffsets()));
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * The base offset of the first segment compaction must not touch: the one holding the fsynced end, the high
     * watermark or the last stable offset (an undecided transaction's records cannot be judged yet). Called under the
     * append lock.
     */
    private long cleanableBound() {
        return Math.min(durable.segmentBase(), stablePosition(highWatermarkPosition()).segmentBase());
    }

    /** Whether {@code run} are still segments of this log, as they were (retention or a swap did not replace them). */
    boolean holdsSegments(List<Segment> run) {
        for (Segment segment : run) {
            if (segments.get(segment.baseOffset) != segment) {
                return false;
            }
        }
        return !closed;
    }

    /**
     * Puts a compacted segment in the place of the adjacent segments it was written from ({@link SegmentSwap}); the
     * replaced segments stay readable for reads in progress until the reaper deletes them.
     *
     * @return false, with nothing changed, when the log changed under the cleaner or the commit failed (the caller
     *         discards the compacted segment)
     * @throws KafkaStorageException when the swap failed after its commit: the partition goes offline, and the next
     *                               start completes the swap
     */
    boolean replaceSegments(List<Segment> replaced, Segment compacted, SegmentSwap.StepListener listener) {
        appendLock.lock();
        try {
            if (closed || offlineReason != null || !holdsSegments(replaced)) {
                return false;
            }
            Segment last = replaced.get(replaced.size() - 1);
            if (last.baseOffset >= cleanableBound()) {
                throw new IllegalStateException(id + ": segment " + last + " is not below the last stable offset");
            }
            try {
                // The cleaner took the compacted segment's data key before it took this lock: a key rotation whose
                // rewrap pass ran in between did not see it, so it is brought under the current KEK version here.
                compacted.rewrapKey();
                SegmentSwap.swap(dir, compacted, replaced, listener);
            } catch (SegmentSwap.IncompleteSwapException e) {
                throw goOffline("compaction", e);
            } catch (IOException | GeneralSecurityException e) {
                LOG.warn("{}: the swap of compacted segment {} was not committed: {}", id, compacted, e.toString());
                return false;
            }
            // A read that found a replaced segment still reads it whole (its file stays open); one that walks the map
            // while it changes repeats (segmentSwaps).
            segmentSwaps++;
            try {
                segments.put(compacted.baseOffset, compacted);
                for (Segment segment : replaced) {
                    if (segment.baseOffset != compacted.baseOffset) {
                        segments.remove(segment.baseOffset);
                    }
                }
            } finally {
                segmentSwaps++;
            }
            long delay = config.fileDeleteDelayMs;
            for (Segment segment : replaced) {
                reaper.retire(segment, delay);
            }
            return true;
        } finally {
            appendLock.unlock();
        }
    }

    // ---------------------------------------------------------------- keys

    /**
     * Rewraps the data key of every segment under the owner's current KEK version, rewriting only the segment headers
     * (in place, durably); the batches are not touched. Runs under the append lock, which every roll takes, so no
     * segment created under an older version escapes the pass (the cleaner's segments are rewrapped when swapped in).
     * Once every partition of the owner has run it, the owner's older KEK versions can be destroyed.
     *
     * @return how many segment headers were rewritten
     * @throws KafkaStorageException when the partition is offline or a segment's key does not open or rewrap (the
     *                               older versions must then not be destroyed)
     */
    public int rewrapKeys() {
        appendLock.lock();
        try {
            ensureWritable();
            int rewritten = 0;
            for (Segment segment : segments.values()) {
                if (segment.rewrapKey()) {
                    rewritten++;
                }
            }
            if (rewritten > 0) {
                LOG.info("{}: rewrapped the data keys of {} segment(s) under key-encryption key version {} of {}", id,
                        rewritten, segments.lastEntry().getValue().kekVersion(), sealing.owner());
            }
            return rewritten;
        } catch (GeneralSecurityException e) {
            throw new KafkaStorageException("Partition " + id + ": a data key does not rewrap: " + e.getMessage(), e);
        } catch (IOException e) {
            throw goOffline("rewrapping the data keys failed", e);
        } finally {
            appendLock.unlock();
        }
    }

    /** The KEK versions the segments' data keys are wrapped under, oldest segment first. */
    List<Integer> kekVersions() {
        return segments.values().stream().map(Segment::kekVersion).toList();
    }

    /** Records a finished compaction: offsets below {@code newFirstDirtyOffset} are compacted. */
    void compactionDone(long newFirstDirtyOffset, long newDeleteHorizonMs) {
        appendLock.lock();
        try {
            firstDirtyOffset = Math.max(firstDirtyOffset, newFirstDirtyOffset);
            deleteHorizonMs = newDeleteHorizonMs;
        } finally {
            appendLock.unlock();
        }
    }

    /** The cleaner checkpoint: offsets below it are compacted. */
    long firstDirtyOffset() {
        return firstDirtyOffset;
    }

    /** When the earliest tombstone kept by compaction may be removed, or -1. */
    long deleteHorizonMs() {
        return deleteHorizonMs;
    }

    /**
     * The producers this partition knows, as of the last append (DescribeProducers). Taken under the append lock, so
     * each producer's state is the one some append left, never half of one.
     */
    public List<ActiveProducer> activeProducers() {
        appendLock.lock();
        try {
            return producers.activeProducers();
        } finally {
            appendLock.unlock();
        }
    }

    /** Expires idle producers' state (producer.id.expiration.ms). */
    public int expireProducers(long expirationMs) {
        appendLock.lock();
        try {
            return producers.expire(clock.millis(), expirationMs);
        } finally {
            appendLock.unlock();
        }
    }

    // ---------------------------------------------------------------- state and lifecycle

    /** Corrupt stretches found by recovery, by segment base offset, for the partition checkpoint. */
    List<Map.Entry<Long, Segment.CorruptRange>> corruptRanges() {
        List<Map.Entry<Long, Segment.CorruptRange>> ranges = new ArrayList<>();
        for (Segment segment : segments.values()) {
            for (Segment.CorruptRange range : segment.corruptRanges()) {
                ranges.add(Map.entry(segment.baseOffset, range));
            }
        }
        return ranges;
    }

    public boolean isOffline() {
        return offlineReason != null;
    }

    private void ensureWritable() {
        if (closed) {
            throw new KafkaStorageException("Partition " + id + " is closed");
        }
        ensureReadable();
    }

    private void ensureReadable() {
        String reason = offlineReason;
        if (reason != null) {
            throw new KafkaStorageException("Partition " + id + " is offline: " + reason);
        }
    }

    private KafkaStorageException goOffline(String what, IOException cause) {
        String reason = what + ": " + cause;
        if (offlineReason == null) {
            offlineReason = reason;
            LOG.error("{}: {}; the partition is offline until restart", id, reason, cause);
            listener.wentOffline(this, reason);
        }
        KafkaStorageException failure = new KafkaStorageException("Partition " + id + " is offline: " + reason);
        failWaiters(failure);
        return failure;
    }

    /** Fails every pending {@link #awaitHighWatermark} future: the high watermark will not move any more. */
    private void failWaiters(KafkaStorageException failure) {
        List<CompletableFuture<Void>> failed = new ArrayList<>();
        synchronized (waiters) {
            while (!waiters.isEmpty()) {
                failed.add(waiters.poll().future());
            }
        }
        failed.forEach(f -> f.completeExceptionally(failure));
    }

    /**
     * Flushes, writes the indexes of the active segment and a producer snapshot, and closes the files, so the next
     * start needs no recovery. Waiters the flush did not satisfy fail.
     */
    void close() throws IOException {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            if (offlineReason == null) {
                flush();
                Segment active = segments.lastEntry().getValue();
                active.seal();
                writeProducerSnapshot(end.offset());
            }
            closed = true;
            for (Segment segment : segments.values()) {
                segment.close();
            }
        } finally {
            appendLock.unlock();
            failWaiters(new KafkaStorageException("Partition " + id + " is closed"));
        }
    }

    /** Closes the files without flushing; for a partition whose topic is being deleted. */
    void closeForDeletion() {
        appendLock.lock();
        try {
            closed = true;
            for (Segment segment : segments.values()) {
                try {
                    segment.close();
                } catch (IOException e) {
                    LOG.warn("{}: closing {} failed: {}", id, segment, e.toString());
                }
            }
        } finally {
            appendLock.unlock();
        }
        failWaiters(new KafkaStorageException("Partition " + id + " was deleted"));
    }

    @Override
    public String toString() {
        return "PartitionLog(" + id + ", start " + logStartOffset + ", end " + end.offset() + ", hw " + highWatermark()
                + ")";
    }
}
