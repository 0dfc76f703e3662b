package dev.bulwark.gateway.group;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.errors.InvalidGroupIdException;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Committed offsets on a real internal log: what was committed and deleted is there again after a clean restart and
 * after a crash, with and without a snapshot, and the log before a snapshot is dropped.
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
    private LogManager logs;
    private PartitionLog log;
    private OffsetStore store;

    @BeforeEach
    void open() throws IOException {
        dataDir = dir.resolve("data");
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
        store = OffsetStore.open(log, dataDir.resolve("consumer-offsets.snapshot"), time.clock());
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

    // ---------------------------------------------------------------- helpers

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
