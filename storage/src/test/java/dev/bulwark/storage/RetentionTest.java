package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retention by size and time, and DeleteRecords: the oldest segments go and the log start offset follows. */
class RetentionTest {

    private static final long T = MutableClock.START_MS;
    private static final String VALUE = "v".repeat(250);
    /** Room for the segment header and three sealed frames of {@link #VALUE}, not four. */
    private static final String SEGMENT_BYTES = "1400";

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

    private PartitionLog topic(Map<String, String> configs) throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, configs);
        return Stores.log(store, "t", 0);
    }

    private List<Long> segmentBases(PartitionLog log) throws IOException {
        List<Long> bases = new ArrayList<>();
        for (Path file : Partitions.segmentFiles(log.dir())) {
            bases.add(Long.parseLong(file.getFileName().toString().replace(Segment.LOG_SUFFIX, "")));
        }
        return bases;
    }

    /** Appends 12 batches of one ~330-byte record: three per segment of {@link #SEGMENT_BYTES}, four segments. */
    private void fill(PartitionLog log, long timestamp) {
        for (int i = 0; i < 12; i++) {
            Stores.appendAcked(log, Batches.plain(timestamp, VALUE + i));
        }
    }

    @Test
    void retentionBytesDropsTheOldestSegmentsThatTheLimitDoesNotNeed() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        fill(log, T);
        assertEquals(List.of(0L, 3L, 6L, 9L), segmentBases(log));
        List<Long> sizes = new ArrayList<>();
        for (Path file : Partitions.segmentFiles(log.dir())) {
            sizes.add(Partitions.dataEnd(file) - Segment.HEADER_SIZE);
        }
        long lastTwo = sizes.get(2) + sizes.get(3);

        retentionBytes(lastTwo + 1);
        assertEquals(List.of(3L, 6L, 9L), segmentBases(log), "without the second segment it would be too small");

        retentionBytes(lastTwo);
        assertEquals(List.of(6L, 9L), segmentBases(log), "the last two segments fit retention.bytes exactly");
        assertEquals(6, log.logStartOffset());
        assertEquals(lastTwo, log.sizeInBytes());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(5, 1000, true));
        assertEquals(List.of(6L, 7L, 8L, 9L, 10L, 11L),
                Batches.readAll(log).stream().map(MutableRecordBatch::baseOffset).toList());

        retentionBytes(0);
        assertEquals(List.of(12L), segmentBases(log), "nothing kept: the active segment is rolled and deleted too");
        assertEquals(12, log.logStartOffset());
    }

    private void retentionBytes(long bytes) throws IOException {
        store.alterTopicConfigs(store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow().id(),
                Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES, LogConfig.RETENTION_BYTES, Long.toString(bytes)));
        store.applyRetention();
    }

    @Test
    void retentionMsDropsSegmentsWhoseNewestRecordIsTooOld() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_MS, "1000", LogConfig.RETENTION_MS, "10000"));
        Stores.appendAcked(log, Batches.plain(T, "a"));
        Stores.appendAcked(log, Batches.plain(T + 1001, "b"));
        Stores.appendAcked(log, Batches.plain(T + 2002, "c"));
        assertEquals(List.of(0L, 1L, 2L), segmentBases(log));

        clock.advance(Duration.ofMillis(10_000 + 1001));
        store.applyRetention();
        assertEquals(List.of(1L, 2L), segmentBases(log), "T + 1001 is exactly retention.ms old: kept");

        clock.advance(Duration.ofMillis(1));
        store.applyRetention();
        assertEquals(List.of(2L), segmentBases(log));
        assertEquals(2, log.logStartOffset());
        assertEquals(List.of("c"), Batches.values(Batches.readAllRecords(log)));
    }

    @Test
    void whenEverythingExpiresTheActiveSegmentIsRolledAndOffsetsContinue() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES, LogConfig.RETENTION_MS, "60000"));
        fill(log, T);

        clock.advance(Duration.ofMinutes(2));
        store.applyRetention();

        assertEquals(List.of(12L), segmentBases(log));
        assertEquals(12, log.logStartOffset());
        assertEquals(12, log.logEndOffset());
        assertEquals(0, log.sizeInBytes());
        assertTrue(log.read(12, 1000, true).slice().isEmpty());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(11, 1000, true));

        assertEquals(12, Stores.appendAcked(log, Batches.plain(clock.millis(), "next")).firstOffset());
        assertEquals(List.of("next"), Batches.values(Batches.readAllRecords(log)));
    }

    @Test
    void unlimitedRetentionKeepsEverything() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES, LogConfig.RETENTION_MS, "-1",
                LogConfig.RETENTION_BYTES, "-1"));
        fill(log, T);

        clock.advance(Duration.ofDays(3650));
        store.applyRetention();

        assertEquals(4, log.segmentCount());
        assertEquals(0, log.logStartOffset());
    }

    @Test
    void aCompactedTopicIsNotTrimmedByTimeOrSize() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.CLEANUP_POLICY, "compact", LogConfig.SEGMENT_BYTES, SEGMENT_BYTES,
                LogConfig.RETENTION_MS, "1", LogConfig.RETENTION_BYTES, "0"));
        for (int i = 0; i < 6; i++) {
            Stores.appendAcked(log, Batches.keyed(Compression.NONE, T, VALUE));
        }

        clock.advance(Duration.ofDays(1));
        store.applyRetention();

        assertEquals(0, log.logStartOffset());
    }

    @Test
    void retentionNeverDeletesWhatIsNotAcknowledged() throws Exception {
        Path dir = dataDir.resolve("single");
        PartitionLog log = Partitions.create(dir, Partitions.config(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES,
                LogConfig.RETENTION_MS, "1000")), clock, FlushPolicy.DURABLE, Partitions.manualFlushes());
        try {
            for (int i = 0; i < 6; i++) {
                log.append(Batches.plain(T, VALUE + i));
            }
            clock.advance(Duration.ofDays(1));

            assertEquals(0, log.applyRetention(), "the high watermark is still 0");

            log.flush();
            assertEquals(2, log.applyRetention());
            assertEquals(6, log.logStartOffset());
        } finally {
            log.close();
        }
    }

    @Test
    void deleteRecordsMovesTheLogStartOffsetAndFreesSegmentsWhollyBelowIt() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        fill(log, T);

        assertEquals(7, store.deleteRecords(log, 7));

        assertEquals(7, log.logStartOffset());
        assertEquals(List.of(6L, 9L), segmentBases(log), "the segment holding offset 7 stays");
        assertEquals(0, Stores.countFiles(log.dir(), "00000000000000000000.log"));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(6, 1000, true));
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(0, 1000, true));
        List<MutableRecordBatch> fromStart = Batches.batchesOf(Batches.sliceBytes(log.read(7, 100_000, true)));
        assertEquals(7, fromStart.get(0).baseOffset());

        assertEquals(7, store.deleteRecords(log, 3), "the log start offset never moves back");
    }

    @Test
    void deleteRecordsToTheHighWatermarkEmptiesTheLog() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        fill(log, T);

        assertEquals(12, store.deleteRecords(log, -1));

        assertEquals(List.of(12L), segmentBases(log));
        assertEquals(12, log.logEndOffset());
        assertThrows(OffsetOutOfRangeException.class, () -> log.read(11, 1000, true));
    }

    @Test
    void deleteRecordsAboveTheHighWatermarkIsOutOfRange() throws IOException {
        PartitionLog log = topic(Map.of());
        Stores.appendAcked(log, Batches.plain(T, "a", "b"));

        assertThrows(OffsetOutOfRangeException.class, () -> store.deleteRecords(log, 3));
        assertEquals(0, log.logStartOffset());
    }

    @Test
    void theLogStartOffsetSurvivesARestart() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        fill(log, T);
        store.deleteRecords(log, 7);
        store.close();

        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        PartitionLog reopened = Stores.log(store, "t", 0);

        assertEquals(7, reopened.logStartOffset());
        assertThrows(OffsetOutOfRangeException.class, () -> reopened.read(6, 1000, true));
        assertEquals(12, reopened.logEndOffset());
    }

    @Test
    void deletedSegmentFilesLeaveTheLogAtOnceAndTheDiskByTheNextStart() throws IOException {
        PartitionLog log = topic(Map.of(LogConfig.SEGMENT_BYTES, SEGMENT_BYTES));
        fill(log, T);
        Path dir = log.dir();
        store.deleteRecords(log, 9);

        assertEquals(1, Stores.countFiles(dir, Segment.LOG_SUFFIX));
        store.close();
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);

        assertEquals(0, Stores.countFiles(dir, Segment.DELETED_SUFFIX));
        assertFalse(Files.exists(dir.resolve("00000000000000000000.index")));
        assertEquals(9, Stores.log(store, "t", 0).logStartOffset());
    }
}
