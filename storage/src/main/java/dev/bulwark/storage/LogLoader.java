package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * Opens a partition directory after a start: completes a compaction swap that a stop interrupted after its commit
 * ({@link SegmentSwap}), drops leftovers of interrupted operations, verifies every batch written after the recovery
 * point (after an unclean stop), truncates a torn tail, fences corrupt stretches, rebuilds missing indexes, and
 * restores the producers' state (ongoing transactions included) from the newest usable snapshot plus the batches
 * after it, whose ABORT markers also rebuild what the segments' transaction indexes miss.
 */
final class LogLoader {

    private static final Logger LOG = LoggerFactory.getLogger(LogLoader.class);

    private LogLoader() {
    }

    /** What loading found that the caller must record. */
    record Loaded(PartitionLog log, boolean recovered, long truncatedBytes, List<Segment.CorruptRange> newCorruptRanges) {
    }

    /**
     * Opens the partition in {@code dir}. When a segment's data key does not open (destroyed, shredded, or from
     * another keyring), or a segment of a sealing store holds unsealed batches (tampering), nothing is recovered,
     * rewritten or deleted: the partition opens offline, refusing reads and appends, and the log says which segment
     * and why.
     *
     * @throws Segment.UnsupportedFormatException when a segment is of an unsealed format
     */
    static Loaded load(PartitionId id, Path dir, PartitionSealing sealing, LogConfig config, Clock clock,
                       FlushPolicy flushPolicy, FlushScheduler flushScheduler,
                       PartitionLog.Listener listener, PartitionLog.SegmentReaper reaper,
                       PartitionCheckpoint checkpoint, boolean cleanShutdown) throws IOException {
        SegmentSwap.completeInterrupted(dir);
        removeLeftovers(dir);
        ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
        List<Segment> needIndex = new ArrayList<>();
        try {
            List<Path> files = segmentFiles(dir);
            for (Path file : files) {
                long base = baseOffsetOf(file, Segment.LOG_SUFFIX);
                Segment.Opened opened;
                try {
                    opened = Segment.open(file, base, sealing);
                } catch (Segment.CorruptHeaderException e) {
                    if (!file.equals(files.get(files.size() - 1)) || Files.size(file) > Segment.HEADER_SIZE) {
                        throw e;
                    }
                    // A crash cut short the creation of the newest segment (a roll): it holds no batch. Start it again.
                    LOG.warn("{}: {}; creating the newest segment again", id, e.getMessage());
                    Files.delete(file);
                    segments.put(base, Segment.create(dir, base, sealing));
                    continue;
                }
                segments.put(base, opened.segment());
                if (!opened.indexLoaded()) {
                    needIndex.add(opened.segment());
                }
            }
            for (PartitionCheckpoint.SegmentRange known : checkpoint.corruptRanges()) {
                Segment segment = segments.get(known.segmentBase());
                if (segment != null) {
                    segment.addCorruptRange(known.range());
                }
            }
            if (segments.isEmpty()) {
                long base = checkpoint.logStartOffset();
                segments.put(base, Segment.create(dir, base, sealing));
            }
            Optional<String> keyProblem = segments.values().stream().map(Segment::keyProblem)
                    .filter(Objects::nonNull).findFirst();
            if (keyProblem.isPresent()) {
                LOG.error("{}: {}; the partition is offline: it serves nothing and takes no appends, and its files "
                        + "are left as they are", id, keyProblem.get());
                PartitionLog log = new PartitionLog(id, dir, sealing, config, clock, flushPolicy, flushScheduler,
                        listener, reaper, segments, new ProducerStateManager(), new UnstableOffsets(),
                        checkpoint.logStartOffset(), checkpoint.firstDirtyOffset(), checkpoint.deleteHorizonMs(),
                        "a segment cannot be read: " + keyProblem.get());
                return new Loaded(log, false, 0, List.of());
            }

            boolean recovered = false;
            long truncated = 0;
            List<Segment.CorruptRange> found = new ArrayList<>();
            Long recoverFrom = cleanShutdown ? null : segments.floorKey(checkpoint.recoveryPoint());
            if (!cleanShutdown && recoverFrom == null) {
                recoverFrom = segments.firstKey();
            }
            for (Map.Entry<Long, Segment> entry : segments.entrySet()) {
                Segment segment = entry.getValue();
                Long next = segments.higherKey(entry.getKey());
                boolean afterRecoveryPoint = recoverFrom != null && entry.getKey() >= recoverFrom;
                // A segment without its index is scanned as recovery scans: rebuilding the index needs the sealed
                // timestamps, so each batch is opened, and that verifies it.
                if (afterRecoveryPoint || needIndex.contains(segment)) {
                    Segment.Recovery recovery = segment.recover(config.indexIntervalBytes, next == null ? -1 : next,
                            batch -> { });
                    recovered |= afterRecoveryPoint;
                    truncated += recovery.truncatedBytes();
                    found.addAll(recovery.corruptRanges());
                    if (next != null) {
                        segment.seal();
                    }
                }
            }
            Segment newest = segments.lastEntry().getValue();
            if (newest.compacted) {
                // Compaction never touches the active segment, so the segments after this one were lost outside
                // Bulwark. A compacted segment is sealed and never appended to: start a new one after it, above every
                // offset that was fsynced.
                long base = Math.max(Math.max(newest.nextOffset(), newest.baseOffset + 1),
                        Math.max(checkpoint.recoveryPoint(), checkpoint.logStartOffset()));
                LOG.warn("{}: the newest segment {} is a compacted one (the segments after it are missing); starting a "
                        + "new segment at offset {}", id, newest, base);
                newest.seal();
                segments.put(base, Segment.create(dir, base, sealing));
            }
            if (recovered) {
                Segment last = segments.lastEntry().getValue();
                LOG.info("{}: recovered from offset {}: log end offset {}{}{}", id, recoverFrom, last.nextOffset(),
                        truncated > 0 ? ", torn tail of " + truncated + " bytes truncated" : "",
                        found.isEmpty() ? "" : ", " + found.size() + " corrupt range(s) fenced");
            }

            for (Segment segment : segments.values()) {
                segment.loadTransactionIndex();
            }
            ProducerStateManager producers = new ProducerStateManager();
            restoreProducers(id, dir, segments, producers);
            UnstableOffsets unstable = locateOngoingTransactions(segments, producers);
            PartitionLog log = new PartitionLog(id, dir, sealing, config, clock, flushPolicy, flushScheduler, listener,
                    reaper, segments, producers, unstable, checkpoint.logStartOffset(), checkpoint.firstDirtyOffset(),
                    checkpoint.deleteHorizonMs(), null);
            return new Loaded(log, recovered, truncated, found);
        } catch (IOException | RuntimeException e) {
            for (Segment segment : segments.values()) {
                try {
                    segment.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Loads the newest snapshot at or below the log end and below every marker a transaction index misses, then
     * replays the batches written after it: data batch headers, and the end-transaction markers of control batches,
     * whose ABORT entries go into the transaction index of their segment when it lacks them. A sealed segment whose
     * index this completed gets its file written again.
     */
    private static void restoreProducers(PartitionId id, Path dir, ConcurrentSkipListMap<Long, Segment> segments,
                                         ProducerStateManager producers) throws IOException {
        long logEnd = segments.lastEntry().getValue().nextOffset();
        long needed = Long.MAX_VALUE;
        for (Segment segment : segments.values()) {
            TransactionIndex index = segment.transactionIndex();
            if (index.completeUpTo() < segment.nextOffset()) {
                needed = Math.min(needed, index.completeUpTo());
            }
        }
        long from = segments.firstKey();
        List<Path> snapshots = snapshotFiles(dir);
        for (int i = snapshots.size() - 1; i >= 0; i--) {
            long offset = baseOffsetOf(snapshots.get(i), PartitionLog.SNAPSHOT_SUFFIX);
            if (offset > logEnd) {
                Files.deleteIfExists(snapshots.get(i));
                continue;
            }
            if (offset > needed) {
                continue; // a transaction index misses markers before it: replay from an older one
            }
            Map.Entry<Long, Segment> holder = segments.floorEntry(offset);
            if (holder == null) {
                continue; // its segment was deleted, and with it the key it was sealed under
            }
            try {
                from = producers.loadSnapshot(snapshots.get(i),
                        holder.getValue().payloadSeal(PartitionLog.SNAPSHOT_KIND, offset));
                break;
            } catch (IOException e) {
                LOG.warn("{}: producer snapshot {} unusable ({}); trying an older one", id, snapshots.get(i), e.toString());
                producers.clear();
            }
        }
        if (needed < Long.MAX_VALUE) {
            LOG.info("{}: rebuilding transaction indexes from offset {}", id, from);
        }
        long replayFrom = from;
        Long start = segments.floorKey(replayFrom);
        Segment newest = segments.lastEntry().getValue();
        for (Segment segment : segments.tailMap(start == null ? segments.firstKey() : start).values()) {
            boolean incomplete = segment.transactionIndex().completeUpTo() < segment.nextOffset();
            segment.forEachBatchFrom(replayFrom, batch -> replay(segment, batch, producers));
            segment.transactionIndex().completeUpTo(segment.nextOffset());
            if (incomplete && segment != newest) {
                segment.writeTransactionIndex();
            }
        }
    }

    private static void replay(Segment segment, Segment.OpenBatch opened, ProducerStateManager producers) {
        BatchHeader header = opened.header();
        if (!header.isControl()) {
            producers.update(header);
            return;
        }
        if (!header.hasProducerId()) {
            return;
        }
        RecordBatch batch = opened.records().batches().iterator().next();
        Record record = batch.iterator().next();
        ControlRecordType type = ControlRecordType.parse(record.key());
        if (type != ControlRecordType.COMMIT && type != ControlRecordType.ABORT) {
            return;
        }
        EndTransactionMarker marker = EndTransactionMarker.deserialize(record);
        producers.completeTransaction(header.producerId(), header.producerEpoch(), marker.coordinatorEpoch(),
                header.baseOffset(), header.maxTimestamp(), type == ControlRecordType.ABORT)
                .filter(ProducerStateManager.CompletedTransaction::aborted)
                .ifPresent(done -> segment.transactionIndex().replayed(new AbortedTransaction(
                        done.producerId(), done.firstOffset(), done.lastOffset(), done.lastStableOffset())));
    }

    /**
     * Finds where each ongoing transaction's first batch lies. One whose first batch is gone (retention, or
     * DeleteRecords) keeps its offset, below the log start offset, which holds the last stable offset there.
     */
    private static UnstableOffsets locateOngoingTransactions(ConcurrentSkipListMap<Long, Segment> segments,
                                                             ProducerStateManager producers) throws IOException {
        UnstableOffsets unstable = new UnstableOffsets();
        for (long first : producers.ongoingTransactionFirstOffsets()) {
            Map.Entry<Long, Segment> entry = segments.floorEntry(first);
            if (entry == null) {
                entry = segments.firstEntry();
            }
            Segment segment = entry.getValue();
            int position = segment.dataStart();
            if (first >= segment.baseOffset) {
                try {
                    Optional<Segment.Located> located = segment.locate(first, segment.size());
                    if (located.isPresent()) {
                        position = located.get().position();
                    }
                } catch (Segment.CorruptSegmentException e) {
                    // Its first batch lies in a fenced stretch: READ_COMMITTED reads stop at the segment's start.
                    LOG.warn("{}: the transaction open since offset {} begins in a corrupt stretch", segment, first);
                }
            }
            unstable.begin(new PartitionLog.Position(first, segment.baseOffset, position));
        }
        return unstable;
    }

    private static void removeLeftovers(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(Segment.DELETED_SUFFIX) || name.endsWith(".tmp")
                        || name.endsWith(Segment.CLEANED_SUFFIX)) {
                    Files.delete(file);
                } else if (name.endsWith(Segment.INDEX_SUFFIX) || name.endsWith(Segment.TRANSACTION_INDEX_SUFFIX)) {
                    String suffix = name.endsWith(Segment.INDEX_SUFFIX) ? Segment.INDEX_SUFFIX
                            : Segment.TRANSACTION_INDEX_SUFFIX;
                    Path log = file.resolveSibling(name.substring(0, name.length() - suffix.length())
                            + Segment.LOG_SUFFIX);
                    if (!Files.exists(log)) {
                        Files.delete(file);
                    }
                }
            }
        }
    }

    private static List<Path> segmentFiles(Path dir) throws IOException {
        return filesWithSuffix(dir, Segment.LOG_SUFFIX);
    }

    /** Producer snapshot files, oldest first. */
    static List<Path> snapshotFiles(Path dir) throws IOException {
        return filesWithSuffix(dir, PartitionLog.SNAPSHOT_SUFFIX);
    }

    private static List<Path> filesWithSuffix(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix))
                    .filter(f -> isOffsetName(f.getFileName().toString(), suffix))
                    .sorted(Comparator.comparingLong(f -> baseOffsetOf(f, suffix)))
                    .toList();
        }
    }

    private static boolean isOffsetName(String name, String suffix) {
        String stem = name.substring(0, name.length() - suffix.length());
        return stem.length() == 20 && stem.chars().allMatch(Character::isDigit);
    }

    private static long baseOffsetOf(Path file, String suffix) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - suffix.length()));
    }
}
