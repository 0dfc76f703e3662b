package dev.bulwark.storage;

import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A producer's invalid batches are refused with Kafka's error, and nothing of the request is written. */
class BatchValidationTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private PartitionLog log;
    private long segmentSizeBefore;

    @BeforeEach
    void open() throws Exception {
        log = Partitions.create(dir, Partitions.config(Map.of()), clock, FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
        log.append(Batches.plain(T, "before"));
        segmentSizeBefore = Files.size(Partitions.segmentFiles(dir).get(0));
    }

    @AfterEach
    void close() throws IOException {
        log.close();
    }

    /** Asserts the append fails with {@code expected} and leaves the log as it was. */
    private <E extends ApiException> E refused(Class<E> expected, MemoryRecords records) throws IOException {
        E e = assertThrows(expected, () -> log.append(records));
        assertEquals(1, log.logEndOffset(), "nothing appended");
        assertEquals(segmentSizeBefore, Files.size(Partitions.segmentFiles(dir).get(0)), "nothing written");
        return e;
    }

    private static MemoryRecords flipped(MemoryRecords records, int position) {
        byte[] bytes = Batches.bytes(records);
        bytes[position] ^= 0x01;
        return Batches.wrap(bytes);
    }

    @ParameterizedTest
    @ValueSource(ints = {DefaultRecordBatch.RECORD_BATCH_OVERHEAD + 2, 21, 30, 45})
    void aFlippedBitCoveredByTheChecksumIsCorrupt(int position) throws IOException {
        refused(CorruptRecordException.class, flipped(Batches.plain(T, "a", "b", "c"), position));
    }

    @Test
    void aFlippedBitInsideACompressedBatchIsCorrupt() throws IOException {
        MemoryRecords records = Batches.withTimestamps(Compression.gzip().build(), new long[] {T, T}, "a", "b");
        refused(CorruptRecordException.class, flipped(records, records.sizeInBytes() - 3));
    }

    @Test
    void aBatchLargerThanMaxMessageBytesIsTooLarge() throws IOException {
        MemoryRecords records = Batches.plain(T, "x".repeat(200));
        log.updateConfig(Partitions.config(Map.of(LogConfig.MAX_MESSAGE_BYTES,
                Integer.toString(records.sizeInBytes() - 1))));

        refused(RecordTooLargeException.class, records);

        log.updateConfig(Partitions.config(Map.of(LogConfig.MAX_MESSAGE_BYTES,
                Integer.toString(records.sizeInBytes()))));
        log.append(records);
        assertEquals(2, log.logEndOffset(), "a batch of exactly max.message.bytes fits");
    }

    @Test
    void aTruncatedBatchIsCorrupt() throws IOException {
        byte[] bytes = Batches.bytes(Batches.plain(T, "a", "b", "c"));
        for (int length = 1; length < bytes.length; length++) {
            refused(CorruptRecordException.class, Batches.wrap(Arrays.copyOf(bytes, length)));
        }
    }

    @Test
    void aValidBatchFollowedByATruncatedOneIsRefusedWhole() throws IOException {
        byte[] good = Batches.bytes(Batches.plain(T, "a"));
        byte[] cut = Arrays.copyOf(Batches.bytes(Batches.plain(T, "b", "c")), 70);
        byte[] request = Arrays.copyOf(good, good.length + cut.length);
        System.arraycopy(cut, 0, request, good.length, cut.length);

        refused(CorruptRecordException.class, Batches.wrap(request));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 11, 12, 100})
    void trailingBytesAreCorrupt(int trailing) throws IOException {
        byte[] bytes = Batches.bytes(Batches.plain(T, "a"));
        refused(CorruptRecordException.class, Batches.wrap(Arrays.copyOf(bytes, bytes.length + trailing)));
    }

    @Test
    void aRecordCountThatDoesNotMatchTheRecordsIsRefused() throws IOException {
        ByteBuffer batch = ByteBuffer.wrap(Batches.bytes(Batches.plain(T, "a", "b")));
        batch.putInt(DefaultRecordBatch.RECORDS_COUNT_OFFSET, 3);
        batch.putInt(DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET, 2);
        MemoryRecords records = Batches.wrap(batch.array());
        // Setting the max timestamp recomputes the CRC over the doctored header.
        records.batches().iterator().next().setMaxTimestamp(TimestampType.CREATE_TIME, T + 1);

        refused(CorruptRecordException.class, records);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4"})
    void aCompactedTopicRefusesRecordsWithoutKey(String codec) throws IOException {
        log.updateConfig(Partitions.config(Map.of(LogConfig.CLEANUP_POLICY, "compact")));
        Compression compression = Compression.of(codec).build();
        MemoryRecords oneWithoutKey = MemoryRecords.withRecords(compression,
                new SimpleRecord(T, Batches.utf8("k"), Batches.utf8("a")),
                new SimpleRecord(T, null, Batches.utf8("b")));

        refused(InvalidRecordException.class, oneWithoutKey);

        log.append(Batches.keyed(compression, T, "a", "b"));
        assertEquals(3, log.logEndOffset());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "snappy"})
    void aTimestampTooFarInTheFutureIsInvalid(String codec) throws IOException {
        Compression compression = Compression.of(codec).build();
        long limit = T + LogConfig.defaults().timestampAfterMaxMs;

        refused(InvalidTimestampException.class,
                Batches.withTimestamps(compression, new long[] {T, limit + 1}, "a", "b"));

        log.append(Batches.withTimestamps(compression, new long[] {T, limit}, "a", "b"));
        assertEquals(3, log.logEndOffset(), "exactly message.timestamp.after.max.ms ahead is accepted");
    }

    @Test
    void aTimestampTooFarInThePastIsInvalidWhenLimited() throws IOException {
        log.updateConfig(Partitions.config(Map.of(LogConfig.TIMESTAMP_BEFORE_MAX_MS, "60000")));

        refused(InvalidTimestampException.class, Batches.plain(T - 60_001, "a"));

        log.append(Batches.plain(T - 60_000, "a"));
    }

    @Test
    void aRecordTimestampIsCheckedNotOnlyTheBatchHeaders() throws IOException {
        // The header's timestamps are fine, but a record's is far in the future: a batch whose max timestamp
        // understates its records, which no well-behaved client writes.
        SimpleRecord[] records = {new SimpleRecord(T, null, Batches.utf8("a")),
                new SimpleRecord(T + 10_000_000, null, Batches.utf8("b"))};
        MemoryRecords doctored = Batches.wrap(Batches.bytes(MemoryRecords.withRecords(Compression.NONE, records)));
        doctored.batches().iterator().next().setMaxTimestamp(TimestampType.CREATE_TIME, T);

        refused(InvalidTimestampException.class, doctored);
    }

    @Test
    void clientsMayNotProduceTransactionMarkers() throws IOException {
        MemoryRecords marker = MemoryRecords.withEndTransactionMarker(0L, T, 0, 5L, (short) 0,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0));

        refused(InvalidRecordException.class, marker);
    }

    @Test
    void anOldMessageFormatIsRefused() throws IOException {
        MemoryRecords v1 = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V1, Compression.NONE,
                new SimpleRecord(T, null, Batches.utf8("x".repeat(100))));

        refused(UnsupportedForMessageFormatException.class, v1);
    }

    @Test
    void anIdempotentRequestCarriesOneBatch() throws IOException {
        refused(InvalidRecordException.class, Batches.concat(Batches.idempotent(1L, (short) 0, 0, T, "a"),
                Batches.idempotent(1L, (short) 0, 1, T, "b")));
    }
}
