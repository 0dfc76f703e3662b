package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Appends, reads, the high watermark and segment rolls of one partition log. */
class PartitionLogTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private PartitionLog open(FlushPolicy policy, FlushScheduler flushes, Map<String, String> overrides)
            throws IOException {
        PartitionLog log = Partitions.create(dir, Partitions.config(overrides), clock, policy, flushes);
        toClose.add(log::close);
        return log;
    }

    /** A log whose high watermark is its written end: what is appended is readable at once. */
    private PartitionLog pageCacheLog(Map<String, String> overrides) throws Exception {
        return open(FlushPolicy.PAGE_CACHE, Partitions.manualFlushes(), overrides);
    }

    private FlushScheduler backgroundFlushes() {
        FlushScheduler flushes = new FlushScheduler(1);
        toClose.add(flushes);
        return flushes;
    }

    /** The batches of the first segment from its {@code from}th on, opened, back to back: what a read returns. */
    private byte[] storedBatches(int from) throws IOException {
        List<byte[]> batches = Partitions.openedBatches(dir, Partitions.segmentFiles(dir).get(0));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        batches.subList(from, batches.size()).forEach(out::writeBytes);
        return out.toByteArray();
    }

    private int storedBatchSize(int index) throws IOException {
        return Partitions.openedBatches(dir, Partitions.segmentFiles(dir).get(0)).get(index).length;
    }

    // ---------------------------------------------------------------- offsets

    @Test
    void appendAssignsConsecutiveOffsetsAcrossBatchesAndRequests() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());

        AppendResult first = log.append(Batches.plain(T, "a", "b", "c"));
        AppendResult second = log.append(Batches.concat(Batches.plain(T, "d", "e"), Batches.plain(T, "f")));
        AppendResult third = log.append(Batches.plain(T, "g"));

        assertEquals(List.of(0L, 2L), List.of(first.firstOffset(), first.lastOffset()));
        assertEquals(List.of(3L, 5L), List.of(second.firstOffset(), second.lastOffset()));
        assertEquals(List.of(6L, 6L), List.of(third.firstOffset(), third.lastOffset()));
        assertFalse(first.duplicate());
        assertEquals(7, log.logEndOffset());

        List<MutableRecordBatch> batches = Batches.readAll(log);
        assertEquals(List.of(0L, 3L, 5L, 6L), batches.stream().map(MutableRecordBatch::baseOffset).toList());
        List<Record> records = Batches.readAllRecords(log);
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g"), Batches.values(records));
        for (int i = 0; i < records.size(); i++) {
            assertEquals(i, records.get(i).offset());
        }
    }

    @Test
    void anEmptyRequestAppendsNothing() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());

        AppendResult result = log.append(MemoryRecords.EMPTY);

        assertEquals(-1, result.firstOffset());
        assertEquals(0, log.logEndOffset());
    }

    // ---------------------------------------------------------------- reads

    @Test
    void aReadFromAnyOffsetInsideABatchReturnsTheStoredBytesFromThatBatchOn() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        log.append(Batches.plain(T, "a", "b", "c"));
        log.append(Batches.withTimestamps(Compression.lz4().build(), new long[] {T, T}, "d", "e"));
        log.append(Batches.plain(T, "f", "g", "h", "i"));
        int[] batchOfOffset = {0, 0, 0, 1, 1, 2, 2, 2, 2};

        for (long offset = 0; offset < 9; offset++) {
            PartitionLog.LogRead read = log.read(offset, Integer.MAX_VALUE, true);
            assertArrayEquals(storedBatches(batchOfOffset[(int) offset]), Batches.sliceBytes(read),
                    "read at " + offset);
            assertEquals(9, read.highWatermark());
            assertEquals(0, read.logStartOffset());
            assertEquals(9, read.logEndOffset());
        }
    }

    @Test
    void minOneBatchReturnsTheWholeFirstBatchEvenAboveMaxBytes() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        log.append(Batches.plain(T, "a", "b", "c"));
        log.append(Batches.plain(T, "d"));
        int firstBatch = storedBatchSize(0);

        byte[] read = Batches.sliceBytes(log.read(1, 1, true));

        assertEquals(firstBatch, read.length);
        assertArrayEquals(Arrays.copyOf(storedBatches(0), firstBatch), read);
    }

    @Test
    void withoutMinOneBatchMaxBytesIsAHardLimit() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        log.append(Batches.plain(T, "a", "b", "c"));

        assertTrue(log.read(0, 0, false).slice().isEmpty());
        byte[] read = Batches.sliceBytes(log.read(0, 10, false));
        assertEquals(10, read.length, "a partial batch, which clients drop");
        assertTrue(Batches.batchesOf(read).isEmpty());
    }

    @Test
    void maxBytesCutsAtTheLimitAndWholeBatchesFitExactly() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        for (int i = 0; i < 3; i++) {
            log.append(Batches.plain(T, "v" + i));
        }
        int twoBatches = storedBatchSize(0) + storedBatchSize(1);

        byte[] exact = Batches.sliceBytes(log.read(0, twoBatches, true));
        byte[] cut = Batches.sliceBytes(log.read(0, twoBatches + 5, true));

        assertEquals(twoBatches, exact.length);
        assertEquals(2, Batches.batchesOf(exact).size());
        assertEquals(twoBatches + 5, cut.length);
        assertEquals(2, Batches.batchesOf(cut).size(), "the cut third batch is not a whole batch");
    }

    @Test
    void readsOutsideTheLogAreOutOfRange() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        log.append(Batches.plain(T, "a", "b"));

        assertThrows(OffsetOutOfRangeException.class, () -> log.read(-1, 1000, true));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(3, 1000, true));
        PartitionLog.LogRead atEnd = log.read(2, 1000, true);
        assertTrue(atEnd.slice().isEmpty(), "the log end offset is in range: nothing to read yet");
        assertEquals(2, atEnd.highWatermark());
    }

    @Test
    void readsBelowTheLogStartOffsetAreOutOfRange() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        log.append(Batches.plain(T, "a", "b", "c"));
        log.append(Batches.plain(T, "d"));

        assertEquals(2, log.advanceLogStartOffset(2));

        assertThrows(OffsetOutOfRangeException.class, () -> log.read(1, 1000, true));
        List<MutableRecordBatch> fromStart = Batches.batchesOf(Batches.sliceBytes(log.read(2, 1000, true)));
        assertEquals(0, fromStart.get(0).baseOffset(), "the batch holding the log start offset is served whole");
    }

    // ---------------------------------------------------------------- high watermark

    @Test
    void underDurableTheHighWatermarkMovesOnlyWithAFlush() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, Partitions.manualFlushes(), Map.of());
        AppendResult appended = log.append(Batches.plain(T, "a", "b", "c"));
        CompletableFuture<Void> acked = log.awaitHighWatermark(appended.lastOffset());

        assertEquals(3, log.logEndOffset());
        assertEquals(0, log.highWatermark());
        assertFalse(acked.isDone());
        PartitionLog.LogRead unflushed = log.read(0, 1000, true);
        assertTrue(unflushed.slice().isEmpty(), "consumers never see what is not fsynced");
        assertEquals(0, unflushed.highWatermark());
        assertEquals(Optional.empty(), log.offsetForTimestamp(T));
        assertEquals(Optional.empty(), log.maxTimestamp());

        log.flush();

        assertEquals(3, log.highWatermark());
        assertEquals(3, log.recoveryPoint());
        assertTrue(acked.isDone());
        assertEquals(List.of("a", "b", "c"), Batches.values(Batches.readAllRecords(log)));
        assertEquals(Optional.of(new TimestampAndOffset(T, 0)), log.offsetForTimestamp(T));
    }

    @Test
    void aReadStopsAtTheHighWatermarkInsideASegment() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, Partitions.manualFlushes(), Map.of());
        log.append(Batches.plain(T, "a"));
        log.flush();
        log.append(Batches.plain(T, "b"));

        List<MutableRecordBatch> read = Batches.batchesOf(Batches.sliceBytes(log.read(0, 1_000_000, true)));

        assertEquals(1, read.size());
        assertEquals(0, read.get(0).baseOffset());
        assertTrue(log.read(1, 1000, true).slice().isEmpty());
    }

    @Test
    void scheduledFlushesAcknowledgeAppends() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, backgroundFlushes(), Map.of());
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            acks.add(log.awaitHighWatermark(log.append(Batches.plain(T, "v" + i)).lastOffset()));
        }

        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        assertTrue(log.highWatermark() >= 20);
        assertEquals(20, Batches.readAll(log).size());
    }

    @Test
    void concurrentProducersGetDistinctOffsetsAndAllTheirAcks() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, backgroundFlushes(), Map.of(LogConfig.SEGMENT_BYTES, "4096"));
        int threads = 4;
        int perThread = 50;
        ExecutorService producers = Executors.newFixedThreadPool(threads);
        List<Future<List<AppendResult>>> results = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int producer = t;
                results.add(producers.submit(() -> {
                    List<AppendResult> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        mine.add(Stores.appendAcked(log, Batches.plain(T, producer + "-" + i, "pad".repeat(i % 7))));
                    }
                    return mine;
                }));
            }
            boolean[] taken = new boolean[threads * perThread * 2];
            for (var result : results) {
                for (AppendResult appended : result.get(30, TimeUnit.SECONDS)) {
                    assertEquals(appended.firstOffset() + 1, appended.lastOffset());
                    for (long offset = appended.firstOffset(); offset <= appended.lastOffset(); offset++) {
                        assertFalse(taken[(int) offset], "offset " + offset + " assigned twice");
                        taken[(int) offset] = true;
                    }
                }
            }
        } finally {
            producers.shutdownNow();
        }

        assertEquals(threads * perThread * 2, log.highWatermark());
        List<String> values = Batches.values(Batches.readAllRecords(log));
        for (int t = 0; t < threads; t++) {
            int producer = t;
            List<String> mine = values.stream().filter(v -> v.startsWith(producer + "-")).toList();
            assertEquals(IntStream.range(0, perThread).mapToObj(i -> producer + "-" + i).toList(),
                    mine, "each producer's records in the order it sent them");
        }
    }

    @Test
    void underPageCacheAppendsAreVisibleAtOnce() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        AppendResult appended = log.append(Batches.plain(T, "a"));

        assertEquals(1, log.highWatermark());
        assertEquals(0, log.recoveryPoint(), "not fsynced yet");
        assertTrue(log.awaitHighWatermark(appended.lastOffset()).isDone());
    }

    @Test
    void underPageCacheAWaiterCompletesWithTheAppendThatPassesIt() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());
        CompletableFuture<Void> newData = log.awaitHighWatermark(0);
        assertFalse(newData.isDone());

        log.append(Batches.plain(T, "a"));

        assertTrue(newData.isDone(), "the high watermark passed 0 with the append, no flush needed");
    }

    @Test
    void aWaiterCompletesWhenItsOffsetIsPassedWhateverWaitersCameBefore() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, Partitions.manualFlushes(), Map.of());
        CompletableFuture<Void> far = log.awaitHighWatermark(100);
        AppendResult appended = log.append(Batches.plain(T, "a"));
        CompletableFuture<Void> near = log.awaitHighWatermark(appended.lastOffset());

        log.flush();

        assertTrue(near.isDone(), "offset 0 is below the high watermark 1");
        assertFalse(far.isDone());
    }

    @Test
    void closingALogAcknowledgesWhatItFlushesAndFailsTheRestOfItsWaiters() throws Exception {
        PartitionLog log = open(FlushPolicy.DURABLE, Partitions.manualFlushes(), Map.of());
        log.append(Batches.plain(T, "a"));
        CompletableFuture<Void> acked = log.awaitHighWatermark(0);
        CompletableFuture<Void> newData = log.awaitHighWatermark(1);

        log.close();

        assertTrue(acked.isDone());
        assertFalse(acked.isCompletedExceptionally(), "the close flushed offset 0");
        assertTrue(newData.isCompletedExceptionally(), "no data can come any more: the waiter must not hang");
        assertTrue(log.awaitHighWatermark(5).isCompletedExceptionally(), "nor may a waiter after the close");
    }

    // ---------------------------------------------------------------- rolls

    @Test
    void segmentsRollAtSegmentBytes() throws Exception {
        PartitionLog log = pageCacheLog(Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<Long> batchBases = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            batchBases.add(log.append(Batches.plain(T, "value-" + i + "-" + "x".repeat(100), "y")).firstOffset());
        }

        List<Path> files = Partitions.segmentFiles(dir);
        assertTrue(files.size() >= 5, "30 batches of ~200 bytes fill several 1 KiB segments: " + files.size());
        assertEquals(files.size(), log.segmentCount());
        for (Path file : files) {
            assertTrue(Partitions.dataEnd(file) <= 1024, file + " holds " + Partitions.dataEnd(file) + " bytes");
            long base = Long.parseLong(file.getFileName().toString().replace(".log", ""));
            assertTrue(batchBases.contains(base), "a segment starts at a batch: " + base);
        }
        List<MutableRecordBatch> batches = Batches.readAll(log);
        assertEquals(batchBases, batches.stream().map(MutableRecordBatch::baseOffset).toList());
        assertEquals(60, log.logEndOffset());
    }

    @Test
    void aBatchLargerThanASegmentGetsASegmentOfItsOwn() throws Exception {
        PartitionLog log = pageCacheLog(Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        log.append(Batches.plain(T, "small"));
        log.append(Batches.plain(T, "x".repeat(2000)));
        log.append(Batches.plain(T, "small"));

        assertEquals(3, log.segmentCount());
        assertEquals(List.of("small", "x".repeat(2000), "small"), Batches.values(Batches.readAllRecords(log)));
    }

    @Test
    void segmentsRollAtSegmentMsByRecordTimestamps() throws Exception {
        PartitionLog log = pageCacheLog(Map.of(LogConfig.SEGMENT_MS, "1000"));

        log.append(Batches.plain(T, "a"));
        log.append(Batches.plain(T + 1000, "b"));
        assertEquals(1, log.segmentCount(), "exactly segment.ms later is not yet older than segment.ms");
        log.append(Batches.plain(T + 1001, "c"));
        assertEquals(2, log.segmentCount());
        log.append(Batches.plain(T + 500, "d"));
        log.append(Batches.plain(T + 2001, "e"));
        assertEquals(2, log.segmentCount(), "the new segment's clock starts at its first batch, T + 1001");
        log.append(Batches.plain(T + 2002, "f"));
        assertEquals(3, log.segmentCount());

        assertEquals(clock.millis(), T, "the broker clock never moved: the record timestamps decided");
        List<Path> files = Partitions.segmentFiles(dir);
        assertEquals(List.of("00000000000000000000.log", "00000000000000000002.log", "00000000000000000005.log"),
                files.stream().map(f -> f.getFileName().toString()).toList());
    }

    @Test
    void underLogAppendTimeSegmentMsFollowsTheBrokerClock() throws Exception {
        PartitionLog log = pageCacheLog(Map.of(LogConfig.SEGMENT_MS, "1000",
                LogConfig.TIMESTAMP_TYPE, "LogAppendTime"));

        log.append(Batches.plain(T + 5000, "a"));
        clock.advance(Duration.ofMillis(1000));
        log.append(Batches.plain(T - 5000, "b"));
        assertEquals(1, log.segmentCount());
        clock.advance(Duration.ofMillis(1));
        log.append(Batches.plain(T - 5000, "c"));
        assertEquals(2, log.segmentCount());
    }

    // ---------------------------------------------------------------- LogAppendTime

    @Test
    void logAppendTimeStampsEachBatchWithTheBrokerClock() throws Exception {
        PartitionLog log = pageCacheLog(Map.of(LogConfig.TIMESTAMP_TYPE, "LogAppendTime"));

        AppendResult first = log.append(Batches.plain(T - 60_000, "a", "b"));
        clock.advance(Duration.ofSeconds(1));
        AppendResult second = log.append(Batches.withTimestamps(Compression.gzip().build(),
                new long[] {T + 7_200_000, T + 7_200_000}, "c", "d"));

        assertEquals(T, first.logAppendTime());
        assertEquals(T + 1000, second.logAppendTime(), "no timestamp check under LogAppendTime");
        List<MutableRecordBatch> batches = Batches.readAll(log);
        for (int i = 0; i < 2; i++) {
            assertEquals(TimestampType.LOG_APPEND_TIME, batches.get(i).timestampType());
            assertEquals(T + 1000L * i, batches.get(i).maxTimestamp());
            assertTrue(batches.get(i).isValid());
            for (Record record : batches.get(i)) {
                assertEquals(T + 1000L * i, record.timestamp());
            }
        }
    }

    @Test
    void createTimeKeepsTheProducersTimestamps() throws Exception {
        PartitionLog log = pageCacheLog(Map.of());

        AppendResult result = log.append(Batches.withTimestamps(Compression.NONE, new long[] {T - 5, T - 9}, "a", "b"));

        assertEquals(-1, result.logAppendTime());
        MutableRecordBatch batch = Batches.readAll(log).get(0);
        assertEquals(TimestampType.CREATE_TIME, batch.timestampType());
        assertEquals(List.of(T - 5, T - 9), Batches.readAllRecords(log).stream().map(Record::timestamp).toList());
    }
}
