package dev.bulwark.storage;

import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden bytes of the transaction index and the producer snapshot, and the older snapshot version still read. */
class TransactionStateFormatTest {

    private static final short EPOCH = 4;

    @TempDir
    Path dir;

    /** The payload of a {@link MetadataFile}, after its magic, version and length, before its checksum. */
    /**
     * A seal that leaves the payload as it is, so that the plaintext layout can be pinned here; the sealing itself is
     * pinned in {@code SealedFormatTest}.
     */
    private static final PayloadSeal CLEAR = new PayloadSeal() {
        @Override
        public byte[] seal(byte[] plaintext) {
            return plaintext;
        }

        @Override
        public ByteBuffer open(ByteBuffer sealed) {
            return sealed;
        }
    };

    private static String payloadHex(Path file, int magic, byte version) throws IOException {
        MetadataFile.Content content = MetadataFile.read(file, magic).orElseThrow();
        assertEquals(version, content.version());
        byte[] payload = new byte[content.payload().remaining()];
        content.payload().get(payload);
        return HexFormat.of().formatHex(payload);
    }

    private static BatchHeader header(long producerId, short epoch, int baseSequence, long baseOffset, int records,
                                      boolean transactional) {
        return new BatchHeader(baseOffset, 100, RecordBatch.MAGIC_VALUE_V2, (short) (transactional ? 0x10 : 0),
                records - 1, 1000L, 1000L, producerId, epoch, baseSequence, records);
    }

    @Test
    void theTransactionIndexFileIsPinned() throws IOException {
        TransactionIndex index = new TransactionIndex(0x10);
        index.append(new AbortedTransaction(7, 0x11, 0x15, 0x13));
        index.completeUpTo(0x20);
        Path file = dir.resolve("00000000000000000016.txnindex");

        index.write(file);

        byte[] bytes = Files.readAllBytes(file);
        assertEquals("42575458" + "01" + "0000002c", HexFormat.of().formatHex(Arrays.copyOf(bytes, 9)),
                "magic BWTX, version 1, payload length 44");
        assertEquals("0000000000000020" // complete up to offset
                        + "00000001" // entries
                        + "0000000000000007" // producer id
                        + "0000000000000011" // first offset
                        + "0000000000000015" // last offset: the ABORT marker
                        + "0000000000000013", // last stable offset when it completed
                payloadHex(file, TransactionIndex.FILE_MAGIC, TransactionIndex.FILE_VERSION));
    }

    @Test
    void aTransactionIndexReadForAShorterSegmentDropsWhatLiesPastItsEnd() throws IOException {
        TransactionIndex index = new TransactionIndex(0);
        index.append(new AbortedTransaction(1, 0, 4, 5));
        index.append(new AbortedTransaction(2, 3, 9, 10));
        index.completeUpTo(12);
        Path file = dir.resolve("index");
        index.write(file);

        TransactionIndex truncated = TransactionIndex.read(file, 0, 8);

        assertEquals(List.of(new AbortedTransaction(1, 0, 4, 5)), truncated.all());
        assertEquals(8, truncated.completeUpTo(), "markers from the truncation point on come from the replay");
        assertEquals(0, TransactionIndex.read(dir.resolve("missing"), 0, 8).completeUpTo());
    }

    @Test
    void theProducerSnapshotIsPinned() throws IOException {
        ProducerStateManager producers = new ProducerStateManager();
        producers.update(header(9, EPOCH, 0, 0x30, 2, true));
        Path file = dir.resolve("snapshot");

        producers.writeSnapshot(file, 0x32, CLEAR);

        assertEquals("0000000000000032" // offset the state is valid at
                        + "00000001" // producers
                        + "0000000000000009" // producer id
                        + "0004" // epoch
                        + "ffffffff" // coordinator epoch: no marker yet
                        + "00000000000003e8" // last timestamp
                        + "0000000000000030" // first offset of the ongoing transaction
                        + "00000001" // cached batches
                        + "00000000" + "00000001" // first and last sequence
                        + "0000000000000030" + "0000000000000031", // first and last offset
                payloadHex(file, ProducerStateManager.SNAPSHOT_MAGIC, ProducerStateManager.SNAPSHOT_VERSION));
    }

    @Test
    void aSnapshotKeepsOngoingTransactionsAndCoordinatorEpochs() throws IOException {
        ProducerStateManager producers = new ProducerStateManager();
        producers.update(header(1, EPOCH, 0, 0, 1, true));
        producers.completeTransaction(1, EPOCH, 3, 1, 1000L, false);
        producers.update(header(1, EPOCH, 1, 2, 1, true));
        producers.update(header(2, EPOCH, 0, 3, 1, true));
        Path file = dir.resolve("snapshot");
        producers.writeSnapshot(file, 4, CLEAR);

        ProducerStateManager loaded = new ProducerStateManager();
        assertEquals(4, loaded.loadSnapshot(file, CLEAR));

        assertEquals(List.of(2L, 3L), List.copyOf(loaded.ongoingTransactionFirstOffsets()));
        assertThrows(TransactionCoordinatorFencedException.class, () -> loaded.checkMarker(1, EPOCH, 2));
        assertEquals(new ProducerStateManager.CompletedTransaction(1, 2, 4, true, 3),
                loaded.completeTransaction(1, EPOCH, 3, 4, 1000L, true).orElseThrow());
    }

    @Test
    void unsealedSnapshotsAreRefused() throws IOException {
        ByteBuffer payload = ByteBuffer.allocate(12).putLong(10).putInt(0);
        for (byte version = 1; version <= 2; version++) {
            Path file = dir.resolve("v" + version + ".snapshot");
            MetadataFile.write(file, ProducerStateManager.SNAPSHOT_MAGIC, version, payload.array());

            IOException refused = assertThrows(IOException.class,
                    () -> new ProducerStateManager().loadSnapshot(file, CLEAR));
            assertTrue(refused.getMessage().contains("unsealed"), refused.getMessage());
        }
    }
}
