package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opening a data directory after an unclean stop: the valid prefix, torn tails cut, corrupt stretches fenced. */
class RecoveryTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path root;

    private final MutableClock clock = new MutableClock();
    private final List<LogManager> stores = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        for (LogManager store : stores) {
            store.close();
        }
    }

    private LogManager open(Path dataDir) throws IOException {
        LogManager store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        stores.add(store);
        return store;
    }

    /** The data directory as a crash would leave it: copied while the store is open. */
    private Path crashCopy(Path dataDir) throws IOException {
        Path copy = root.resolve("crash-" + stores.size() + "-" + System.nanoTime());
        Stores.copyTree(dataDir, copy);
        return copy;
    }

    private static PartitionLog only(LogManager store) {
        return Stores.log(store, "t", 0);
    }

    private static List<MutableRecordBatch> batches(PartitionLog log) {
        return Batches.readAll(log);
    }

    private static byte[] bytesOf(List<MutableRecordBatch> batches) {
        ByteBuffer all = ByteBuffer.allocate(batches.stream().mapToInt(MutableRecordBatch::sizeInBytes).sum());
        batches.forEach(b -> b.writeTo(all));
        return all.array();
    }

    /** A store with topic "t" holding {@code count} acknowledged batches of 1 to 3 records, some compressed. */
    private LogManager storeWithBatches(Path dataDir, Map<String, String> configs, int count) throws IOException {
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, configs);
        PartitionLog log = only(store);
        for (int i = 0; i < count; i++) {
            String[] values = new String[1 + i % 3];
            Arrays.fill(values, "value-" + i + "-" + "p".repeat(40));
            Compression compression = i % 4 == 3 ? Compression.gzip().build() : Compression.NONE;
            Stores.appendAcked(log, Batches.withTimestamps(compression, Batches.timestamps(T + i, values.length),
                    values));
        }
        return store;
    }

    private static Path lastSegment(Path partitionDir) throws IOException {
        List<Path> files = Partitions.segmentFiles(partitionDir);
        return files.get(files.size() - 1);
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    /** Bytes after the last batch, where a crash leaves them (over any preallocated zeroes). */
    private static void appendBytes(Path file, byte[] bytes) throws IOException {
        Partitions.writeAfterData(file, bytes);
    }

    private static void flipByte(Path file, long position) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) position] ^= 0x5A;
        Files.write(file, bytes);
    }

    // ---------------------------------------------------------------- whole logs

    @Test
    void aCopyTakenWhileOpenReopensWithEveryAcknowledgedBatch() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(LogConfig.SEGMENT_BYTES, "1024"), 40);
        PartitionLog log = only(store);
        List<MutableRecordBatch> before = batches(log);
        Optional<TimestampAndOffset> lookup = log.offsetForTimestamp(T + 17);

        PartitionLog recovered = only(open(crashCopy(dataDir)));

        assertTrue(recovered.segmentCount() > 5);
        assertEquals(log.logEndOffset(), recovered.logEndOffset());
        assertEquals(log.logEndOffset(), recovered.highWatermark());
        assertArrayEquals(bytesOf(before), bytesOf(batches(recovered)));
        assertEquals(lookup, recovered.offsetForTimestamp(T + 17));
        assertEquals(log.maxTimestamp(), recovered.maxTimestamp());
        assertEquals(log.logEndOffset(), Stores.appendAcked(recovered, Batches.plain(T, "next")).firstOffset());
    }

    @Test
    void withoutTheCleanMarkerAndTheIndexesTheLogIsRebuiltWhole() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(LogConfig.SEGMENT_BYTES, "1024",
                LogConfig.INDEX_INTERVAL_BYTES, "100"), 40);
        List<MutableRecordBatch> before = batches(only(store));
        List<Optional<TimestampAndOffset>> lookups = new ArrayList<>();
        for (int i = -1; i <= 40; i++) {
            lookups.add(only(store).offsetForTimestamp(T + i));
        }
        Path partitionDir = only(store).dir();
        store.close();
        Files.delete(dataDir.resolve(".clean-shutdown"));
        try (var files = Files.list(partitionDir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(Segment.INDEX_SUFFIX)).toList()) {
                Files.delete(file);
            }
        }

        PartitionLog recovered = only(open(dataDir));

        assertArrayEquals(bytesOf(before), bytesOf(batches(recovered)));
        for (int i = -1; i <= 40; i++) {
            assertEquals(lookups.get(i + 1), recovered.offsetForTimestamp(T + i), "lookup of T + " + i);
        }
        assertEquals(Stores.countFiles(partitionDir, Segment.LOG_SUFFIX) - 1,
                Stores.countFiles(partitionDir, Segment.INDEX_SUFFIX), "every sealed segment has its index again");
    }

    // ---------------------------------------------------------------- torn tails

    @ParameterizedTest
    @ValueSource(ints = {1, 11, 12, 60, 61, 62, -1})
    void aTornLastBatchIsTruncated(int keptBytesOfLastBatch) throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(), 6);
        List<MutableRecordBatch> before = batches(only(store));
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        int lastBatch = Partitions.batchPositions(segment).get(5);
        int kept = keptBytesOfLastBatch >= 0 ? keptBytesOfLastBatch : before.get(5).sizeInBytes() - 1;
        truncate(segment, lastBatch + kept);

        PartitionLog recovered = only(open(copy));

        assertEquals(before.get(4).nextOffset(), recovered.logEndOffset());
        assertArrayEquals(bytesOf(before.subList(0, 5)), bytesOf(batches(recovered)));
        assertEquals(lastBatch, Files.size(segment), "the torn bytes are cut from the file");
        AppendResult next = Stores.appendAcked(recovered, Batches.plain(T, "next"));
        assertEquals(before.get(4).nextOffset(), next.firstOffset(), "offsets continue after the valid prefix");
        List<Record> records = Batches.readAllRecords(recovered);
        assertEquals("next", Batches.value(records.get(records.size() - 1)));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 61, 5000})
    void garbageAfterTheLastBatchIsTruncated(int garbageBytes) throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(), 6);
        List<MutableRecordBatch> before = batches(only(store));
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        long size = Partitions.dataEnd(segment);
        byte[] garbage = new byte[garbageBytes];
        new Random(garbageBytes).nextBytes(garbage);
        appendBytes(segment, garbage);

        PartitionLog recovered = only(open(copy));

        assertArrayEquals(bytesOf(before), bytesOf(batches(recovered)));
        assertEquals(size, Files.size(segment));
    }

    @Test
    void zeroesAfterTheLastBatchAreTruncated() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(), 3);
        List<MutableRecordBatch> before = batches(only(store));
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        appendBytes(segment, new byte[4096]);

        assertArrayEquals(bytesOf(before), bytesOf(batches(only(open(copy)))));
    }

    @Test
    void aSegmentWhoseCreationWasCutShortIsStartedAgain() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(LogConfig.SEGMENT_BYTES, "1024"), 20);
        PartitionLog log = only(store);
        List<MutableRecordBatch> before = batches(log);
        Path copy = crashCopy(dataDir);
        Path partitionDir = Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0);
        // A roll created the next segment's file, but the crash came before its header reached the disk.
        Path next = partitionDir.resolve(Segment.fileName(log.logEndOffset()) + Segment.LOG_SUFFIX);
        Files.write(next, new byte[7]);

        PartitionLog recovered = only(open(copy));

        assertArrayEquals(bytesOf(before), bytesOf(batches(recovered)));
        assertEquals(log.logEndOffset(), Stores.appendAcked(recovered, Batches.plain(T, "next")).firstOffset());
    }

    // ---------------------------------------------------------------- corruption in the middle

    /**
     * Batches 0..5 of one segment; batch 2 (offsets [3, 6)) gets a damaged byte at {@code offsetInBatch}, then the
     * store reopens after an unclean stop.
     */
    private void corruptBatchTwoAndCheckItIsFenced(int offsetInBatch) throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(), 6);
        List<MutableRecordBatch> before = batches(only(store));
        assertEquals(List.of(0L, 1L, 3L, 6L, 7L, 9L), before.stream().map(MutableRecordBatch::baseOffset).toList());
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        flipByte(segment, Partitions.batchPositions(segment).get(2) + offsetInBatch);

        LogManager recoveredStore = open(copy);
        assertFenced(only(recoveredStore), before);

        // Clean restart: no recovery scan, the fence comes from the checkpoints file.
        recoveredStore.close();
        assertTrue(Files.exists(copy.resolve(".clean-shutdown")));
        assertFenced(only(open(copy)), before);
    }

    private static void assertFenced(PartitionLog log, List<MutableRecordBatch> before) {
        assertEquals(12, log.logEndOffset());
        List<MutableRecordBatch> head = Batches.batchesOf(Batches.sliceBytes(log.read(0, Integer.MAX_VALUE, true)));
        assertArrayEquals(bytesOf(before.subList(0, 2)), bytesOf(head), "a read before the damage stops short of it");
        for (long offset = 3; offset < 6; offset++) {
            long at = offset;
            assertThrows(KafkaStorageException.class, () -> log.read(at, Integer.MAX_VALUE, true), "offset " + at);
        }
        List<MutableRecordBatch> tail = Batches.batchesOf(Batches.sliceBytes(log.read(6, Integer.MAX_VALUE, true)));
        assertArrayEquals(bytesOf(before.subList(3, 6)), bytesOf(tail));
        assertFalse(log.isOffline(), "one damaged batch does not take the partition offline");
        assertEquals(Optional.of(new TimestampAndOffset(T + 3, 6)), log.offsetForTimestamp(T + 2));
    }

    @ParameterizedTest
    @ValueSource(ints = {21, 40, 70, 90})
    void aDamagedBatchBetweenValidOnesIsFencedAcrossRestarts(int offsetInBatch) throws IOException {
        corruptBatchTwoAndCheckItIsFenced(offsetInBatch);
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 6, 5})
    void aDamagedBaseOffsetIsFencedWithoutLosingTheBatchesAfterIt(int offsetInBatch) throws IOException {
        // The base offset is not covered by the CRC: 3 ^ 0x5A = 89 at byte 7, and far larger at bytes 5 and 6.
        corruptBatchTwoAndCheckItIsFenced(offsetInBatch);
    }

    @Test
    void aDamagedLengthFieldIsFenced() throws IOException {
        corruptBatchTwoAndCheckItIsFenced(BatchHeader.LENGTH_OFFSET + 3);
    }

    @Test
    void aFenceSurvivesALaterUncleanRestart() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(), 6);
        List<MutableRecordBatch> before = batches(only(store));
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        flipByte(segment, Partitions.batchPositions(segment).get(2) + 50);
        LogManager first = open(copy);
        Stores.appendAcked(only(first), Batches.plain(T + 20, "after"));

        PartitionLog second = only(open(crashCopy(copy)));

        assertThrows(KafkaStorageException.class, () -> second.read(4, 1000, true));
        assertEquals(13, second.logEndOffset());
        List<MutableRecordBatch> tail = Batches.batchesOf(Batches.sliceBytes(second.read(6, 100_000, true)));
        assertArrayEquals(bytesOf(before.subList(3, 6)), bytesOf(tail.subList(0, 3)));
        assertEquals("after", Batches.value(tail.get(3).iterator().next()));
    }

    @Test
    void aFencedLogKeepsAppendingAndServesTheNewBatchesAfterACleanRestart() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(LogConfig.INDEX_INTERVAL_BYTES, "1"), 6);
        Path copy = crashCopy(dataDir);
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        flipByte(segment, Partitions.batchPositions(segment).get(2) + 50);
        LogManager recovered = open(copy);
        for (int i = 0; i < 5; i++) {
            Stores.appendAcked(only(recovered), Batches.plain(T + 100 + i, "after-" + i));
        }
        recovered.close();

        PartitionLog reopened = only(open(copy));

        assertThrows(KafkaStorageException.class, () -> reopened.read(5, 1000, true));
        List<MutableRecordBatch> after = Batches.batchesOf(Batches.sliceBytes(reopened.read(13, 100_000, true)));
        assertEquals(List.of(13L, 14L, 15L, 16L), after.stream().map(MutableRecordBatch::baseOffset).toList());
        assertEquals(Optional.of(new TimestampAndOffset(T + 102, 14)), reopened.offsetForTimestamp(T + 102));
        assertEquals(Optional.of(new TimestampAndOffset(T + 104, 16)), reopened.maxTimestamp());
    }

    @Test
    void aDamagedBatchInAnOlderSegmentIsFencedToTheSegmentEnd() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = storeWithBatches(dataDir, Map.of(LogConfig.SEGMENT_BYTES, "1024"), 30);
        List<MutableRecordBatch> before = batches(only(store));
        Path copy = crashCopy(dataDir);
        List<Path> segments = Partitions.segmentFiles(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        Path second = segments.get(1);
        List<Integer> positions = Partitions.batchPositions(second);
        // The last batch of an older segment: nothing valid follows it in its file.
        flipByte(second, positions.get(positions.size() - 1) + 30);

        PartitionLog recovered = only(open(copy));

        long thirdBase = Long.parseLong(segments.get(2).getFileName().toString().replace(Segment.LOG_SUFFIX, ""));
        assertThrows(KafkaStorageException.class, () -> recovered.read(thirdBase - 1, 1000, true));
        assertEquals(before.get(before.size() - 1).nextOffset(), recovered.logEndOffset(),
                "only the newest segment can have a torn tail: nothing after the damage is cut");
        List<MutableRecordBatch> fromThird = new ArrayList<>();
        long offset = thirdBase;
        while (offset < recovered.highWatermark()) {
            PartitionLog.LogRead read = recovered.read(offset, 1 << 20, true);
            List<MutableRecordBatch> batches = Batches.batchesOf(Batches.sliceBytes(read));
            fromThird.addAll(batches);
            offset = batches.get(batches.size() - 1).nextOffset();
        }
        List<MutableRecordBatch> expected = before.stream().filter(b -> b.baseOffset() >= thirdBase).toList();
        assertArrayEquals(bytesOf(expected), bytesOf(fromThird));
    }

    // ---------------------------------------------------------------- producer state

    @Test
    void aRetryAfterACleanRestartIsStillADuplicate() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        AppendResult original = appendIdempotent(only(store), 12);
        store.close();

        PartitionLog reopened = only(open(dataDir));
        AppendResult retry = reopened.append(Batches.idempotent(77L, (short) 1, 11, T, "v11"));

        assertTrue(retry.duplicate());
        assertEquals(original.firstOffset(), retry.firstOffset());
        assertEquals(12, reopened.logEndOffset());
        assertFalse(reopened.append(Batches.idempotent(77L, (short) 1, 12, T, "v12")).duplicate());
    }

    @Test
    void aRetryAfterAnUncleanStopIsStillADuplicate() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        AppendResult original = appendIdempotent(only(store), 12);
        assertTrue(Stores.countFiles(only(store).dir(), ".snapshot") > 0, "rolls wrote producer snapshots");

        PartitionLog recovered = only(open(crashCopy(dataDir)));
        AppendResult retry = recovered.append(Batches.idempotent(77L, (short) 1, 11, T, "v11"));

        assertTrue(retry.duplicate());
        assertEquals(original.firstOffset(), retry.firstOffset());
        assertThrows(OutOfOrderSequenceException.class,
                () -> recovered.append(Batches.idempotent(77L, (short) 1, 14, T, "gap")));
    }

    @Test
    void producerStateIsRebuiltFromTheLogWhenNoSnapshotIsUsable() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        AppendResult original = appendIdempotent(only(store), 12);
        Path copy = crashCopy(dataDir);
        try (var files = Files.walk(copy)) {
            for (Path snapshot : files.filter(f -> f.toString().endsWith(".snapshot")).toList()) {
                Files.write(snapshot, new byte[] {1, 2, 3}); // unreadable
            }
        }

        AppendResult retry = only(open(copy)).append(Batches.idempotent(77L, (short) 1, 11, T, "v11"));

        assertTrue(retry.duplicate());
        assertEquals(original.firstOffset(), retry.firstOffset());
    }

    /** Appends {@code count} one-record batches of producer 77, sequences 0.., each ~300 bytes; returns the last. */
    private static AppendResult appendIdempotent(PartitionLog log, int count) {
        AppendResult last = null;
        for (int i = 0; i < count; i++) {
            last = Stores.appendAcked(log, Batches.idempotent(77L, (short) 1, i, T, "v" + i + "q".repeat(250)));
        }
        return last;
    }

    // ---------------------------------------------------------------- log start offset

    @Test
    void aCrashThatLosesUnflushedDataNeverLeavesTheLogStartAboveTheLogEnd() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = Stores.open(dataDir, clock, FlushPolicy.PAGE_CACHE);
        stores.add(store);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of());
        PartitionLog log = only(store);
        for (int i = 0; i < 5; i++) {
            log.append(Batches.plain(T, "v" + i));
        }
        store.deleteRecords(log, 3);
        long durable = log.recoveryPoint();
        Path copy = crashCopy(dataDir);
        // A machine crash under PAGE_CACHE keeps only what was fsynced.
        Path segment = lastSegment(Stores.partitionDir(copy, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow(), 0));
        List<Integer> positions = Partitions.batchPositions(segment);
        if (durable < positions.size()) {
            truncate(segment, positions.get((int) durable));
        }

        LogManager reopened = Stores.open(copy, clock, FlushPolicy.PAGE_CACHE);
        stores.add(reopened);
        PartitionLog recovered = only(reopened);

        assertTrue(recovered.logStartOffset() <= recovered.logEndOffset(),
                "log start " + recovered.logStartOffset() + " is above the log end " + recovered.logEndOffset());
        AppendResult next = recovered.append(Batches.plain(T, "next"));
        List<Record> records = Batches.readAllRecords(recovered);
        assertEquals("next", Batches.value(records.get(records.size() - 1)), "what is appended can be read");
        assertEquals(next.firstOffset(), records.get(records.size() - 1).offset());
    }
}
