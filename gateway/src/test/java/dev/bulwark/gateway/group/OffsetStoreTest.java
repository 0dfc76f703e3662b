package dev.bulwark.gateway.group;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Committed offsets on a real internal log: what was committed and deleted is there again after a clean restart and
 * after a crash, with and without a snapshot, and the log before a snapshot is dropped. Transactional offsets stay
 * pending, through restarts and snapshots, until their transaction's completion; the bytes of every record kind are
 * pinned.
 */
class OffsetStoreTest {

    private static final String TENANT = "tenant-under-test";

    private static GroupKey key(String groupId) {
        return new GroupKey(TENANT, groupId);
    }

    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);
    private static final TopicPartition PAYMENTS_0 = new TopicPartition("payments", 0);

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private final List<LogManager> opened = new ArrayList<>();
    private Path dataDir;
    private SealedFiles sealedFiles;
    private LogManager logs;
    private PartitionLog log;
    private OffsetStore store;

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

    /** Opens the store of {@code dataDir} as the broker does: the offsets log and its snapshot in the log store. */
    private void reopen() throws IOException {
        logs = TestLogs.open(dataDir, time.clock());
        opened.add(logs);
        log = logs.internalLog("consumer-offsets", Map.of());
        store = OffsetStore.open(log, dataDir.resolve("consumer-offsets.snapshot"), sealedFiles, time.clock());
    }

    private void restartCleanly() throws IOException {
        logs.close();
        opened.remove(logs);
        reopen();
    }

    /** Reopens a copy of the data directory taken while it was open: what a killed process leaves behind. */
    private void crashAndRestart() throws IOException {
        Path copy = dir.resolve("after-crash-" + opened.size());
        TestLogs.copyTree(dataDir, copy);
        assertFalse(Files.exists(copy.resolve(".clean-shutdown")));
        dataDir = copy;
        reopen();
    }

    @Test
    void commitsAndDeletesSurviveACleanRestart() throws IOException {
        writeSomeHistory();

        restartCleanly();

        assertHistory();
    }

    @Test
    void commitsAndDeletesSurviveACrash() throws IOException {
        writeSomeHistory();

        crashAndRestart();

        assertHistory();
    }

    @Test
    void aSnapshotReplacesTheLogBeforeItAndTheCommitsAfterItAreReplayed() throws IOException {
        commit("g1", ORDERS_0, 1, "before");
        commit("g1", ORDERS_1, 2, "before");
        commit("g2", ORDERS_0, 3, "before");
        long end = log.logEndOffset();

        store.maybeSnapshot(1);

        assertTrue(Files.exists(dataDir.resolve("consumer-offsets.snapshot")));
        assertEquals(end, log.logStartOffset(), "the log before the snapshot is dropped");
        commit("g1", ORDERS_0, 10, "after");
        delete("g2", null);
        commit("g3", PAYMENTS_0, 30, "after");

        restartCleanly();

        assertEquals(end, log.logStartOffset());
        assertEquals(Map.of(ORDERS_0, offset(10, "after"), ORDERS_1, offset(2, "before")), offsetsOf("g1"));
        assertEquals(Map.of(), offsetsOf("g2"));
        assertEquals(Map.of(PAYMENTS_0, offset(30, "after")), offsetsOf("g3"));
        assertEquals(Set.of(key("g1"), key("g3")), store.groups());
    }

    @Test
    void aSnapshotAndTheCommitsAfterItSurviveACrash() throws IOException {
        commit("g1", ORDERS_0, 1, "before");
        delete("g1", List.of(ORDERS_0));
        commit("g1", ORDERS_1, 2, "before");
        store.maybeSnapshot(1);
        commit("g1", ORDERS_1, 20, "after");
        commit("g2", PAYMENTS_0, 7, "after");

        crashAndRestart();

        assertEquals(Map.of(ORDERS_1, offset(20, "after")), offsetsOf("g1"));
        assertEquals(Map.of(PAYMENTS_0, offset(7, "after")), offsetsOf("g2"));
    }

    @Test
    void aSnapshotWaitsUntilEnoughHasBeenCommittedSinceTheLastOne() throws IOException {
        commit("g1", ORDERS_0, 1, "");
        commit("g1", ORDERS_1, 2, "");

        store.maybeSnapshot(3);
        assertFalse(Files.exists(dataDir.resolve("consumer-offsets.snapshot")));
        assertEquals(0, log.logStartOffset());

        commit("g1", ORDERS_0, 3, "");
        store.maybeSnapshot(3);
        assertTrue(Files.exists(dataDir.resolve("consumer-offsets.snapshot")));
        store.maybeSnapshot(1);
        assertEquals(3, log.logStartOffset(), "nothing new since the last snapshot: none written");
    }

    @Test
    void aLongLogIsReplayedWhole() throws IOException {
        String metadata = "m".repeat(4000);
        int commits = 600;
        for (int i = 0; i < commits; i++) {
            commit("g" + (i % 7), new TopicPartition("t" + (i % 13), i % 5), i, metadata);
        }
        Map<GroupKey, Map<TopicPartition, CommittedOffset>> before = new HashMap<>();
        store.groups().forEach(g -> before.put(g, store.offsets(g)));
        assertTrue(log.sizeInBytes() > 2 << 20, "the replay reads more than one chunk");

        restartCleanly();

        Map<GroupKey, Map<TopicPartition, CommittedOffset>> after = new HashMap<>();
        store.groups().forEach(g -> after.put(g, store.offsets(g)));
        assertEquals(before, after);
    }

    @Test
    void deletingAGroupsOffsetsForgetsTheGroup() throws IOException {
        commit("g1", ORDERS_0, 1, "");
        commit("g1", ORDERS_1, 2, "");

        delete("g1", List.of(ORDERS_0, PAYMENTS_0));
        assertEquals(Map.of(ORDERS_1, offset(2, "")), offsetsOf("g1"));
        delete("g1", null);

        assertFalse(store.hasOffsets(key("g1")));
        assertEquals(Set.of(), store.groups());
        assertEquals(Optional.empty(), store.offset(key("g1"), ORDERS_1));
        restartCleanly();
        assertEquals(Set.of(), store.groups());
    }

    @Test
    void aGroupIdTooLongForTheRecordFormatIsRefusedAndNeverBreaksTheNextStart() throws IOException {
        String huge = "g".repeat(Short.MAX_VALUE + 1);
        commit("g1", ORDERS_0, 1, "");

        assertThrows(InvalidGroupIdException.class,
                () -> store.commit(key(huge), Map.of(ORDERS_0, new CommittedOffset(1, 3, "", time.nowMs()))));

        assertFalse(store.hasOffsets(key(huge)));
        restartCleanly();
        assertEquals(Set.of(key("g1")), store.groups());
    }

    @Test
    void theSameGroupIdInTwoTenantsIsTwoGroups() throws IOException {
        GroupKey ours = key("payments-app");
        GroupKey theirs = new GroupKey("another-tenant", "payments-app");
        store.commit(ours, Map.of(ORDERS_0, offset(5, "ours"))).join();
        store.commit(theirs, Map.of(ORDERS_0, offset(9, "theirs"))).join();
        store.delete(theirs, null).join();

        restartCleanly();

        assertEquals(Map.of(ORDERS_0, offset(5, "ours")), store.offsets(ours));
        assertFalse(store.hasOffsets(theirs));
    }

    @Test
    void aRecordWrittenBeforeTenantsExistedBelongsToTheDefaultTenant() throws IOException {
        byte[] group = "legacy".getBytes(StandardCharsets.UTF_8);
        byte[] topic = "orders".getBytes(StandardCharsets.UTF_8);
        byte[] keyV1 = ByteBuffer.allocate(2 + 1 + 2 + group.length + 2 + topic.length + 4)
                .putShort((short) 1).put((byte) 0)
                .putShort((short) group.length).put(group)
                .putShort((short) topic.length).put(topic)
                .putInt(0).array();
        byte[] value = ByteBuffer.allocate(2 + 8 + 4 + 4 + 8)
                .putShort((short) 1).putLong(42).putInt(3).putInt(0).putLong(ManualScheduler.START_MS).array();
        log.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(ManualScheduler.START_MS, keyV1, value)));

        restartCleanly();

        assertEquals(Map.of(ORDERS_0, offset(42, "")), store.offsets(new GroupKey(Tenant.DEFAULT_ID, "legacy")));
    }

    // ---------------------------------------------------------------- transactional offsets

    private static final long PRODUCER = 7;
    private static final long OTHER_PRODUCER = 8;

    @Test
    void pendingOffsetsAreInvisibleUntilTheirTransactionCommits() {
        commit("g1", ORDERS_0, 5, "plain");
        pend("g1", PRODUCER, ORDERS_0, 10);
        pend("g1", PRODUCER, ORDERS_1, 11);

        assertEquals(Map.of(ORDERS_0, offset(5, "plain")), offsetsOf("g1"));
        assertTrue(store.hasPending(key("g1"), ORDERS_1));
        assertFalse(store.hasPending(key("g1"), PAYMENTS_0));
        assertEquals(Map.of(ORDERS_0, offset(10, "txn"), ORDERS_1, offset(11, "txn")),
                store.pendingOffsets(key("g1"), PRODUCER));

        store.completeTransaction(key("g1"), PRODUCER, true).join();

        assertEquals(Map.of(ORDERS_0, offset(10, "txn"), ORDERS_1, offset(11, "txn")), offsetsOf("g1"));
        assertFalse(store.hasPending(key("g1")));
        assertEquals(Map.of(), store.pendingOffsets(key("g1"), PRODUCER));
    }

    @Test
    void anAbortDropsThePendingOffsetsOfItsProducerOnly() {
        commit("g1", ORDERS_0, 5, "plain");
        pend("g1", PRODUCER, ORDERS_0, 10);
        pend("g1", OTHER_PRODUCER, ORDERS_1, 20);

        store.completeTransaction(key("g1"), PRODUCER, false).join();

        assertEquals(Map.of(ORDERS_0, offset(5, "plain")), offsetsOf("g1"));
        assertFalse(store.hasPending(key("g1"), ORDERS_0));
        assertTrue(store.hasPending(key("g1"), ORDERS_1), "another producer's transaction is still open");
    }

    @Test
    void aGroupWithOnlyPendingOffsetsIsKnownAndHasNoCommittedOffsets() throws IOException {
        pend("g1", PRODUCER, ORDERS_0, 10);

        restartCleanly();

        assertEquals(Set.of(key("g1")), store.groups());
        assertFalse(store.hasOffsets(key("g1")));
        assertEquals(Set.of(ORDERS_0), store.partitions(key("g1")));
    }

    @Test
    void pendingOffsetsSurviveARestartUntilTheirCompletionRecord() throws IOException {
        pend("g1", PRODUCER, ORDERS_0, 10);
        pend("g2", PRODUCER, ORDERS_0, 30);
        store.completeTransaction(key("g2"), PRODUCER, true).join();

        restartCleanly();

        assertEquals(Map.of(), offsetsOf("g1"));
        assertEquals(Map.of(ORDERS_0, offset(10, "txn")), store.pendingOffsets(key("g1"), PRODUCER));
        assertEquals(Map.of(ORDERS_0, offset(30, "txn")), offsetsOf("g2"));
        assertFalse(store.hasPending(key("g2")));

        store.completeTransaction(key("g1"), PRODUCER, true).join();
        crashAndRestart();

        assertEquals(Map.of(ORDERS_0, offset(10, "txn")), offsetsOf("g1"));
        assertFalse(store.hasPending(key("g1")));
    }

    @Test
    void aSnapshotHoldsPendingOffsetsAndTheirCompletionAfterItIsReplayed() throws IOException {
        pend("g1", PRODUCER, ORDERS_0, 10);
        pend("g1", OTHER_PRODUCER, ORDERS_1, 20);
        commit("g2", PAYMENTS_0, 1, "plain");
        store.maybeSnapshot(1);
        store.completeTransaction(key("g1"), PRODUCER, true).join();

        crashAndRestart();

        assertEquals(Map.of(ORDERS_0, offset(10, "txn")), offsetsOf("g1"));
        assertEquals(Map.of(ORDERS_1, offset(20, "txn")), store.pendingOffsets(key("g1"), OTHER_PRODUCER));
        assertEquals(Map.of(PAYMENTS_0, offset(1, "plain")), offsetsOf("g2"));

        store.maybeSnapshot(1);
        restartCleanly();
        assertEquals(Map.of(ORDERS_1, offset(20, "txn")), store.pendingOffsets(key("g1"), OTHER_PRODUCER));
    }

    @Test
    void aPlainCommitWrittenAfterAPendingOffsetWinsWhenTheTransactionCommitsAlsoAcrossASnapshot()
            throws IOException {
        pend("g1", PRODUCER, ORDERS_0, 10);
        commit("g1", ORDERS_0, 50, "plain, later");
        pend("g1", PRODUCER, ORDERS_1, 11);
        commit("g1", ORDERS_1, 1, "plain, earlier");
        pend("g1", PRODUCER, ORDERS_1, 12);
        store.maybeSnapshot(1);
        restartCleanly();

        store.completeTransaction(key("g1"), PRODUCER, true).join();

        assertEquals(Map.of(ORDERS_0, offset(50, "plain, later"), ORDERS_1, offset(12, "txn")), offsetsOf("g1"),
                "as in Kafka, the most recent write wins");
    }

    @Test
    void deletingOffsetsDeletesThePendingOnesOfThePartitionToo() throws IOException {
        commit("g1", ORDERS_0, 5, "plain");
        pend("g1", PRODUCER, ORDERS_0, 10);
        pend("g1", PRODUCER, ORDERS_1, 11);
        pend("g2", PRODUCER, PAYMENTS_0, 12);

        delete("g1", List.of(ORDERS_1));
        delete("g2", null);
        restartCleanly();

        assertEquals(Map.of(ORDERS_0, offset(10, "txn")), store.pendingOffsets(key("g1"), PRODUCER));
        assertEquals(Set.of(key("g1")), store.groups());
        store.completeTransaction(key("g1"), PRODUCER, true).join();
        assertEquals(Map.of(ORDERS_0, offset(10, "txn")), offsetsOf("g1"));
    }

    @Test
    void completingATransactionWithNothingPendingWritesNothing() {
        commit("g1", ORDERS_0, 5, "plain");
        long end = log.logEndOffset();

        CompletableFuture<Void> durable = store.completeTransaction(key("g1"), PRODUCER, true);

        assertTrue(durable.isDone());
        assertEquals(end, log.logEndOffset());
    }

    // ---------------------------------------------------------------- record format

    @Test
    void theRecordsOfEachKindAreWrittenInThePinnedFormat() throws IOException {
        commit("g", ORDERS_1, 5, "m");
        pend("g", 0x0102030405060708L, ORDERS_1, 6);
        store.completeTransaction(key("g"), 0x0102030405060708L, true).join();
        delete("g", List.of(ORDERS_1));

        List<byte[][]> records = writtenRecords();

        byte[] offsetKey = bytes(0x00, 0x02, 0x00, 0x00, 0x11, TENANT, 0x00, 0x01, "g", 0x00, 0x06, "orders",
                0x00, 0x00, 0x00, 0x01);
        byte[] pendingKey = bytes(0x00, 0x02, 0x01, 0x00, 0x11, TENANT, 0x00, 0x01, "g",
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x06, "orders", 0x00, 0x00, 0x00, 0x01);
        byte[] endKey = bytes(0x00, 0x02, 0x02, 0x00, 0x11, TENANT, 0x00, 0x01, "g",
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);
        assertEquals(4, records.size());
        assertArrayEquals(offsetKey, records.get(0)[0]);
        assertArrayEquals(offsetValue(5, "m"), records.get(0)[1]);
        assertArrayEquals(pendingKey, records.get(1)[0]);
        assertArrayEquals(offsetValue(6, "txn"), records.get(1)[1]);
        assertArrayEquals(endKey, records.get(2)[0]);
        assertArrayEquals(bytes(0x00, 0x01, 0x01), records.get(2)[1], "end value version 1, commit");
        assertArrayEquals(offsetKey, records.get(3)[0]);
        assertNull(records.get(3)[1], "a tombstone");
    }

    @Test
    void anAbortIsWrittenAsResultZero() throws IOException {
        pend("g", PRODUCER, ORDERS_1, 6);
        store.completeTransaction(key("g"), PRODUCER, false).join();

        assertArrayEquals(bytes(0x00, 0x01, 0x00), writtenRecords().get(1)[1]);
    }

    @Test
    void aSnapshotRecordsEachOffsetWithTheLogOffsetThatWroteIt() throws IOException {
        commit("g", ORDERS_1, 5, "m");
        pend("g", PRODUCER, ORDERS_0, 6);

        store.maybeSnapshot(1);

        assertFalse(new String(Files.readAllBytes(dataDir.resolve("consumer-offsets.snapshot")),
                StandardCharsets.ISO_8859_1).contains("orders"), "sealed: no group or topic name in the clear");
        ByteBuffer payload = sealedFiles.read(dataDir.resolve("consumer-offsets.snapshot"), 0x42574F53, (byte) 3,
                KeyOwner.SYSTEM, "consumer-offsets.snapshot").orElseThrow();
        assertEquals(2, payload.getLong(), "covers the log up to its end");
        assertEquals(2, payload.getInt());
        assertArrayEquals(bytes(0x00, 0x02, 0x00, 0x00, 0x11, TENANT, 0x00, 0x01, "g", 0x00, 0x06, "orders",
                0x00, 0x00, 0x00, 0x01), next(payload));
        assertArrayEquals(concat(bytes(0, 0, 0, 0, 0, 0, 0, 0), offsetValue(5, "m")), next(payload));
        assertArrayEquals(bytes(0x00, 0x02, 0x01, 0x00, 0x11, TENANT, 0x00, 0x01, "g", 0, 0, 0, 0, 0, 0, 0, 7,
                0x00, 0x06, "orders", 0x00, 0x00, 0x00, 0x00), next(payload));
        assertArrayEquals(concat(bytes(0, 0, 0, 0, 0, 0, 0, 1), offsetValue(6, "txn")), next(payload));
    }

    @Test
    void anUnsealedSnapshotIsRefused() throws IOException {
        logs.close();
        opened.remove(logs);
        MetadataFile.write(dataDir.resolve("consumer-offsets.snapshot"), 0x42574F53, (byte) 2,
                ByteBuffer.allocate(12).putLong(0).putInt(0).array());

        SealedFiles.SealedFileException e = assertThrows(SealedFiles.SealedFileException.class, this::reopen);
        assertTrue(e.getMessage().contains("unsealed file from before encryption at rest"), e.getMessage());
    }

    // ---------------------------------------------------------------- helpers

    private void pend(String group, long producerId, TopicPartition tp, long offset) {
        CompletableFuture<Void> durable = store.commitPending(key(group), producerId,
                Map.of(tp, new CommittedOffset(offset, 3, "txn", time.nowMs())));
        assertTrue(durable.isDone(), "page cache policy: acknowledged once written");
        durable.join();
    }

    /** Every record of the offsets log: key, and value or null. */
    private List<byte[][]> writtenRecords() throws IOException {
        LogSlice slice = log.read(log.logStartOffset(), Integer.MAX_VALUE, true).slice().orElseThrow();
        ByteBuffer bytes = ByteBuffer.allocate(slice.length());
        slice.readInto(bytes);
        bytes.flip();
        List<byte[][]> records = new ArrayList<>();
        for (Record record : MemoryRecords.readableRecords(bytes).records()) {
            records.add(new byte[][]{Utils.toArray(record.key()),
                    record.hasValue() ? Utils.toArray(record.value()) : null});
        }
        return records;
    }

    /** Bytes from ints (one byte each) and strings (their UTF-8 bytes). */
    private static byte[] bytes(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof Integer b) {
                out.write(b);
            } else {
                out.writeBytes(((String) part).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] first, byte[] second) {
        return ByteBuffer.allocate(first.length + second.length).put(first).put(second).array();
    }

    /** The offset value (version 1) with leader epoch 3 and the start time as commit timestamp. */
    private static byte[] offsetValue(long offset, String metadata) {
        byte[] m = metadata.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 8 + 4 + 4 + m.length + 8).putShort((short) 1).putLong(offset).putInt(3)
                .putInt(m.length).put(m).putLong(ManualScheduler.START_MS).array();
    }

    private static byte[] next(ByteBuffer payload) {
        byte[] entry = new byte[payload.getInt()];
        payload.get(entry);
        return entry;
    }

    /** Commits, overwrites, a partial delete and a whole-group delete across three groups. */
    private void writeSomeHistory() {
        commit("g1", ORDERS_0, 5, "first");
        commit("g1", ORDERS_1, 6, "");
        commit("g2", ORDERS_0, 100, "two");
        time.advance(Duration.ofSeconds(1));
        commit("g1", ORDERS_0, 8, "second");
        delete("g1", List.of(ORDERS_1));
        commit("g3", PAYMENTS_0, 1, "three");
        delete("g3", null);
        commit("g4", PAYMENTS_0, 2, "\u00fcnicode \u2713");
    }

    private void assertHistory() {
        assertEquals(Set.of(key("g1"), key("g2"), key("g4")), store.groups());
        assertEquals(Map.of(ORDERS_0, new CommittedOffset(8, 3, "second", ManualScheduler.START_MS + 1000)),
                offsetsOf("g1"));
        assertEquals(Map.of(ORDERS_0, offset(100, "two")), offsetsOf("g2"));
        assertFalse(store.hasOffsets(key("g3")));
        assertEquals(Map.of(PAYMENTS_0, new CommittedOffset(2, 3, "\u00fcnicode \u2713",
                ManualScheduler.START_MS + 1000)), offsetsOf("g4"));
    }

    private void commit(String group, TopicPartition tp, long offset, String metadata) {
        CompletableFuture<Void> durable = store.commit(key(group), Map.of(tp, new CommittedOffset(offset, 3, metadata,
                time.nowMs())));
        assertTrue(durable.isDone(), "page cache policy: acknowledged once written");
        durable.join();
    }

    private void delete(String group, List<TopicPartition> partitions) {
        store.delete(key(group), partitions).join();
    }

    private Map<TopicPartition, CommittedOffset> offsetsOf(String group) {
        return store.offsets(key(group));
    }

    private static CommittedOffset offset(long offset, String metadata) {
        return new CommittedOffset(offset, 3, metadata, ManualScheduler.START_MS);
    }
}
