package dev.bulwark.storage;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicIdException;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log store of a data directory: topics, their partitions and configs, across restarts. */
class LogManagerTest {

    private static final long T = MutableClock.START_MS;

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

    private LogManager reopen() throws IOException {
        store.close();
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        return store;
    }

    private static byte[] everything(PartitionLog log) {
        return Batches.sliceBytes(log.read(log.logStartOffset(), Integer.MAX_VALUE, true));
    }

    @Test
    void topicsDataConfigsAndPartitionCountsSurviveACleanRestart() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata orders = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "orders", 3, Map.of(LogConfig.RETENTION_MS, "3600000",
                LogConfig.TIMESTAMP_TYPE, "LogAppendTime"));
        TopicMetadata audit = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "audit", 1, Map.of());
        Map<String, byte[]> written = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            PartitionLog log = Stores.log(store, "orders", p);
            for (int i = 0; i <= p; i++) {
                Stores.appendAcked(log, Batches.plain(T, "orders-" + p + "-" + i));
            }
            written.put("orders-" + p, everything(log));
        }
        Stores.appendAcked(Stores.log(store, "audit", 0), Batches.idempotent(9L, (short) 0, 0, T, "x", "y"));
        written.put("audit-0", everything(Stores.log(store, "audit", 0)));

        reopen();

        assertEquals(Set.of(orders, audit), Set.copyOf(store.topics()));
        assertEquals(Optional.of(orders), store.topic(orders.id()));
        assertEquals(3, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "orders").orElseThrow().partitions());
        for (int p = 0; p < 3; p++) {
            PartitionLog log = Stores.log(store, "orders", p);
            assertEquals(p + 1, log.logEndOffset());
            assertEquals(p + 1, log.highWatermark());
            assertArrayEquals(written.get("orders-" + p), everything(log));
            assertEquals(3_600_000L, log.config().retentionMs);
            assertEquals(TimestampType.LOG_APPEND_TIME, log.config().timestampType);
        }
        assertArrayEquals(written.get("audit-0"), everything(Stores.log(store, "audit", 0)));
        assertEquals(Optional.empty(), store.log(orders.id(), 3));
        assertTrue(Files.exists(dataDir.resolve("checkpoints")));
        assertFalse(Files.exists(dataDir.resolve(".clean-shutdown")), "the marker is consumed by the start");
    }

    @Test
    void theSameNameInTwoTenantsIsTwoTopics() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata a = store.createTopic("tenant-a", "payments", 1, Map.of());
        TopicMetadata b = store.createTopic("tenant-b", "payments", 2, Map.of());
        assertThrows(org.apache.kafka.common.errors.TopicExistsException.class,
                () -> store.createTopic("tenant-a", "payments", 1, Map.of()));
        Stores.appendAcked(store.log(a.id(), 0).orElseThrow(), Batches.plain(T, "only in a"));

        reopen();

        assertEquals(Optional.of(a), store.topic("tenant-a", "payments"));
        assertEquals(Optional.of(b), store.topic("tenant-b", "payments"));
        assertEquals(Set.of(a), Set.copyOf(store.topics("tenant-a")));
        assertEquals(Optional.empty(), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "payments"));
        assertEquals(1, store.log(a.id(), 0).orElseThrow().logEndOffset());
        assertEquals(0, store.log(b.id(), 0).orElseThrow().logEndOffset());
        store.deleteTopic(a.id());
        assertEquals(Optional.of(b), store.topic("tenant-b", "payments"));
    }

    @Test
    void aRestartedLogKeepsAppendingAtItsEnd() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        for (int i = 0; i < 10; i++) {
            Stores.appendAcked(Stores.log(store, "t", 0), Batches.plain(T, "v".repeat(200) + i));
        }

        reopen();
        PartitionLog log = Stores.log(store, "t", 0);
        Stores.appendAcked(log, Batches.plain(T, "after"));

        assertEquals(10, log.append(Batches.plain(T, "x")).firstOffset() - 1);
        assertEquals(12, log.logEndOffset());
    }

    @Test
    void timestampLookupsAnswerTheSameFromSavedIndexes() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.INDEX_INTERVAL_BYTES, "200"));
        PartitionLog log = Stores.log(store, "t", 0);
        for (int i = 0; i < 40; i++) {
            Stores.appendAcked(log, Batches.withTimestamps(Compression.NONE,
                    new long[] {T + 3 * i, T + 3 * i - 20}, "a" + i + "x".repeat(50), "b" + i));
        }
        List<Optional<TimestampAndOffset>> before = new ArrayList<>();
        for (long ts = T - 30; ts < T + 130; ts++) {
            before.add(log.offsetForTimestamp(ts));
        }
        Optional<TimestampAndOffset> max = log.maxTimestamp();

        reopen();
        PartitionLog reopened = Stores.log(store, "t", 0);

        assertTrue(reopened.segmentCount() > 3);
        for (long ts = T - 30; ts < T + 130; ts++) {
            assertEquals(before.get((int) (ts - T + 30)), reopened.offsetForTimestamp(ts), "lookup of " + ts);
        }
        assertEquals(max, reopened.maxTimestamp());
    }

    @Test
    void addPartitionsGrowsTheTopicDurably() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata topic = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 2, Map.of(LogConfig.SEGMENT_BYTES, "2048"));
        Stores.appendAcked(Stores.log(store, "t", 0), Batches.plain(T, "p0"));

        TopicMetadata grown = store.addPartitions(topic.id(), 5);

        assertEquals(5, grown.partitions());
        assertEquals(2048, Stores.log(store, "t", 4).config().segmentBytes);
        Stores.appendAcked(Stores.log(store, "t", 4), Batches.plain(T, "p4"));
        assertThrows(InvalidPartitionsException.class, () -> store.addPartitions(topic.id(), 5));
        assertThrows(UnknownTopicIdException.class, () -> store.addPartitions(Uuid.randomUuid(), 9));

        reopen();

        assertEquals(5, store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow().partitions());
        assertEquals(List.of("p0"), Batches.values(Batches.readAllRecords(Stores.log(store, "t", 0))));
        assertEquals(List.of("p4"), Batches.values(Batches.readAllRecords(Stores.log(store, "t", 4))));
        assertEquals(0, Stores.log(store, "t", 3).logEndOffset());
    }

    @Test
    void alterTopicConfigsReplacesTheOverridesOfEveryPartition() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata topic = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 2, Map.of(LogConfig.RETENTION_MS, "1000",
                LogConfig.SEGMENT_BYTES, "4096"));

        store.alterTopicConfigs(topic.id(), Map.of(LogConfig.RETENTION_BYTES, "12345"));

        for (int p = 0; p < 2; p++) {
            LogConfig config = Stores.log(store, "t", p).config();
            assertEquals(12345, config.retentionBytes);
            assertEquals(LogConfig.defaults().retentionMs, config.retentionMs, "overrides are replaced, not merged");
            assertEquals(LogConfig.defaults().segmentBytes, config.segmentBytes);
        }
        assertThrows(InvalidConfigurationException.class,
                () -> store.alterTopicConfigs(topic.id(), Map.of("no.such.config", "1")));
        assertThrows(InvalidConfigurationException.class,
                () -> store.alterTopicConfigs(topic.id(), Map.of(LogConfig.SEGMENT_BYTES, "1")));
        assertEquals(Map.of(LogConfig.RETENTION_BYTES, "12345"), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow().configs());

        reopen();

        assertEquals(Map.of(LogConfig.RETENTION_BYTES, "12345"), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").orElseThrow().configs());
        assertEquals(12345, Stores.log(store, "t", 1).config().retentionBytes);
    }

    @Test
    void aDeletedTopicDisappearsWithItsFilesAndItsNameCanBeReused() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata old = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 2, Map.of());
        Stores.appendAcked(Stores.log(store, "t", 0), Batches.plain(T, "old"));
        Path oldDir = dataDir.resolve("topics").resolve(old.id().toString());

        store.deleteTopic(old.id());

        assertEquals(Optional.empty(), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t"));
        assertEquals(Optional.empty(), store.topic(old.id()));
        assertEquals(Optional.empty(), store.log(old.id(), 0));
        assertFalse(Files.exists(oldDir), "the topic's directory is renamed away at once");
        assertThrows(UnknownTopicIdException.class, () -> store.deleteTopic(old.id()));

        TopicMetadata reborn = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of());
        assertNotEquals(old.id(), reborn.id());
        assertEquals(0, Stores.log(store, "t", 0).logEndOffset());
        Stores.appendAcked(Stores.log(store, "t", 0), Batches.plain(T, "new"));

        reopen();

        assertEquals(List.of(reborn), List.copyOf(store.topics()));
        assertEquals(List.of("new"), Batches.values(Batches.readAllRecords(Stores.log(store, "t", 0))));
        try (var entries = Files.list(dataDir.resolve("topics"))) {
            assertEquals(Set.of(reborn.id().toString()),
                    entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet()),
                    "nothing of the deleted topic is left on disk");
        }
    }

    @Test
    void leftoversOfInterruptedTopicOperationsAreRemovedAtTheNextStart() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata kept = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "kept", 2, Map.of());
        TopicMetadata unborn = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "unborn", 1, Map.of());
        TopicMetadata dying = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "dying", 1, Map.of());
        store.close();
        Path topics = dataDir.resolve("topics");
        // A creation that crashed before its topic.meta was written, a partition addition that crashed before the
        // new count was, and a deletion that crashed after the rename.
        Files.delete(topics.resolve(unborn.id().toString()).resolve("topic.meta"));
        Files.createDirectories(Stores.partitionDir(dataDir, kept, 2));
        Files.move(topics.resolve(dying.id().toString()), topics.resolve(dying.id() + ".deleting"));

        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);

        assertEquals(List.of(kept), List.copyOf(store.topics()));
        try (var entries = Files.list(topics)) {
            assertEquals(Set.of(kept.id().toString()),
                    entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
        }
        assertFalse(Files.exists(Stores.partitionDir(dataDir, kept, 2)));
        assertTrue(Files.exists(Stores.partitionDir(dataDir, kept, 1)));
    }

    @Test
    void aTopicNameIsUnique() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of());

        assertThrows(TopicExistsException.class, () -> store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 3, Map.of()));
        assertThrows(InvalidPartitionsException.class, () -> store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "u", 0, Map.of()));
        assertThrows(InvalidConfigurationException.class,
                () -> store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "u", 1, Map.of(LogConfig.CLEANUP_POLICY, "archive")));
        assertEquals(Optional.empty(), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "u"));
        assertEquals(1, store.topics().size());
    }

    @Test
    void aSecondOpenOfTheSameDirectoryFailsWhileTheFirstIsOpen() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of());

        assertThrows(IOException.class, () -> Stores.open(dataDir, clock, FlushPolicy.DURABLE));

        Stores.appendAcked(Stores.log(store, "t", 0), Batches.plain(T, "still works"));
        store.close();
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        assertEquals(1, Stores.log(store, "t", 0).logEndOffset());
    }

    @Test
    void aFailedSecondOpenLeavesTheDirectoryLockedAgainstOtherProcesses() throws Exception {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        assertEquals("locked", LockProbe.probe(dataDir.resolve(".lock")));

        for (int i = 0; i < 3; i++) {
            assertThrows(IOException.class, () -> Stores.open(dataDir, clock, FlushPolicy.DURABLE));
        }
        System.gc(); // a leaked channel to the lock file, once collected, closes and drops the process's lock

        assertEquals("locked", LockProbe.probe(dataDir.resolve(".lock")));
    }

    @Test
    void aClosedStoreRefusesChanges() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        TopicMetadata topic = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of());
        PartitionLog log = Stores.log(store, "t", 0);
        store.close();

        assertThrows(KafkaStorageException.class, () -> store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "u", 1, Map.of()));
        assertThrows(KafkaStorageException.class, () -> store.deleteTopic(topic.id()));
        assertThrows(KafkaStorageException.class, () -> log.append(Batches.plain(T, "late")));
        assertTrue(Files.exists(dataDir.resolve(".clean-shutdown")));
    }

    @Test
    void brokerDefaultsApplyToTopicsWithoutOverrides() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE, Map.of("log.retention.ms", "5000"));
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "plain", 1, Map.of());
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "custom", 1, Map.of(LogConfig.RETENTION_MS, "7000"));
        assertEquals(5000, Stores.log(store, "plain", 0).config().retentionMs);

        store.updateServerDefaults(Map.of("log.retention.ms", "9000", "log.segment.bytes", "2048"));

        assertEquals(9000, Stores.log(store, "plain", 0).config().retentionMs);
        assertEquals(2048, Stores.log(store, "plain", 0).config().segmentBytes);
        assertEquals(7000, Stores.log(store, "custom", 0).config().retentionMs, "the topic's override wins");
        assertEquals(2048, Stores.log(store, "custom", 0).config().segmentBytes);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "later", 1, Map.of());
        assertEquals(9000, Stores.log(store, "later", 0).config().retentionMs);
        assertEquals(Map.of(), store.topic(TopicMetadata.DEFAULT_TENANT_ID, "plain").orElseThrow().configs(), "defaults are not stored as overrides");
    }
}
