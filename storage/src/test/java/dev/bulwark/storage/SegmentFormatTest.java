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

import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.WrappedDataKey;

import javax.crypto.AEADBadTagException;
import javax.crypto.SecretKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden bytes: what a sealed segment file holds, pinned byte for byte, and opened by its documented layout. */
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
        try (Segment segment = Segment.create(other, 0x0102030405060708L, Partitions.sealing(dir))) {
            assertEquals("00072623859790382856.log", segment.path().getFileName().toString());
            byte[] file = Files.readAllBytes(segment.path());
            byte[] wrapped = wrappedKey(file).toBytes();
            assertEquals(66 + TopicMetadata.DEFAULT_TENANT_ID.length(), wrapped.length);
            String slot = String.format("%04x", wrapped.length) + HexFormat.of().formatHex(wrapped)
                    + "00".repeat(WrappedDataKey.MAX_ENCODED_LENGTH - wrapped.length);
            assertEquals("42574c47" // magic "BWLG"
                            + "03" // format version 3: sealed
                            + "00" // flags: appended to by the log
                            + "0000" // reserved
                            + "0102030405060708" // base offset
                            + "00000000" // incarnation
                            + "00000000" + "00000000" // data length and checksum: only for compacted segments
                            + "00000000" // reserved
                            + slot // key slot A
                            + slot, // key slot B
                    HexFormat.of().formatHex(file));
        }
    }

    @Test
    void theCompactedSegmentHeaderIsPinned() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        long base = 0x0102030405060708L;
        MemoryRecords records = MemoryRecords.withRecords(base, Compression.NONE,
                new SimpleRecord(T, Batches.utf8("k"), Batches.utf8("v")));
        try (Segment segment = Segment.createCompacted(other, base, Partitions.sealing(dir))) {
            segment.append(records.buffer(), BatchHeader.read(records.buffer(), 0), 4096, 1 << 20);
            segment.finishCompacted();
            assertEquals("00072623859790382856.log.cleaned", segment.path().getFileName().toString());
            assertTrue(Files.exists(other.resolve("00072623859790382856.index.cleaned")));

            byte[] file = Files.readAllBytes(segment.path());
            byte[] frames = Arrays.copyOfRange(file, Segment.HEADER_SIZE, file.length);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(frames);
            assertEquals("42574c47" + "03"
                            + "01" // flags: compacted
                            + "0000" + "0102030405060708" + "00000000"
                            + String.format("%08x", frames.length) // length of the frames
                            + String.format("%08x", (int) crc.getValue()) // their CRC32C
                            + "00000000",
                    HexFormat.of().formatHex(file, 0, Segment.KEY_SLOT_A_OFFSET));
            assertEquals(List.of(Batches.bytes(records)).stream().map(HexFormat.of()::formatHex).toList(),
                    openFrames(segment.path()).stream().map(HexFormat.of()::formatHex).toList());
        }
        try (Segment empty = Segment.createCompacted(other, 7, Partitions.sealing(dir))) {
            empty.finishCompacted();
            byte[] file = Files.readAllBytes(empty.path());
            assertEquals(Segment.HEADER_SIZE, file.length);
            assertEquals("00000000" + "00000000", HexFormat.of().formatHex(file, Segment.DATA_LENGTH_OFFSET,
                    Segment.DATA_CRC_OFFSET + 4));
        }
    }

    @Test
    void anUnsealedSegmentIsPinned() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        PartitionSealing unsealed = new PartitionSealing(TestKeys.open(dir),
                KeyOwner.tenant(TopicMetadata.DEFAULT_TENANT_ID), Partitions.ID, false);
        MemoryRecords records = MemoryRecords.withRecords(5, Compression.NONE,
                new SimpleRecord(T, Batches.utf8("k"), Batches.utf8("v")),
                new SimpleRecord(T, null, Batches.utf8("w")));
        byte[] batch = Batches.bytes(records);
        try (Segment segment = Segment.create(other, 5, unsealed)) {
            segment.append(records.buffer(), BatchHeader.read(records.buffer(), 0), 4096, 1 << 20);
            segment.seal();
            byte[] file = Files.readAllBytes(segment.path());
            assertEquals("42574c47" + "03"
                            + "02" // flags: batches unsealed
                            + "0000" + "0000000000000005" + "00000000" + "00000000" + "00000000" + "00000000",
                    HexFormat.of().formatHex(file, 0, Segment.KEY_SLOT_A_OFFSET));
            assertEquals("0000000000000005" // base offset
                            + String.format("%08x", 8 + batch.length + 16) // length of the rest, as when sealed
                            + "00000001" // last offset delta
                            + "00000000" // incarnation
                            + HexFormat.of().formatHex(batch) // the batch as it is
                            + "00".repeat(16), // where the tag would be
                    HexFormat.of().formatHex(file, Segment.HEADER_SIZE, file.length));
            wrappedKey(file); // the segment still has its data key: its index is sealed under it
        }
    }

    @Test
    void theFirstSegmentOfANewLogStartsAtOffsetZero() throws IOException {
        Path file = Partitions.segmentFiles(dir).get(0);
        assertEquals("00000000000000000000.log", file.getFileName().toString());
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(Segment.HEADER_SIZE, bytes.length);
        assertEquals("42574c47" + "03" + "00" + "0000" + "0000000000000000" + "00000000",
                HexFormat.of().formatHex(bytes, 0, 20));
    }

    @Test
    void storedBatchesAreTheProducersBytesWithOffsetsAssignedSealedInFrames() throws IOException {
        MemoryRecords plain = Batches.plain(T, "a", "b", "c");
        MemoryRecords idempotent = Batches.idempotent(42L, (short) 7, 0, T + 1, "d", "e");
        MemoryRecords gzip = built(Compression.gzip().build(), "f", "g", "h", "i");
        MemoryRecords zstd = built(Compression.zstd().build(), "j");
        List<byte[]> sent = List.of(Batches.bytes(plain), Batches.bytes(idempotent), Batches.bytes(gzip),
                Batches.bytes(zstd));

        log.append(plain);
        log.append(idempotent);
        log.append(Batches.concat(gzip, zstd)); // two batches in one request

        long[] baseOffsets = {0, 3, 5, 9};
        int[] lastOffsetDeltas = {2, 1, 3, 0};
        Path segment = Partitions.segmentFiles(dir).get(0);
        byte[] file = Partitions.dataBytes(segment);
        List<Integer> positions = Partitions.batchPositions(segment);
        List<byte[]> opened = openFrames(segment);
        for (int i = 0; i < sent.size(); i++) {
            int at = positions.get(i);
            assertEquals(String.format("%016x", baseOffsets[i]) // base offset
                            + String.format("%08x", 8 + sent.get(i).length + 16) // length of the rest of the frame
                            + String.format("%08x", lastOffsetDeltas[i]) // last offset delta
                            + "00000000", // incarnation
                    HexFormat.of().formatHex(file, at, at + Frame.SEALED_OFFSET));
            assertEquals(Frame.OVERHEAD + sent.get(i).length, (i + 1 < positions.size() ? positions.get(i + 1)
                    : file.length) - at);
            assertArrayEquals(assigned(sent.get(i), baseOffsets[i]), opened.get(i));
            assertTrue(Batches.batchesOf(opened.get(i)).get(0).isValid(),
                    "the stored CRC still matches: it does not cover the base offset");
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

        byte[] stored = openFrames(Partitions.segmentFiles(dir).get(0)).get(1);
        String header = HexFormat.of().formatHex(stored, 0, BatchHeader.SIZE);
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

        byte[] stored = openFrames(Partitions.segmentFiles(dir).get(0)).get(0);
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

    @Test
    void aReopenedSegmentSealsUnderItsNextIncarnationAndRecordsItFirst() throws Exception {
        log.append(Batches.plain(T, "a"));
        log.close();
        log = Partitions.create(dir, Partitions.config(Map.of()), new MutableClock(), FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
        Path segment = Partitions.segmentFiles(dir).get(0);
        assertEquals(0, ByteBuffer.wrap(Files.readAllBytes(segment)).getInt(Segment.INCARNATION_OFFSET),
                "opening alone seals nothing");

        log.append(Batches.plain(T, "b"));

        ByteBuffer file = ByteBuffer.wrap(Partitions.dataBytes(segment));
        assertEquals(1, file.getInt(Segment.INCARNATION_OFFSET));
        List<Integer> positions = Partitions.batchPositions(segment);
        assertEquals(0, file.getInt(positions.get(0) + Frame.INCARNATION_OFFSET));
        assertEquals(1, file.getInt(positions.get(1) + Frame.INCARNATION_OFFSET));
        assertEquals(List.of("a", "b"), Batches.values(Batches.readAllRecords(log)));
    }

    /** The wrapped data key of key slot A of a segment file. */
    private static WrappedDataKey wrappedKey(byte[] file) {
        ByteBuffer header = ByteBuffer.wrap(file);
        int length = header.getShort(Segment.KEY_SLOT_A_OFFSET);
        try {
            return WrappedDataKey.fromBytes(Arrays.copyOfRange(file, Segment.KEY_SLOT_A_OFFSET + 2,
                    Segment.KEY_SLOT_A_OFFSET + 2 + length));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Opens every frame of a segment file of partition {@link Partitions#ID} by the documented layout alone: the
     * nonce and associated data are built here, not by the code under test.
     */
    private List<byte[]> openFrames(Path segmentFile) throws IOException {
        byte[] file = Files.readAllBytes(segmentFile);
        ByteBuffer bytes = ByteBuffer.wrap(file);
        long segmentBase = bytes.getLong(Segment.BASE_OFFSET_OFFSET);
        SecretKey key;
        try {
            key = TestKeys.open(dir).keyring().open(KeyOwner.tenant(TopicMetadata.DEFAULT_TENANT_ID),
                    wrappedKey(file)).key();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
        List<byte[]> batches = new ArrayList<>();
        for (int at : Partitions.batchPositions(segmentFile)) {
            long base = bytes.getLong(at);
            int size = bytes.getInt(at + 8) + 12;
            int lastOffsetDelta = bytes.getInt(at + 12);
            int incarnation = bytes.getInt(at + 16);
            byte[] owner = TopicMetadata.DEFAULT_TENANT_ID.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer associatedData = ByteBuffer.allocate(16 + 1 + owner.length + 16 + 4 + 8 + 8 + 4)
                    .put("bulwark/batch/v1".getBytes(StandardCharsets.US_ASCII)).put((byte) owner.length).put(owner)
                    .putLong(Partitions.ID.topicId().getMostSignificantBits())
                    .putLong(Partitions.ID.topicId().getLeastSignificantBits()).putInt(Partitions.ID.partition())
                    .putLong(segmentBase).putLong(base).putInt(lastOffsetDelta);
            byte[] nonce = ByteBuffer.allocate(12).putInt(incarnation).putLong(base).array();
            try {
                batches.add(TestKeys.GCM.open(key, nonce, associatedData.array(),
                        Arrays.copyOfRange(file, at + 20, at + size)));
            } catch (AEADBadTagException e) {
                throw new AssertionError("the frame at " + at + " does not open", e);
            }
        }
        return batches;
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
