package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden bytes: what a segment file holds, pinned byte for byte. */
class SegmentFormatTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path dir;

    private PartitionLog log;

    @BeforeEach
    void open() throws Exception {
        log = Partitions.create(dir, Partitions.config(Map.of()), new MutableClock(), FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
    }

    @AfterEach
    void close() throws IOException {
        log.close();
    }

    @Test
    void theSegmentHeaderIsPinned() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        try (Segment segment = Segment.create(other, 0x0102030405060708L)) {
            assertEquals("00072623859790382856.log", segment.path().getFileName().toString());
            assertArrayEquals(HexFormat.of().parseHex(
                            "42574c47" // magic "BWLG"
                                    + "01" // format version
                                    + "000000" // reserved
                                    + "0102030405060708"), // base offset
                    Files.readAllBytes(segment.path()));
        }
    }

    @Test
    void theCompactedSegmentHeaderIsPinned() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        long base = 0x0102030405060708L;
        MemoryRecords records = MemoryRecords.withRecords(base, Compression.NONE,
                new SimpleRecord(T, Batches.utf8("k"), Batches.utf8("v")));
        byte[] batch = Batches.bytes(records);
        try (Segment segment = Segment.createCompacted(other, base)) {
            segment.append(records.buffer(), BatchHeader.read(records.buffer(), 0), 4096, 1 << 20);
            segment.finishCompacted();
            assertEquals("00072623859790382856.log.cleaned", segment.path().getFileName().toString());
            assertTrue(Files.exists(other.resolve("00072623859790382856.index.cleaned")));

            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(batch);
            byte[] file = Files.readAllBytes(segment.path());
            assertEquals("42574c47" // magic "BWLG"
                            + "02" // format version 2: compacted
                            + "000000" // reserved
                            + "0102030405060708" // base offset
                            + String.format("%08x", batch.length) // length of the batch bytes
                            + String.format("%08x", (int) crc.getValue()) // their CRC32C
                            + HexFormat.of().formatHex(batch),
                    HexFormat.of().formatHex(file));
        }
        try (Segment empty = Segment.createCompacted(other, 7)) {
            empty.finishCompacted();
            assertEquals("42574c47" + "02" + "000000" + "0000000000000007" + "00000000" + "00000000",
                    HexFormat.of().formatHex(Files.readAllBytes(empty.path())));
        }
    }

    @Test
    void theFirstSegmentOfANewLogStartsAtOffsetZero() throws IOException {
        Path file = Partitions.segmentFiles(dir).get(0);
        assertEquals("00000000000000000000.log", file.getFileName().toString());
        assertArrayEquals(HexFormat.of().parseHex("42574c47" + "01" + "000000" + "0000000000000000"),
                Files.readAllBytes(file));
    }

    @Test
    void storedBatchesAreTheProducersBytesWithOffsetsAssigned() throws IOException {
        MemoryRecords plain = Batches.plain(T, "a", "b", "c");
        MemoryRecords idempotent = Batches.idempotent(42L, (short) 7, 0, T + 1, "d", "e");
        MemoryRecords gzip = built(Compression.gzip().build(), "f", "g", "h", "i");
        MemoryRecords zstd = built(Compression.zstd().build(), "j");
        List<byte[]> sent = List.of(Batches.bytes(plain), Batches.bytes(idempotent), Batches.bytes(gzip),
                Batches.bytes(zstd));

        log.append(plain);
        log.append(idempotent);
        log.append(Batches.concat(gzip, zstd)); // two batches in one request

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(HexFormat.of().parseHex("42574c47" + "01" + "000000" + "0000000000000000"));
        long[] baseOffsets = {0, 3, 5, 9};
        for (int i = 0; i < sent.size(); i++) {
            expected.writeBytes(assigned(sent.get(i), baseOffsets[i]));
        }
        byte[] file = Partitions.dataBytes(Partitions.segmentFiles(dir).get(0));
        assertEquals(HexFormat.of().formatHex(expected.toByteArray()), HexFormat.of().formatHex(file));

        for (MutableRecordBatch batch : Batches.batchesOf(Arrays.copyOfRange(file, 16, file.length))) {
            assertTrue(batch.isValid(), "the stored CRC still matches: it does not cover the base offset");
        }
    }

    @Test
    void theStoredBatchHeaderIsPinned() throws IOException {
        // A batch built field by field so every header byte is known; only the offset and leader epoch change.
        MemoryRecords records = MemoryRecords.withIdempotentRecords(Compression.NONE, 0x0A0B0C0D0E0F1011L,
                (short) 0x1213, 0x14151617, new SimpleRecord(T, Batches.utf8("v")));
        log.append(Batches.plain(T, "x", "y")); // so the batch lands at offset 2
        byte[] sent = Batches.bytes(records);
        log.append(records);

        byte[] file = Partitions.dataBytes(Partitions.segmentFiles(dir).get(0));
        int position = Partitions.batchPositions(Partitions.segmentFiles(dir).get(0)).get(1);
        String header = HexFormat.of().formatHex(file, position, position + BatchHeader.SIZE);
        String crc = HexFormat.of().formatHex(sent, 17, 21);
        assertEquals("0000000000000002" // base offset: assigned by the log
                        + String.format("%08x", sent.length - 12) // length
                        + "00000000" // partition leader epoch: 0, Bulwark's only epoch
                        + "02" // magic
                        + crc // CRC32C: the producer's, unchanged
                        + "0000" // attributes: no compression, CreateTime, not transactional
                        + "00000000" // last offset delta
                        + String.format("%016x", T) // base timestamp
                        + String.format("%016x", T) // max timestamp
                        + "0a0b0c0d0e0f1011" // producer id
                        + "1213" // producer epoch
                        + "14151617" // base sequence
                        + "00000001", // record count
                header);
    }

    @Test
    void aLogAppendTimeBatchIsStampedAndItsChecksumRecomputed() throws IOException {
        log.updateConfig(Partitions.config(Map.of(LogConfig.TIMESTAMP_TYPE, "LogAppendTime")));
        MemoryRecords records = Batches.plain(T - 5_000, "a", "b");
        byte[] sent = Batches.bytes(records);

        AppendResult result = log.append(records);

        byte[] file = Partitions.dataBytes(Partitions.segmentFiles(dir).get(0));
        byte[] stored = Arrays.copyOfRange(file, 16, file.length);
        MutableRecordBatch batch = Batches.batchesOf(stored).get(0);
        assertEquals(T, result.logAppendTime());
        assertEquals(TimestampType.LOG_APPEND_TIME, batch.timestampType());
        assertEquals(T, batch.maxTimestamp());
        assertTrue(batch.isValid());
        // Everything but the offset, leader epoch, CRC, attributes and max timestamp is as sent.
        ByteBuffer expected = ByteBuffer.wrap(assigned(sent, 0));
        expected.putInt(17, (int) batch.checksum());
        expected.putShort(21, (short) (expected.getShort(21) | 0x08));
        expected.putLong(35, T);
        assertArrayEquals(expected.array(), stored);
    }

    private static MemoryRecords built(Compression compression, String... values) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024), compression,
                TimestampType.CREATE_TIME, 0L);
        long ts = T;
        for (String value : values) {
            builder.append(ts++, null, Batches.utf8(value));
        }
        return builder.build();
    }

    /** The producer's batch as the log stores it: at {@code baseOffset}, in partition leader epoch 0. */
    private static byte[] assigned(byte[] sent, long baseOffset) {
        ByteBuffer batch = ByteBuffer.wrap(sent.clone());
        batch.putLong(0, baseOffset);
        batch.putInt(12, PartitionLog.LEADER_EPOCH);
        return batch.array();
    }
}
