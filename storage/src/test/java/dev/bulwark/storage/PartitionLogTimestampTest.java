package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ListOffsets by time: offsetForTimestamp and maxTimestamp name the exact record, also inside compressed batches. */
class PartitionLogTimestampTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private PartitionLog log;

    @AfterEach
    void close() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private PartitionLog open(Map<String, String> overrides) throws Exception {
        log = Partitions.create(dir, Partitions.config(overrides), clock, FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
        return log;
    }

    private static Compression compression(String name) {
        return Compression.of(name).build();
    }

    /**
     * Batches of 1 to 6 records with timestamps that wander back and forth, over several segments with an index entry
     * at nearly every batch; every query from before the first to after the last timestamp is checked against a scan
     * of all records in offset order.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd", "snappy"})
    void offsetForTimestampFindsTheFirstRecordAtOrAfterTheTime(String codec) throws Exception {
        open(Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.INDEX_INTERVAL_BYTES, "1"));
        List<SimpleRecord> appended = appendWanderingTimestamps(new Random(7), compression(codec), 60);
        assertTrue(log.segmentCount() > 3, "several segments: " + log.segmentCount());

        long min = appended.stream().mapToLong(SimpleRecord::timestamp).min().orElseThrow();
        long max = appended.stream().mapToLong(SimpleRecord::timestamp).max().orElseThrow();
        for (long query = min - 1; query <= max + 1; query++) {
            assertEquals(expectedAtOrAfter(appended, query, 0), log.offsetForTimestamp(query), "query " + query);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd", "snappy"})
    void maxTimestampNamesTheEarliestRecordWithTheLargestTimestamp(String codec) throws Exception {
        open(Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<SimpleRecord> appended = appendWanderingTimestamps(new Random(11), compression(codec), 40);
        long max = appended.stream().mapToLong(SimpleRecord::timestamp).max().orElseThrow();
        // The same largest timestamp again, later: the earlier record is the answer.
        log.append(MemoryRecords.withRecords(compression(codec),
                new SimpleRecord(max - 1, null, Batches.utf8("smaller")),
                new SimpleRecord(max, null, Batches.utf8("tie"))));

        int first = 0;
        while (appended.get(first).timestamp() != max) {
            first++;
        }
        assertEquals(Optional.of(new TimestampAndOffset(max, first)), log.maxTimestamp());
    }

    @Test
    void aLargestTimestampInsideACompressedBatchIsFoundByRecord() throws Exception {
        open(Map.of());
        log.append(Batches.plain(T, "a"));
        log.append(Batches.withTimestamps(compression("zstd"), new long[] {T + 1, T + 50, T + 20}, "b", "c", "d"));
        log.append(Batches.plain(T + 30, "e"));

        assertEquals(Optional.of(new TimestampAndOffset(T + 50, 2)), log.maxTimestamp());
        assertEquals(Optional.of(new TimestampAndOffset(T + 1, 1)), log.offsetForTimestamp(T + 1));
        assertEquals(Optional.of(new TimestampAndOffset(T + 50, 2)), log.offsetForTimestamp(T + 2));
        assertEquals(Optional.of(new TimestampAndOffset(T + 50, 2)), log.offsetForTimestamp(T + 50));
    }

    @Test
    void lookupsAreEmptyOnAnEmptyLogAndPastTheLastTimestamp() throws Exception {
        open(Map.of());
        assertEquals(Optional.empty(), log.offsetForTimestamp(T));
        assertEquals(Optional.empty(), log.maxTimestamp());

        log.append(Batches.plain(T, "a"));

        assertEquals(Optional.empty(), log.offsetForTimestamp(T + 1));
    }

    @Test
    void lookupsIgnoreRecordsBelowTheLogStartOffset() throws Exception {
        open(Map.of());
        log.append(Batches.withTimestamps(Compression.NONE, new long[] {T + 10, T + 5, T + 1}, "a", "b", "c"));
        log.append(Batches.plain(T + 2, "d"));

        log.advanceLogStartOffset(2);

        assertEquals(Optional.of(new TimestampAndOffset(T + 1, 2)), log.offsetForTimestamp(T));
        assertEquals(Optional.of(new TimestampAndOffset(T + 2, 3)), log.offsetForTimestamp(T + 2));
    }

    @Test
    void maxTimestampLooksOnlyBelowTheHighWatermark() throws Exception {
        log = Partitions.create(dir, Partitions.config(Map.of(LogConfig.SEGMENT_BYTES, "1024")), clock,
                FlushPolicy.DURABLE, Partitions.manualFlushes());
        log.append(Batches.plain(T + 5, "x".repeat(1000))); // a segment of its own, then a roll
        log.append(Batches.withTimestamps(Compression.NONE, new long[] {T + 10, T + 20}, "a", "b"));
        log.flush();
        log.append(Batches.plain(T + 30, "c"));
        assertEquals(2, log.segmentCount());

        assertEquals(Optional.of(new TimestampAndOffset(T + 20, 2)), log.maxTimestamp(),
                "offset 3 is not fsynced: consumers cannot see it, ListOffsets must not name it");
        assertEquals(Optional.empty(), log.offsetForTimestamp(T + 21));

        log.flush();

        assertEquals(Optional.of(new TimestampAndOffset(T + 30, 3)), log.maxTimestamp());
        assertEquals(Optional.of(new TimestampAndOffset(T + 30, 3)), log.offsetForTimestamp(T + 21));
    }

    @Test
    void maxTimestampLooksOnlyAtOrAboveTheLogStartOffset() throws Exception {
        open(Map.of());
        log.append(Batches.plain(T + 50, "a", "b"));
        log.append(Batches.withTimestamps(Compression.gzip().build(), new long[] {T + 10, T + 40, T + 20}, "c", "d",
                "e"));
        log.append(Batches.plain(T + 30, "f"));

        log.advanceLogStartOffset(2);
        assertEquals(Optional.of(new TimestampAndOffset(T + 40, 3)), log.maxTimestamp(),
                "offsets 0 and 1 were deleted");

        log.advanceLogStartOffset(4);
        assertEquals(Optional.of(new TimestampAndOffset(T + 30, 5)), log.maxTimestamp(),
                "offset 3 was deleted too, though its batch is still stored");
    }

    @Test
    void underLogAppendTimeTheBrokerTimeIsSearched() throws Exception {
        open(Map.of(LogConfig.TIMESTAMP_TYPE, "LogAppendTime"));
        log.append(Batches.plain(T + 99_999, "a", "b"));
        clock.advance(Duration.ofMillis(10));
        log.append(Batches.plain(T - 99_999, "c", "d"));

        assertEquals(Optional.of(new TimestampAndOffset(T + 10, 2)), log.offsetForTimestamp(T + 1));
        assertEquals(Optional.of(new TimestampAndOffset(T + 10, 2)), log.maxTimestamp());
    }

    /** Appends {@code batches} batches and returns every record appended, in offset order. */
    private List<SimpleRecord> appendWanderingTimestamps(Random random, Compression compression, int batches) {
        List<SimpleRecord> all = new ArrayList<>();
        long ts = T - 10_000;
        for (int b = 0; b < batches; b++) {
            int count = 1 + random.nextInt(6);
            SimpleRecord[] records = new SimpleRecord[count];
            for (int i = 0; i < count; i++) {
                ts += random.nextInt(40) - 15;
                String value = "r" + all.size() + "-" + "z".repeat(random.nextInt(60));
                records[i] = new SimpleRecord(ts, null, Batches.utf8(value));
                all.add(records[i]);
            }
            log.append(MemoryRecords.withRecords(compression, records));
        }
        return all;
    }

    private static Optional<TimestampAndOffset> expectedAtOrAfter(List<SimpleRecord> records, long query, long start) {
        for (int offset = (int) start; offset < records.size(); offset++) {
            if (records.get(offset).timestamp() >= query) {
                return Optional.of(new TimestampAndOffset(records.get(offset).timestamp(), offset));
            }
        }
        return Optional.empty();
    }
}
