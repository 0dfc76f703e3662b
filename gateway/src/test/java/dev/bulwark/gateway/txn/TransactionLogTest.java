package dev.bulwark.gateway.txn;

import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transaction metadata on a real internal log: what was written and removed is there again after a clean restart and
 * after a crash, with and without a snapshot; the record format is pinned by golden bytes.
 */
class TransactionLogTest {

    private static final TransactionalIdKey APP_A = new TransactionalIdKey("tenant-a", "app");
    private static final TransactionalIdKey APP_B = new TransactionalIdKey("tenant-b", "app");
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private final List<LogManager> opened = new ArrayList<>();
    private Path dataDir;
    private SealedFiles sealedFiles;
    private LogManager logs;
    private PartitionLog log;
    private TransactionLog store;

    @BeforeEach
    void open() throws IOException {
        dataDir = dir.resolve("data");
        sealedFiles = TestLogs.sealedFiles(dir);
        reopen();
    }

    @AfterEach
    void close() throws IOException {
        for (LogManager manager : opened) {
            manager.close();
        }
    }

    private void reopen() throws IOException {
        logs = TestLogs.open(dataDir, time.clock());
        opened.add(logs);
        log = logs.internalLog("transaction-state", Map.of());
        store = TransactionLog.open(log, dataDir.resolve("transaction-state.snapshot"), sealedFiles, time.clock());
    }

    private void restartCleanly() throws IOException {
        logs.close();
        opened.remove(logs);
        reopen();
    }

    private void crashAndRestart() throws IOException {
        Path copy = dir.resolve("after-crash-" + opened.size());
        TestLogs.copyTree(dataDir, copy);
        assertFalse(Files.exists(copy.resolve(".clean-shutdown")));
        dataDir = copy;
        reopen();
    }

    private static TransactionMetadata ongoing(long producerId) {
        return new TransactionMetadata(producerId, 3, (short) 5, (short) 4, 60_000, TransactionState.ONGOING,
                Set.of(ORDERS_0, new TopicPartition("payments", 2)), Set.of("billing"), 1000, 2000);
    }

    private void write(TransactionalIdKey key, TransactionMetadata metadata) {
        assertTrue(store.write(key, metadata).isDone(), "durable before the answer");
    }

    private void writeSomeHistory() {
        write(APP_A, TransactionMetadata.fresh(1, 1000, 10).bumpEpoch(1000, Optional.empty(), 11));
        write(APP_A, ongoing(1));
        write(APP_B, ongoing(2));
        write(new TransactionalIdKey("tenant-a", "gone"), ongoing(9));
        assertTrue(store.remove(new TransactionalIdKey("tenant-a", "gone")).isDone());
    }

    @Test
    void metadataSurvivesACleanRestart() throws IOException {
        writeSomeHistory();
        Map<TransactionalIdKey, TransactionMetadata> before = store.all();

        restartCleanly();

        assertEquals(before, store.all());
        assertEquals(Map.of(APP_A, ongoing(1), APP_B, ongoing(2)), store.all(),
                "the same transactional id in two tenants is two entries");
    }

    @Test
    void metadataSurvivesACrash() throws IOException {
        writeSomeHistory();

        crashAndRestart();

        assertEquals(Map.of(APP_A, ongoing(1), APP_B, ongoing(2)), store.all());
    }

    @Test
    void aSnapshotReplacesTheLogBeforeItAndLaterWritesAreReplayed() throws IOException {
        writeSomeHistory();
        long end = log.logEndOffset();

        store.maybeSnapshot(1);
        assertEquals(end, log.logStartOffset(), "the log before the snapshot is dropped");
        TransactionMetadata aborting = ongoing(1).prepareEnd(false, 3000);
        write(APP_A, aborting);
        assertTrue(store.remove(APP_B).isDone());

        crashAndRestart();

        assertEquals(end, log.logStartOffset());
        assertEquals(Map.of(APP_A, aborting), store.all());
    }

    @Test
    void aSnapshotWaitsUntilEnoughWasWritten() throws IOException {
        write(APP_A, ongoing(1));

        store.maybeSnapshot(2);
        assertFalse(Files.exists(dataDir.resolve("transaction-state.snapshot")));

        write(APP_B, ongoing(2));
        store.maybeSnapshot(2);
        assertTrue(Files.exists(dataDir.resolve("transaction-state.snapshot")));
    }

    @Test
    void aFenceIsNeverWritten() {
        assertThrows(IllegalArgumentException.class, () -> store.write(APP_A, ongoing(1).fenceEpoch(3000)));
    }

    @Test
    void theRecordFormatIsPinned() {
        TransactionMetadata m = new TransactionMetadata(0x0102030405060708L, -1, (short) 3, (short) -1, 60_000,
                TransactionState.PREPARE_COMMIT, Set.of(ORDERS_0), Set.of("g"), 0x10, 0x20);

        assertEquals("0001" + "00000001" + "61" + "00000003" + "617070",
                HexFormat.of().formatHex(TransactionLog.key(new TransactionalIdKey("a", "app"))));
        String value = "0001" + "0102030405060708" + "ffffffffffffffff" + "0003" + "ffff" + "0000ea60" + "02"
                + "0000000000000010" + "0000000000000020"
                + "00000001" + "00000006" + "6f7264657273" + "00000000"
                + "00000001" + "00000001" + "67";
        byte[] encoded = TransactionLog.value(m);
        assertEquals(value, HexFormat.of().formatHex(encoded));
        assertEquals(m, TransactionLog.decodeValue(ByteBuffer.wrap(encoded)));
    }
}
