package dev.bulwark.storage;

import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Log compaction ({@code cleanup.policy=compact}) with Kafka's semantics: for each key, only the record with the
 * highest offset survives among the compacted segments, delete tombstones survive {@code delete.retention.ms} after
 * the compaction that first saw them, and offsets never change (compaction leaves gaps).
 *
 * <p>Which partitions and which of their segments. Only segments wholly below the high watermark are compacted, never
 * the active one, and none from the first segment holding a record newer than {@code min.compaction.lag.ms} on. Of
 * those, the ones at or above the partition's cleaner checkpoint ({@link PartitionLog#firstDirtyOffset}) are dirty. A
 * partition is due when the dirty share of their bytes reaches {@code min.cleanable.dirty.ratio}, when its oldest
 * dirty record is older than {@code max.compaction.lag.ms}, or when a tombstone it keeps has reached its delete
 * horizon. Due partitions are compacted filthiest first; {@link Compaction} does the work.
 *
 * <p>Threads: the log store runs {@link #cleanAll} on a thread of its own every {@code cleanerBackoff}, so compaction
 * never runs on an append. Reading segments needs no lock; only the swap of a compacted segment takes the partition's
 * append lock, for a few renames. One pass runs at a time. The cleaner thread is never interrupted: an interrupt
 * would close the segment channels it reads, which every reader shares. {@link #stop} asks it to stop between
 * batches instead.
 */
final class LogCleaner {

    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

    /** Memory for the keys of one compaction's dirty segments (Kafka's log.cleaner.dedupe.buffer.size). */
    static final long DEFAULT_KEY_MEMORY = 64L << 20;

    /**
     * A partition as the cleaner sees it, taken under its append lock ({@link PartitionLog#cleaningView}).
     *
     * @param segments          the segments below the readable bound, oldest first
     * @param boundOffset       the base offset of the first segment after them
     * @param producerLastBatch each known idempotent producer's newest batch, by its last offset
     */
    record View(PartitionId id, Path dir, List<Segment> segments, long boundOffset, long logStartOffset,
                long firstDirtyOffset, long deleteHorizonMs, LogConfig config, Map<Long, Long> producerLastBatch) {
    }

    /**
     * A compaction to run.
     *
     * @param cleanable              the segments that may be rewritten, oldest first
     * @param firstDirtyIndex        the first of them at or above the cleaner checkpoint
     * @param firstUncleanableOffset the base offset of the first segment after them
     */
    record Plan(View view, List<Segment> cleanable, int firstDirtyIndex, long firstUncleanableOffset,
                double dirtyRatio, String reason) {
    }

    /** Makes the cleaner checkpoints durable (the store's checkpoints file). */
    interface CheckpointWriter {
        void write() throws IOException;
    }

    private final Supplier<Collection<PartitionLog>> logs;
    private final Clock clock;
    private final long keyMemory;
    private final CheckpointWriter checkpoints;
    private final Set<PartitionId> uncleanable = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    /**
     * @param logs      the partitions of the store, read afresh on each pass
     * @param keyMemory   how many bytes of keys one compaction may hold; when the dirty segments hold more, a pass
     *                    compacts part of them and the next pass goes on
     * @param checkpoints run after each compaction, so a restart does not compact the same offsets again
     */
    LogCleaner(Supplier<Collection<PartitionLog>> logs, Clock clock, long keyMemory, CheckpointWriter checkpoints) {
        this.logs = logs;
        this.clock = clock;
        this.keyMemory = keyMemory;
        this.checkpoints = checkpoints;
    }

    /**
     * One pass: compacts every partition that is due, filthiest first. A partition whose compaction fails is left
     * alone until the next start (it is logged), as Kafka marks it uncleanable.
     *
     * @return how many partitions were compacted
     */
    synchronized int cleanAll() {
        long now = clock.millis();
        List<Plan> due = new ArrayList<>();
        for (PartitionLog log : logs.get()) {
            if (!uncleanable.contains(log.id())) {
                plan(log, now).ifPresent(due::add);
            }
        }
        due.sort(Comparator.comparingDouble(Plan::dirtyRatio).reversed());
        int cleaned = 0;
        for (Plan plan : due) {
            if (stopping) {
                break;
            }
            PartitionLog log = logs.get().stream().filter(l -> l.id().equals(plan.view().id())).findFirst()
                    .orElse(null);
            if (log == null) {
                continue;
            }
            try {
                if (run(log, plan, SegmentSwap.NO_LISTENER)) {
                    cleaned++;
                }
            } catch (IOException | RuntimeException e) {
                if (log.isOffline() || e instanceof KafkaStorageException) {
                    LOG.error("{}: compaction failed: {}", log.id(), e.toString());
                } else {
                    uncleanable.add(log.id());
                    LOG.error("{}: compaction failed; the partition is not compacted again until restart", log.id(), e);
                }
            }
        }
        return cleaned;
    }

    /**
     * Compacts one partition if it is due.
     *
     * @param listener told after each step of each segment swap (tests play crashes there)
     * @return whether it compacted
     */
    synchronized boolean clean(PartitionLog log, SegmentSwap.StepListener listener) throws IOException {
        Optional<Plan> plan = plan(log, clock.millis());
        return plan.isPresent() && run(log, plan.get(), listener);
    }

    private boolean run(PartitionLog log, Plan plan, SegmentSwap.StepListener listener) throws IOException {
        long started = System.nanoTime();
        Optional<Compaction.Result> result = new Compaction(log, plan, clock.millis(), keyMemory, () -> stopping,
                listener).run();
        if (result.isEmpty()) {
            return false;
        }
        Compaction.Result r = result.get();
        try {
            checkpoints.write();
        } catch (IOException e) {
            LOG.warn("{}: writing the cleaner checkpoint failed (the next start compacts these offsets again): {}",
                    log.id(), e.toString());
        }
        LOG.info("{}: compacted offsets [{}, {}) ({}): {} segment(s) of {} bytes into {} of {} bytes, {} of {} "
                        + "records kept, in {} ms", log.id(), plan.cleanable().get(0).baseOffset, r.endOffset(),
                plan.reason(), r.segmentsRead(), r.bytesRead(), r.segmentsWritten(), r.bytesWritten(),
                r.recordsKept(), r.recordsRead(), (System.nanoTime() - started) / 1_000_000);
        return true;
    }

    /** Decides whether a partition is due, and what a compaction of it covers. */
    static Optional<Plan> plan(PartitionLog log, long now) {
        if (!log.config().compact()) {
            return Optional.empty(); // before taking the partition's lock: most topics are not compacted
        }
        Optional<View> seen = log.cleaningView();
        if (seen.isEmpty() || !seen.get().config().compact()) {
            return Optional.empty();
        }
        View view = seen.get();
        LogConfig config = view.config();
        List<Segment> cleanable = new ArrayList<>();
        for (Segment segment : view.segments()) {
            if (config.minCompactionLagMs > 0 && segment.maxTimestamp() > now - config.minCompactionLagMs) {
                break; // this segment holds a record too young to compact, and so does the log after it
            }
            cleanable.add(segment);
        }
        if (cleanable.isEmpty()) {
            return Optional.empty();
        }
        long firstUncleanable = cleanable.size() < view.segments().size()
                ? view.segments().get(cleanable.size()).baseOffset : view.boundOffset();
        long firstDirty = Math.min(Math.max(view.firstDirtyOffset(), view.logStartOffset()), firstUncleanable);
        int firstDirtyIndex = 0;
        long cleanBytes = 0;
        while (firstDirtyIndex < cleanable.size()
                && nextBase(cleanable, firstDirtyIndex, firstUncleanable) <= firstDirty) {
            cleanBytes += cleanable.get(firstDirtyIndex).dataSize();
            firstDirtyIndex++;
        }
        long dirtyBytes = 0;
        for (int i = firstDirtyIndex; i < cleanable.size(); i++) {
            dirtyBytes += cleanable.get(i).dataSize();
        }
        double ratio = dirtyBytes == 0 ? 0 : (double) dirtyBytes / (cleanBytes + dirtyBytes);
        String reason = null;
        if (dirtyBytes > 0 && ratio >= config.minCleanableDirtyRatio) {
            reason = String.format("dirty ratio %.2f", ratio);
        } else if (dirtyBytes > 0 && overdue(cleanable.get(firstDirtyIndex), now, config)) {
            reason = "max.compaction.lag.ms passed";
        } else if (view.deleteHorizonMs() >= 0 && view.deleteHorizonMs() <= now) {
            reason = "tombstones past their delete horizon";
        }
        if (reason == null) {
            return Optional.empty();
        }
        return Optional.of(new Plan(view, List.copyOf(cleanable), firstDirtyIndex, firstUncleanable, ratio, reason));
    }

    /** Whether the segment's first batch has waited longer than max.compaction.lag.ms. */
    private static boolean overdue(Segment firstDirty, long now, LogConfig config) {
        long first = firstDirty.rollTimestamp();
        return first != RecordBatch.NO_TIMESTAMP && now - first > config.maxCompactionLagMs;
    }

    /** The base offset of the segment after {@code segments[i]}. */
    static long nextBase(List<Segment> segments, int i, long after) {
        return i + 1 < segments.size() ? segments.get(i + 1).baseOffset : after;
    }

    /** Asks a pass in progress to stop between batches; the store's close waits for it. */
    void stop() {
        stopping = true;
    }
}
