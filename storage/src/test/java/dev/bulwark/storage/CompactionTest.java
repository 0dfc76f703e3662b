package dev.bulwark.storage;

import dev.bulwark.storage.Compacted.Entry;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Log compaction: what survives, when, and that everything else about the log keeps working across its gaps. */
class CompactionTest {

    private static final long T = MutableClock.START_MS;
    private static final int CHECKPOINT_MAGIC = 0x42574350; // "BWCP"

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock();
    private LogManager store;

    @AfterEach
    void close() throws IOException {
        if (store != null) {
            store.close();
        }
    }

    /** cleanup.policy=compact with 1 KiB segments (about eight of these tests' batches), and {@code more}. */
    private static Map<String, String> compacted(String... more) {
        Map<String, String> configs = new HashMap<>(Map.of(LogConfig.CLEANUP_POLICY, "compact",
                LogConfig.SEGMENT_BYTES, "1024"));
        for (int i = 0; i < more.length; i += 2) {
            configs.put(more[i], more[i + 1]);
        }
        return configs;
    }

    private PartitionLog topic(Map<String, String> configs) throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, configs);
        return Stores.log(store, "t", 0);
    }

    private PartitionLog reopen() throws IOException {
        store.close();
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        return Stores.log(store, "t", 0);
    }

    private static String value(int i) {
        return "v" + i + "-" + "p".repeat(40);
    }

    /** Appends {@code count} one-record batches with keys k0..k(keys-1) in turn, at {@code timestamp}. */
    private static List<Entry> fill(PartitionLog log, int from, int count, int keys, long timestamp) {
        List<Entry> appended = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            appended.add(Compacted.append(log, timestamp, "k" + i % keys, value(i)));
        }
        return appended;
    }

    private static long activeBase(PartitionLog log) throws IOException {
        List<Path> files = Partitions.segmentFiles(log.dir());
        return Long.parseLong(files.get(files.size() - 1).getFileName().toString().replace(Segment.LOG_SUFFIX, ""));
    }

    // ---------------------------------------------------------------- what survives

    @Test
    void eachKeyKeepsItsLatestRecordAtItsOriginalOffset() throws IOException {
        PartitionLog log = topic(compacted());
        List<Entry> appended = fill(log, 0, 40, 5, T);
        long active = activeBase(log);
        assertTrue(log.segmentCount() >= 4);

        assertEquals(1, store.compactLogs());

        assertEquals(active, log.firstDirtyOffset(), "everything below the active segment is compacted");
        List<Entry> expected = Compacted.compacted(appended, active, e -> true);
        assertEquals(expected, Compacted.read(log));
        assertTrue(expected.size() < appended.size());
        assertEquals(0, log.logStartOffset());
        assertEquals(40, log.logEndOffset());
        assertEquals(40, Compacted.append(log, T, "k0", "next").offset(), "offsets continue where they were");
        assertEquals(0, store.compactLogs(), "nothing is dirty enough now");
    }

    @Test
    void theActiveSegmentIsNeverCompacted() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.SEGMENT_BYTES, "1048576"));
        List<Entry> appended = fill(log, 0, 30, 2, T);

        assertEquals(0, store.compactLogs());

        assertEquals(1, log.segmentCount());
        assertEquals(appended, Compacted.read(log));
    }

    @Test
    void tombstonesStayForDeleteRetentionAfterTheFirstCompactionThenGo() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.DELETE_RETENTION_MS, "60000"));
        List<Entry> appended = new ArrayList<>();
        appended.add(Compacted.append(log, T, "a", "a1"));
        appended.add(Compacted.append(log, T, "b", "b1"));
        appended.add(Compacted.append(log, T, "a", null));
        appended.addAll(fill(log, 3, 20, 20, T));
        long active = activeBase(log);

        assertEquals(1, store.compactLogs());

        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
        assertEquals(T + 60_000, log.deleteHorizonMs());
        MutableRecordBatch tombstoneBatch = Batches.readAll(log).stream().filter(b -> b.baseOffset() == 2)
                .findFirst().orElseThrow();
        assertEquals(OptionalLong.of(T + 60_000), tombstoneBatch.deleteHorizonMs(),
                "the first compaction that keeps a tombstone stamps its batch with the delete horizon");

        clock.advance(Duration.ofMillis(59_999));
        assertEquals(0, store.compactLogs(), "not dirty, and the horizon is not reached");
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));

        clock.advance(Duration.ofMillis(1));
        assertEquals(1, store.compactLogs(), "the horizon makes the log due");
        assertEquals(Compacted.compacted(appended, active, e -> false), Compacted.read(log));
        assertEquals(-1, log.deleteHorizonMs());
    }

    @Test
    void recordsYoungerThanMinCompactionLagStayUncompacted() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.MIN_COMPACTION_LAG_MS, "60000", LogConfig.SEGMENT_MS, "1000",
                LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01"));
        List<Entry> appended = new ArrayList<>(fill(log, 0, 20, 4, T - 120_000));
        appended.addAll(fill(log, 20, 20, 4, T)); // the first of these rolls: segment.ms
        assertTrue(Partitions.segmentFiles(log.dir()).stream().anyMatch(f -> f.endsWith(Segment.fileName(20)
                + Segment.LOG_SUFFIX)));

        assertEquals(1, store.compactLogs());

        assertEquals(20, log.firstDirtyOffset(), "the young segments stay dirty");
        assertEquals(Compacted.compacted(appended, 20, e -> true), Compacted.read(log));

        clock.advance(Duration.ofMillis(60_001));
        assertEquals(1, store.compactLogs());
        long active = activeBase(log);
        assertEquals(active, log.firstDirtyOffset());
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
    }

    @Test
    void maxCompactionLagCompactsALogThatIsNotDirtyEnough() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.9",
                LogConfig.MAX_COMPACTION_LAG_MS, "60000"));
        assertEquals(60_000, log.config().maxSegmentMs(), "a compacted topic rolls by max.compaction.lag.ms too");
        List<Entry> appended = new ArrayList<>(fill(log, 0, 30, 3, T));
        assertEquals(1, store.compactLogs());
        appended.addAll(fill(log, 30, 12, 3, T + 1000));
        assertEquals(0, store.compactLogs(), "the new dirty segment is a small share of the log");

        clock.advance(Duration.ofMillis(61_001));
        appended.add(Compacted.append(log, clock.millis(), "k0", "rolls")); // the active segment is too old: it rolls

        LogCleaner.Plan plan = LogCleaner.plan(log, clock.millis()).orElseThrow();
        assertTrue(plan.dirtyRatio() < 0.9, "dirty ratio " + plan.dirtyRatio());
        assertEquals("max.compaction.lag.ms passed", plan.reason());
        assertEquals(1, store.compactLogs());
        long active = activeBase(log);
        assertEquals(active, log.firstDirtyOffset());
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
    }

    @Test
    void compactDeleteCompactsAndAppliesRetention() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.CLEANUP_POLICY, "compact,delete",
                LogConfig.RETENTION_MS, "10000"));
        List<Entry> appended = new ArrayList<>(fill(log, 0, 40, 5, T));
        assertEquals(1, store.compactLogs());
        long compactedUpTo = log.firstDirtyOffset();
        clock.advance(Duration.ofMillis(20_000));
        appended.addAll(fill(log, 40, 3, 5, clock.millis()));
        long active = activeBase(log);
        assertTrue(active >= compactedUpTo);

        store.applyRetention();

        assertEquals(active, log.logStartOffset(), "every segment before the newest records is past retention.ms");
        List<Entry> expected = Compacted.compacted(appended, compactedUpTo, e -> true).stream()
                .filter(e -> e.offset() >= active).toList();
        assertEquals(expected, Compacted.read(log));
    }

    @Test
    void recordsWithoutKeyFromBeforeTheTopicWasCompactedAreDropped() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        for (int i = 0; i < 10; i++) {
            Stores.appendAcked(log, Batches.plain(T, value(i)));
        }
        List<Entry> keyed = fill(log, 10, 20, 3, T);
        store.alterTopicConfigs(store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow().id(), compacted());

        assertEquals(1, store.compactLogs());

        long active = activeBase(log);
        List<Entry> read = Compacted.read(log);
        assertTrue(read.stream().allMatch(e -> e.key() != null || e.offset() >= active), read.toString());
        assertEquals(Compacted.compacted(keyed, active, e -> true),
                read.stream().filter(e -> e.key() != null).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "lz4", "zstd", "snappy"})
    void compressedBatchesLoseTheirOldRecordsAndStayCompressed(String codec) throws IOException {
        PartitionLog log = topic(compacted());
        Compression compression = Compression.of(codec).build();
        List<Entry> appended = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String[] pairs = new String[8];
            for (int r = 0; r < 4; r++) {
                pairs[2 * r] = "k" + (i * 4 + r) % 7;
                pairs[2 * r + 1] = r == 3 && i % 5 == 0 ? null : value(i * 4 + r);
            }
            AppendResult result = Stores.appendAcked(log, Batches.entries(compression, T, pairs));
            for (int r = 0; r < 4; r++) {
                appended.add(new Entry(result.firstOffset() + r, pairs[2 * r], pairs[2 * r + 1], T));
            }
        }
        long active = activeBase(log);

        assertEquals(1, store.compactLogs());

        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
        for (MutableRecordBatch batch : Batches.readAll(log)) {
            assertEquals(CompressionType.forName(codec), batch.compressionType());
            assertTrue(batch.isValid());
        }
    }

    @Test
    void smallAdjacentSegmentsAreMergedWhenTheyFitOneSegment() throws IOException {
        PartitionLog log = topic(compacted());
        List<Entry> appended = new ArrayList<>(fill(log, 0, 60, 2, T));
        assertEquals(1, store.compactLogs());
        assertTrue(countEmptyCompacted(log) >= 2, "the first pass leaves compacted segments without records (groups "
                + "are formed by the sizes before compaction)");
        appended.addAll(fill(log, 60, 60, 2, T));
        int beforeSecond = log.segmentCount();

        assertEquals(1, store.compactLogs());

        assertTrue(log.segmentCount() < beforeSecond, log.segmentCount() + " segments, " + beforeSecond
                + " before the second compaction");
        long active = activeBase(log);
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
        for (Path file : Partitions.segmentFiles(log.dir())) {
            boolean isActive = file.getFileName().toString().equals(Segment.fileName(active) + Segment.LOG_SUFFIX);
            byte[] bytes = Files.readAllBytes(file);
            assertEquals(Segment.FORMAT_VERSION, bytes[Segment.VERSION_OFFSET], file.toString());
            assertEquals(isActive ? 0 : Segment.COMPACTED_FLAG, bytes[Segment.FLAGS_OFFSET], file.toString());
        }
    }

    private static long countEmptyCompacted(PartitionLog log) throws IOException {
        long count = 0;
        for (Path file : Partitions.segmentFiles(log.dir())) {
            boolean compacted = Files.readAllBytes(file)[Segment.FLAGS_OFFSET] == Segment.COMPACTED_FLAG;
            count += compacted && Files.size(file) == Segment.HEADER_SIZE ? 1 : 0;
        }
        return count;
    }

    // ---------------------------------------------------------------- producer state

    private static MemoryRecords idempotent(long producerId, short epoch, int sequence, String key, String value) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, sequence,
                new SimpleRecord(T, Batches.utf8(key), Batches.utf8(value)));
    }

    @Test
    void theNewestBatchOfAProducerStaysEmptySoItsSequencesAreCheckedAfterARestart() throws IOException {
        PartitionLog log = topic(compacted());
        for (int s = 0; s < 3; s++) {
            Stores.appendAcked(log, idempotent(77L, (short) 1, s, "a", value(s)));
        }
        List<Entry> later = fill(log, 3, 30, 1, T); // key k0 ...
        for (int i = 0; i < 30; i++) {
            Compacted.append(log, T, "a", value(100 + i)); // ... and "a" again: the producer's records are outdated
        }

        assertEquals(1, store.compactLogs());

        List<MutableRecordBatch> batches = Batches.readAll(log);
        assertFalse(batches.stream().anyMatch(b -> b.baseOffset() < 2), "the producer's older batches are gone");
        MutableRecordBatch kept = batches.get(0);
        assertEquals(List.of(2L, 2L, 77L, 2), List.of(kept.baseOffset(), kept.lastOffset(), kept.producerId(),
                kept.baseSequence()));
        assertFalse(kept.iterator().hasNext(), "its record is outdated: the batch is empty");
        assertFalse(later.isEmpty());

        // Restart with unusable producer snapshots: the state is rebuilt from the log alone.
        store.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path snapshot : files.filter(f -> f.toString().endsWith(".snapshot")).toList()) {
                Files.write(snapshot, new byte[] {1, 2, 3});
            }
        }
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        PartitionLog reopened = Stores.log(store, "t", 0);

        AppendResult retry = reopened.append(idempotent(77L, (short) 1, 2, "a", value(2)));
        assertTrue(retry.duplicate());
        assertEquals(2, retry.firstOffset());
        assertThrows(OutOfOrderSequenceException.class,
                () -> reopened.append(idempotent(77L, (short) 1, 4, "a", "gap")));
        assertFalse(reopened.append(idempotent(77L, (short) 1, 3, "a", "next")).duplicate());
    }

    // ---------------------------------------------------------------- reads across gaps

    @Test
    void readsAndTimestampLookupsWorkAcrossGapsAndRestarts() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.INDEX_INTERVAL_BYTES, "100"));
        List<Entry> appended = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            appended.add(Compacted.append(log, T + i, "k" + i % 6, value(i)));
        }
        assertEquals(1, store.compactLogs());
        List<Entry> expected = Compacted.compacted(appended, activeBase(log), e -> true);
        assertTrue(expected.size() < 30);

        assertReadsAcrossGaps(log, expected);
        log = reopen();
        assertReadsAcrossGaps(log, expected);

        // Without indexes: they are rebuilt from the compacted segments.
        deleteIndexes(log.dir());
        log = reopen();
        assertReadsAcrossGaps(log, expected);

        // An unclean start without checkpoints: recovery verifies every segment, the compacted ones with their gaps.
        Path dir = log.dir();
        store.close();
        Files.delete(dataDir.resolve(".clean-shutdown"));
        Files.delete(dataDir.resolve("checkpoints"));
        deleteIndexes(dir);
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        log = Stores.log(store, "t", 0);
        assertTrue(log.corruptRanges().isEmpty(), "gaps are not corruption: " + log.corruptRanges());
        assertReadsAcrossGaps(log, expected);
    }

    private static void deleteIndexes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path index : files.filter(f -> f.toString().endsWith(Segment.INDEX_SUFFIX)).toList()) {
                Files.delete(index);
            }
        }
    }

    /** A read at any offset starts at the first surviving record at or after it; lookups by time skip the gaps. */
    private static void assertReadsAcrossGaps(PartitionLog log, List<Entry> expected) {
        assertEquals(expected, Compacted.read(log));
        for (long offset = 0; offset < log.highWatermark(); offset++) {
            long at = offset;
            Entry next = expected.stream().filter(e -> e.offset() >= at).findFirst().orElseThrow();
            List<MutableRecordBatch> batches = Batches.batchesOf(Batches.sliceBytes(log.read(offset, 1, true)));
            assertEquals(1, batches.size(), "a read of one byte at " + offset + " returns one whole batch");
            long firstAtOrAfter = -1;
            for (var record : batches.get(0)) {
                if (record.offset() >= offset) {
                    firstAtOrAfter = record.offset();
                    break;
                }
            }
            assertEquals(next.offset(), firstAtOrAfter, "read at " + offset);
        }
        for (long ts = T - 1; ts <= T + 60; ts++) {
            long at = ts;
            Optional<TimestampAndOffset> want = expected.stream().filter(e -> e.timestamp() >= at).findFirst()
                    .map(e -> new TimestampAndOffset(e.timestamp(), e.offset()));
            assertEquals(want, log.offsetForTimestamp(ts), "lookup of T + " + (ts - T));
        }
        Entry last = expected.get(expected.size() - 1);
        assertEquals(Optional.of(new TimestampAndOffset(last.timestamp(), last.offset())), log.maxTimestamp());
    }

    @Test
    void aReadInProgressKeepsItsBytesWhenItsSegmentIsReplaced() throws IOException {
        PartitionLog log = topic(compacted());
        fill(log, 0, 40, 3, T);
        PartitionLog.LogRead before = log.read(0, Integer.MAX_VALUE, true);
        byte[] expected = Batches.sliceBytes(before);

        assertEquals(1, store.compactLogs());

        assertArrayEquals(expected, Batches.sliceBytes(before), "the replaced segment is still readable");
        assertTrue(Stores.countFiles(log.dir(), Segment.DELETED_SUFFIX) > 0, "it waits for file.delete.delay.ms");
        assertFalse(Arrays.equals(expected, Batches.sliceBytes(log.read(0, Integer.MAX_VALUE, true))));
    }

    /**
     * Readers during a compaction see, for each run of segments, the old segments or the compacted one: a read starts
     * at a record that was appended there, and never skips a record that compaction keeps.
     */
    @Test
    void readsDuringACompactionNeverSkipARecordThatSurvives() throws Exception {
        PartitionLog log = topic(compacted(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01"));
        List<Entry> appended = new ArrayList<>(fill(log, 0, 200, 9, T));
        List<Long> survivors = Compacted.compacted(appended, activeBase(log), e -> true).stream()
                .map(Entry::offset).toList();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.Random random = new java.util.Random(7);
        Thread reader = new Thread(() -> {
            while (!done.get() || reads.get() < 100) {
                long offset = random.nextInt(200);
                List<MutableRecordBatch> batches = Batches.batchesOf(Batches.sliceBytes(log.read(offset, 1, true)));
                long first = -1;
                for (var record : batches.get(0)) {
                    if (record.offset() >= offset) {
                        first = record.offset();
                        break;
                    }
                }
                long start = first;
                if (first < 0 || survivors.stream().anyMatch(s -> s >= offset && s < start)) {
                    failures.add("a read at " + offset + " started at " + first);
                }
                reads.incrementAndGet();
            }
        }, "reader");
        reader.start();
        try {
            assertEquals(1, store.compactLogs());
        } finally {
            done.set(true);
            reader.join(10_000);
        }

        assertEquals(List.of(), failures);
        assertEquals(survivors, Compacted.read(log).stream().map(Entry::offset).toList());
    }

    // ---------------------------------------------------------------- what is cleanable, and progress

    @Test
    void nothingAboveTheHighWatermarkIsCompacted() throws Exception {
        Path dir = dataDir.resolve("single");
        PartitionLog log = Partitions.create(dir, Partitions.config(compacted()), clock, FlushPolicy.DURABLE,
                Partitions.manualFlushes());
        try {
            for (int i = 0; i < 30; i++) {
                log.append(Batches.entry(T, "k" + i % 3, value(i)));
            }
            LogCleaner cleaner = new LogCleaner(() -> List.of(log), clock, LogCleaner.DEFAULT_KEY_MEMORY, () -> { });
            assertTrue(log.segmentCount() > 2);

            assertEquals(0, cleaner.cleanAll(), "the high watermark is still 0");

            log.flush();
            assertEquals(1, cleaner.cleanAll());
        } finally {
            log.close();
        }
    }

    @Test
    void whenTheKeysDoNotFitOnePassTheNextGoesOnWhereItStopped() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01"));
        List<Entry> appended = fill(log, 0, 50, 7, T);
        long active = activeBase(log);
        // Room for the keys of one segment at most.
        LogCleaner cleaner = new LogCleaner(() -> List.of(log), clock, 1, store::writeCheckpoints);
        List<Long> checkpoints = new ArrayList<>();

        while (log.firstDirtyOffset() < active) {
            assertTrue(cleaner.clean(log, SegmentSwap.NO_LISTENER), "progress at " + log.firstDirtyOffset());
            checkpoints.add(log.firstDirtyOffset());
            assertEquals(Compacted.compacted(appended, log.firstDirtyOffset(), e -> true), Compacted.read(log));
        }

        assertTrue(checkpoints.size() > 2, "one dirty segment per pass: " + checkpoints);
    }

    @Test
    void theCleanerCheckpointSurvivesARestartAndAVersionOneCheckpointFileStillLoads() throws IOException {
        PartitionLog log = topic(compacted(LogConfig.DELETE_RETENTION_MS, "5000"));
        List<Entry> appended = new ArrayList<>();
        appended.add(Compacted.append(log, T, "gone", null));
        appended.addAll(fill(log, 1, 40, 5, T));
        store.deleteRecords(log, 1);
        assertEquals(1, store.compactLogs());
        long firstDirty = log.firstDirtyOffset();
        List<Entry> compacted = Compacted.read(log);

        log = reopen();

        assertEquals(firstDirty, log.firstDirtyOffset());
        assertEquals(T + 5000, log.deleteHorizonMs());
        assertEquals(0, store.compactLogs());
        assertEquals(compacted, Compacted.read(log));

        store.close();
        Path checkpoints = dataDir.resolve("checkpoints");
        MetadataFile.write(checkpoints, CHECKPOINT_MAGIC, (byte) 1, versionOne(checkpoints));
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        log = Stores.log(store, "t", 0);

        assertEquals(1, log.logStartOffset(), "the log start offset of a version 1 file");
        assertEquals(0, log.firstDirtyOffset(), "a version 1 file knows no compaction: everything is dirty");
        assertEquals(-1, log.deleteHorizonMs());
        assertEquals(1, store.compactLogs());
        assertEquals(Compacted.compacted(appended, firstDirty, e -> true).stream().filter(e -> e.offset() >= 1)
                .toList(), Compacted.read(log));
    }

    /** The checkpoints file's payload in format version 1: without the two cleaner fields. */
    private static byte[] versionOne(Path checkpoints) throws IOException {
        ByteBuffer v2 = MetadataFile.read(checkpoints, CHECKPOINT_MAGIC).orElseThrow().payload();
        ByteBuffer v1 = ByteBuffer.allocate(v2.remaining());
        int count = v2.getInt();
        v1.putInt(count);
        for (int p = 0; p < count; p++) {
            byte[] idAndOffsets = new byte[16 + 4 + 8 + 8];
            v2.get(idAndOffsets);
            v1.put(idAndOffsets);
            v2.getLong(); // first dirty offset
            v2.getLong(); // delete horizon
            int ranges = v2.getInt();
            v1.putInt(ranges);
            byte[] rangeBytes = new byte[ranges * 40];
            v2.get(rangeBytes);
            v1.put(rangeBytes);
        }
        byte[] payload = new byte[v1.position()];
        v1.flip().get(payload);
        return payload;
    }

    @Test
    void theCleanerThreadCompactsDueLogsOnItsOwn() throws Exception {
        Duration never = Duration.ofHours(1);
        store = LogManager.open(dataDir, new StorageSettings(FlushPolicy.DURABLE, never, 2, 2, never, never,
                Duration.ofDays(1), Duration.ofMillis(20)), TestKeys.open(dataDir), Map.of(), clock, l -> { });
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, compacted(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01"));
        PartitionLog log = Stores.log(store, "t", 0);
        List<Entry> appended = fill(log, 0, 40, 5, T);
        long active = activeBase(log);

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (log.firstDirtyOffset() < active && System.nanoTime() < deadline) {
            Thread.sleep(10); // waiting for another thread, not for time to pass
        }

        assertEquals(active, log.firstDirtyOffset(), "the cleaner thread compacted the log");
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
    }
}
