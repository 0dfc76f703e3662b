package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Encryption at rest, end to end through the log store: nothing of a record reaches the disk in the clear, everything
 * reads back, and a batch that was changed, moved or lost its key is never served.
 */
class EncryptionAtRestTest {

    private static final String TENANT = "acme";
    private static final KeyOwner OWNER = KeyOwner.tenant(TENANT);
    private static final String MARKER = "MARKER-7f3a9c-";
    /** A recognisable timestamp: record content, so it must not appear on disk either. */
    private static final long TIMESTAMP = 1_234_567_890_123L;

    @TempDir
    Path root;

    private final MutableClock clock = new MutableClock();
    private final List<LogManager> stores = new ArrayList<>();
    private AtRestKeys keys;

    @AfterEach
    void closeAll() throws IOException {
        for (LogManager store : stores) {
            store.close();
        }
    }

    private LogManager open(Path dataDir) throws IOException {
        keys = TestKeys.open(dataDir);
        LogManager store = LogManager.open(dataDir, Stores.settings(FlushPolicy.DURABLE), keys, Map.of(), clock,
                log -> { });
        stores.add(store);
        return store;
    }

    /** A store told not to seal batches, to measure what sealing costs. */
    private LogManager openUnsealed(Path dataDir) throws IOException {
        keys = TestKeys.open(dataDir);
        StorageSettings sealing = Stores.settings(FlushPolicy.DURABLE);
        LogManager store = LogManager.open(dataDir, new StorageSettings(sealing.flushPolicy(),
                sealing.flushInterval(), sealing.flushThreads(), sealing.recoveryThreads(),
                sealing.retentionCheckInterval(), sealing.checkpointInterval(), sealing.producerIdExpiration(),
                sealing.cleanerBackoff(), false), keys, Map.of(), clock, log -> { });
        stores.add(store);
        return store;
    }

    private void close(LogManager store) throws IOException {
        store.close();
        stores.remove(store);
    }

    private static PartitionLog log(LogManager store, String tenant, String topic, int partition) {
        TopicMetadata metadata = store.topic(tenant, topic).orElseThrow();
        return store.log(metadata.id(), partition).orElseThrow();
    }

    /** A topic name holding the marker: topic metadata is sealed too. */
    private static final String ORDERS = MARKER + "orders";

    /** One record whose key, value and header value hold the marker, at {@link #TIMESTAMP}. */
    private static MemoryRecords marked(int i) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(TIMESTAMP, utf8(MARKER + "key-" + i),
                utf8(MARKER + "value-" + i), new Header[]{new RecordHeader("h", utf8(MARKER + "header-" + i))}));
    }

    private static MemoryRecords markedIdempotent(long producerId, int sequence) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, sequence,
                new SimpleRecord(TIMESTAMP, utf8(MARKER + "key-p" + sequence), utf8(MARKER + "value-p" + sequence),
                        new Header[]{new RecordHeader("h", utf8(MARKER + "header-p" + sequence))}));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void noRecordContentNorTopicNameIsOnDiskAndEverythingReadsBackAfterARestart() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TENANT, ORDERS, 2, Map.of(LogConfig.SEGMENT_BYTES, "1024",
                LogConfig.INDEX_INTERVAL_BYTES, "1"));
        for (int p = 0; p < 2; p++) {
            PartitionLog log = log(store, TENANT, ORDERS, p);
            for (int i = 0; i < 20; i++) {
                Stores.appendAcked(log, i % 2 == 0 ? marked(i) : markedIdempotent(7, i / 2));
            }
            assertTrue(log.segmentCount() > 2, "rolls write indexes and producer snapshots");
        }
        close(store);

        assertNowhereOnDisk(dataDir, utf8(MARKER));
        assertNowhereOnDisk(dataDir, ByteBuffer.allocate(8).putLong(TIMESTAMP).array());

        LogManager reopened = open(dataDir);
        assertTrue(reopened.topic(TENANT, ORDERS).isPresent(), "the sealed topic metadata opens");
        for (int p = 0; p < 2; p++) {
            List<Record> records = Batches.readAllRecords(log(reopened, TENANT, ORDERS, p));
            assertEquals(20, records.size());
            for (Record record : records) {
                assertEquals(TIMESTAMP, record.timestamp());
                assertTrue(Batches.key(record).startsWith(MARKER));
                assertTrue(Batches.value(record).startsWith(MARKER));
                assertTrue(new String(record.headers()[0].value(), StandardCharsets.UTF_8).startsWith(MARKER));
            }
            assertEquals(TIMESTAMP, log(reopened, TENANT, ORDERS, p).offsetForTimestamp(TIMESTAMP).orElseThrow()
                    .timestamp());
        }
    }

    private static void assertNowhereOnDisk(Path dataDir, byte[] needle) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dataDir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.stream().anyMatch(f -> f.toString().endsWith(Segment.INDEX_SUFFIX)), files.toString());
        assertTrue(files.stream().anyMatch(f -> f.toString().endsWith(PartitionLog.SNAPSHOT_SUFFIX)),
                files.toString());
        for (Path file : files) {
            byte[] bytes = Files.readAllBytes(file);
            assertEquals(-1, indexOf(bytes, needle), file + " holds " + HexFormat.of().formatHex(needle));
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---------------------------------------------------------------- tampering

    /** A closed store of one topic of two partitions, each with four batches of the same size, offsets 0 to 3. */
    private Path closedStore() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TENANT, "t", 2, Map.of());
        for (int p = 0; p < 2; p++) {
            for (int i = 0; i < 4; i++) {
                Stores.appendAcked(log(store, TENANT, "t", p), marked(i));
            }
        }
        close(store);
        return dataDir;
    }

    private static Path segment(Path dataDir, LogManager store, int partition) throws IOException {
        return Partitions.segmentFiles(Stores.partitionDir(dataDir, store.topic(TENANT, "t").orElseThrow(),
                partition)).get(0);
    }

    private static Path segmentOfClosed(Path dataDir, int partition) throws IOException {
        try (Stream<Path> topics = Files.list(dataDir.resolve("topics"))) {
            Path topic = topics.findFirst().orElseThrow();
            return Partitions.segmentFiles(topic.resolve(Integer.toString(partition))).get(0);
        }
    }

    private static byte[] frame(byte[] file, List<Integer> positions, int index) {
        int end = index + 1 < positions.size() ? positions.get(index + 1) : file.length;
        return Arrays.copyOfRange(file, positions.get(index), end);
    }

    /** Reads partition 0 from {@code offset} as a fetch does; the failure a fetch would answer, or the bytes. */
    private static byte[] fetch(PartitionLog log, long offset) throws IOException {
        PartitionLog.LogRead read = log.read(offset, Integer.MAX_VALUE, true);
        LogSlice slice = read.slice().orElseThrow();
        ByteBuffer buffer = ByteBuffer.allocate(slice.length());
        slice.readInto(buffer);
        return buffer.array();
    }

    /** A clean restart verifies nothing: the damage is found when a fetch opens the batch. */
    private void assertNeverServed(Path dataDir, long damagedOffset) throws IOException {
        PartitionLog log = log(open(dataDir), TENANT, "t", 0);
        assertThrows(IOException.class, () -> fetch(log, 0), "the run from offset 0 reaches the damaged batch");
        assertThrows(KafkaStorageException.class, () -> log.read(damagedOffset, Integer.MAX_VALUE, true),
                "once found, the damaged batch is fenced");
        assertEquals(1, log.corruptRanges().size());
        List<RecordBatch> before = new ArrayList<>(Batches.batchesOf(fetch(log, 0)));
        assertEquals(damagedOffset, before.size(), "the batches before the damage are still served");
        assertEquals(MARKER + "value-0", Batches.value(before.get(0).iterator().next()));
        assertEquals(damagedOffset + 1, Batches.batchesOf(fetch(log, damagedOffset + 1)).get(0).baseOffset(),
                "and those after it");
    }

    @Test
    void aFlippedBitIsNeverServed() throws IOException {
        Path dataDir = closedStore();
        Path segment = segmentOfClosed(dataDir, 0);
        byte[] file = Files.readAllBytes(segment);
        int position = Partitions.batchPositions(segment).get(2);
        file[position + Frame.SEALED_OFFSET + 40] ^= 0x10;
        Files.write(segment, file);

        assertNeverServed(dataDir, 2);
    }

    @Test
    void swappedBatchesAreNeverServed() throws IOException {
        Path dataDir = closedStore();
        Path segment = segmentOfClosed(dataDir, 0);
        byte[] file = Files.readAllBytes(segment);
        List<Integer> positions = Partitions.batchPositions(segment);
        byte[] second = frame(file, positions, 2);
        byte[] third = frame(file, positions, 3);
        assertEquals(second.length, third.length);
        System.arraycopy(third, 0, file, positions.get(2), third.length);
        System.arraycopy(second, 0, file, positions.get(3), second.length);
        Files.write(segment, file);

        PartitionLog log = log(open(dataDir), TENANT, "t", 0);
        assertThrows(KafkaStorageException.class, () -> log.read(0, Integer.MAX_VALUE, true),
                "the run from offset 0 reaches the batch of offset 3 where offset 2 belongs");
        assertThrows(KafkaStorageException.class, () -> log.read(3, Integer.MAX_VALUE, true),
                "the batch of offset 3 is fenced where it was found");
        assertEquals(List.of(0L, 1L), Batches.batchesOf(fetch(log, 0)).stream().map(RecordBatch::baseOffset)
                .toList(), "what lies before the swap is still served");
        assertEquals(List.of(2L), Batches.batchesOf(fetch(log, 2)).stream().map(RecordBatch::baseOffset).toList(),
                "the batch of offset 2 is authentic: served where it lies, in order");
    }

    @Test
    void aBatchSplicedFromAnotherPartitionIsNeverServed() throws IOException {
        Path dataDir = closedStore();
        Path target = segmentOfClosed(dataDir, 0);
        Path source = segmentOfClosed(dataDir, 1);
        byte[] file = Files.readAllBytes(target);
        List<Integer> positions = Partitions.batchPositions(target);
        byte[] foreign = frame(Files.readAllBytes(source), Partitions.batchPositions(source), 2);
        assertEquals(frame(file, positions, 2).length, foreign.length, "the same offsets and size, another partition");
        System.arraycopy(foreign, 0, file, positions.get(2), foreign.length);
        Files.write(target, file);

        assertNeverServed(dataDir, 2);
    }

    @Test
    void aBatchReplayedAtAnotherOffsetIsNeverServed() throws IOException {
        Path dataDir = closedStore();
        Path segment = segmentOfClosed(dataDir, 0);
        byte[] file = Files.readAllBytes(segment);
        List<Integer> positions = Partitions.batchPositions(segment);
        byte[] replayed = frame(file, positions, 1);
        ByteBuffer.wrap(replayed).putLong(Frame.BASE_OFFSET_OFFSET, 2); // its clear base offset made to fit
        System.arraycopy(replayed, 0, file, positions.get(2), replayed.length);
        Files.write(segment, file);

        assertNeverServed(dataDir, 2);
    }

    @Test
    void recoveryFencesTamperedBatchesAfterAnUncleanStop() throws IOException {
        Path dataDir = closedStore();
        Path segment = segmentOfClosed(dataDir, 0);
        byte[] file = Files.readAllBytes(segment);
        List<Integer> positions = Partitions.batchPositions(segment);
        byte[] second = frame(file, positions, 1);
        byte[] third = frame(file, positions, 2);
        System.arraycopy(third, 0, file, positions.get(1), third.length);
        System.arraycopy(second, 0, file, positions.get(2), second.length);
        Files.write(segment, file);
        Files.delete(dataDir.resolve("checkpoints")); // as after a crash: every segment is verified
        Files.delete(dataDir.resolve(".clean-shutdown"));

        PartitionLog log = log(open(dataDir), TENANT, "t", 0);

        assertFalse(log.corruptRanges().isEmpty(), "the misplaced batch is fenced");
        List<Long> served = Batches.readAll(log).stream().map(RecordBatch::baseOffset).toList();
        assertEquals(List.of(0L, 1L), served.subList(0, 2), "served in order, each where it belongs");
        for (int i = 1; i < served.size(); i++) {
            assertTrue(served.get(i) > served.get(i - 1), served.toString());
        }
    }

    // ---------------------------------------------------------------- keys

    @Test
    void aShreddedTenantsTopicsAreRemovedWhenLoadedAndOthersAreUntouched() throws Exception {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        TopicMetadata topic = store.createTopic(TENANT, "t", 1, Map.of());
        store.createTopic("other", "t", 1, Map.of());
        Stores.appendAcked(log(store, TENANT, "t", 0), marked(0));
        Stores.appendAcked(log(store, "other", "t", 0), marked(0));
        close(store);
        TestKeys.open(dataDir).keyring().shred(OWNER);
        Path topicDir = dataDir.resolve("topics").resolve(topic.id().toString());

        LogManager reopened = open(dataDir);

        assertTrue(reopened.topic(TENANT, "t").isEmpty(), "its name is unreadable, so the topic is gone");
        assertTrue(reopened.log(topic.id(), 0).isEmpty());
        assertFalse(Files.exists(topicDir), "nothing of a shredded owner can be read again, so it is removed");
        assertEquals(1, Batches.readAllRecords(log(reopened, "other", "t", 0)).size());
        close(reopened);
    }

    @Test
    void aTopicUnderADestroyedVersionOfALiveOwnerIsNeitherLoadedNorRemoved() throws Exception {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        TopicMetadata topic = store.createTopic(TENANT, "t", 1, Map.of());
        Stores.appendAcked(log(store, TENANT, "t", 0), marked(0));
        close(store);
        Keyring keyring = TestKeys.open(dataDir).keyring();
        // A rotation whose rewrap never ran: what a keyring restored from the wrong copy looks like to the store.
        keyring.destroyVersionsBefore(OWNER, keyring.rotate(OWNER));
        Path topicDir = dataDir.resolve("topics").resolve(topic.id().toString());
        Map<String, String> before = Stores.contents(topicDir);

        LogManager reopened = open(dataDir);

        assertTrue(reopened.topic(TENANT, "t").isEmpty());
        close(reopened);
        assertEquals(before, Stores.contents(topicDir), "an operator must look at it: nothing is rewritten or removed");
    }

    @Test
    void aShreddedTenantsCopiedSegmentsStayUnreadableWhenPutBack() throws Exception {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        TopicMetadata topic = store.createTopic(TENANT, "t", 1, Map.of());
        Stores.appendAcked(log(store, TENANT, "t", 0), marked(0));
        close(store);
        Path topicDir = dataDir.resolve("topics").resolve(topic.id().toString());
        Path copy = root.resolve("copy");
        Stores.copyTree(topicDir, copy);

        LogManager live = open(dataDir);
        keys.keyring().shred(OWNER);
        live.deleteTopic(topic.id());
        close(live);
        Stores.copyTree(copy, topicDir); // the copy restored into place, without the keyring of its time

        LogManager restored = open(dataDir);
        assertTrue(restored.topic(TENANT, "t").isEmpty(), "neither its name nor its records open");
        assertTrue(restored.log(topic.id(), 0).isEmpty());
    }

    @Test
    void afterRotationRewrapAndDestructionOfTheOldVersionEverythingStillReads() throws Exception {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TENANT, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        PartitionLog log = log(store, TENANT, "t", 0);
        for (int i = 0; i < 10; i++) {
            Stores.appendAcked(log, marked(i));
        }
        int segments = log.segmentCount();
        assertTrue(segments > 2);

        int version = keys.keyring().rotate(OWNER);
        assertEquals(segments, store.rewrapKeys(OWNER));
        assertEquals(0, store.rewrapKeys(OWNER), "a second pass has nothing left to do");
        keys.keyring().destroyVersionsBefore(OWNER, version);

        assertEquals(10, Batches.readAllRecords(log).size());
        Stores.appendAcked(log, marked(10));
        close(store);
        PartitionLog reopened = log(open(dataDir), TENANT, "t", 0);
        assertFalse(reopened.isOffline());
        assertEquals(11, Batches.readAllRecords(reopened).size());
        assertTrue(reopened.kekVersions().stream().allMatch(v -> v == version), reopened.kekVersions().toString());
    }

    @Test
    void aSegmentLeftUnderADestroyedVersionTakesItsPartitionOffline() throws Exception {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TENANT, "t", 1, Map.of());
        Stores.appendAcked(log(store, TENANT, "t", 0), marked(0));
        int version = keys.keyring().rotate(OWNER);
        // The topic's metadata is rewritten under the new version by a config change; the segment is not rewrapped.
        store.alterTopicConfigs(store.topic(TENANT, "t").orElseThrow().id(), Map.of(LogConfig.RETENTION_MS, "-1"));
        keys.keyring().destroyVersionsBefore(OWNER, version);
        close(store);

        PartitionLog log = log(open(dataDir), TENANT, "t", 0);

        assertTrue(log.isOffline());
        KafkaStorageException refused = assertThrows(KafkaStorageException.class,
                () -> log.read(0, Integer.MAX_VALUE, true));
        assertTrue(refused.getMessage().contains("was destroyed"), refused.getMessage());
    }

    @Test
    void anUnsealedSegmentIsRefusedWithAClearMessage() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TENANT, "t", 1, Map.of());
        close(store);
        Path segment = segment(dataDir, store, 0);
        Files.write(segment, HexFormat.of().parseHex("42574c47" + "01" + "000000" + "0000000000000000"));

        IOException refused = assertThrows(IOException.class, () -> open(dataDir));
        assertTrue(refused.getMessage().contains("unsealed"), refused.getMessage());
        assertTrue(Files.exists(segment));
    }

    // ---------------------------------------------------------------- unsealed batches (benchmarks only)

    @Test
    void unsealedBatchesReadBackAndAreCheckedByTheirCrc() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = openUnsealed(dataDir);
        store.createTopic(TENANT, "t", 1, Map.of());
        for (int i = 0; i < 4; i++) {
            Stores.appendAcked(log(store, TENANT, "t", 0), marked(i));
        }
        close(store);
        Path segment = segmentOfClosed(dataDir, 0);
        assertTrue(new String(Files.readAllBytes(segment), StandardCharsets.ISO_8859_1).contains(MARKER + "value-3"),
                "unsealed: what the benchmark measures against");
        LogManager reopened = openUnsealed(dataDir);
        assertEquals(4, Batches.readAllRecords(log(reopened, TENANT, "t", 0)).size());
        close(reopened);

        byte[] file = Files.readAllBytes(segment);
        file[Partitions.batchPositions(segment).get(2) + Frame.SEALED_OFFSET + 70] ^= 0x10;
        Files.write(segment, file);
        PartitionLog damaged = log(openUnsealed(dataDir), TENANT, "t", 0);
        assertThrows(IOException.class, () -> fetch(damaged, 0), "the batch's CRC no longer matches");
        assertThrows(KafkaStorageException.class, () -> damaged.read(2, Integer.MAX_VALUE, true));
        assertEquals(2, Batches.batchesOf(fetch(damaged, 0)).size(), "the batches before it are still served");
    }

    /**
     * A crash while the last batch was written: the file cut short inside it, or whole in length but with the end of
     * the batch never written (zeroes, as preallocated), which only the batch's CRC tells.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aTornTailOfAnUnsealedSegmentIsCutAtRecovery(boolean cutShort) throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = openUnsealed(dataDir);
        store.createTopic(TENANT, "t", 1, Map.of());
        for (int i = 0; i < 6; i++) {
            Stores.appendAcked(log(store, TENANT, "t", 0), marked(i));
        }
        Path copy = root.resolve("crash");
        Stores.copyTree(dataDir, copy);
        Path segment = segmentOfClosed(copy, 0);
        int last = Partitions.batchPositions(segment).get(5);
        int batchEnd = (int) Partitions.dataEnd(segment) - AesGcm.TAG_LENGTH; // the zero tag follows the batch
        if (cutShort) {
            try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
                channel.truncate(last + 30);
            }
        } else {
            byte[] file = Files.readAllBytes(segment);
            Arrays.fill(file, batchEnd - 40, batchEnd, (byte) 0);
            Files.write(segment, file);
        }

        PartitionLog recovered = log(openUnsealed(copy), TENANT, "t", 0);

        assertEquals(5, recovered.logEndOffset(), "the five whole batches are kept");
        assertEquals(List.of(MARKER + "value-0", MARKER + "value-1", MARKER + "value-2", MARKER + "value-3",
                MARKER + "value-4"), Batches.values(Batches.readAllRecords(recovered)));
        assertEquals(last, Files.size(segment), "the torn batch is cut from the file");
        assertEquals(5, Stores.appendAcked(recovered, marked(6)).firstOffset(), "offsets continue after them");
        assertEquals(MARKER + "value-6", Batches.value(Batches.readAllRecords(recovered).get(5)));
    }

    /** Sealing or not is fixed when a store is created: opening it the other way changes nothing and says why. */
    @Test
    void aStoreKeepsTheBatchSealingItWasCreatedWith() throws IOException {
        Path unsealedDir = root.resolve("unsealed");
        LogManager unsealed = openUnsealed(unsealedDir);
        assertFalse(LogManager.sealsBatches(unsealedDir), "recorded when the store is created");
        unsealed.createTopic(TENANT, "t", 1, Map.of());
        Stores.appendAcked(log(unsealed, TENANT, "t", 0), marked(0));
        close(unsealed);
        Map<String, String> before = Stores.contents(unsealedDir);
        BatchSealingMismatchException refused = assertThrows(BatchSealingMismatchException.class,
                () -> open(unsealedDir));
        assertFalse(refused.storeSeals());
        assertTrue(refused.getMessage().contains("NOT sealing"), refused.getMessage());
        assertEquals(before, Stores.contents(unsealedDir), "nothing of the store was changed");
        assertEquals(1, Batches.readAllRecords(log(openUnsealed(unsealedDir), TENANT, "t", 0)).size());

        Path sealedDir = root.resolve("sealed");
        close(open(sealedDir));
        assertTrue(LogManager.sealsBatches(sealedDir));
        assertTrue(assertThrows(BatchSealingMismatchException.class, () -> openUnsealed(sealedDir)).storeSeals());

        // A store created before the choice was recorded sealed every batch.
        Files.delete(sealedDir.resolve(BatchSealingRecord.FILE_NAME));
        assertTrue(assertThrows(BatchSealingMismatchException.class, () -> openUnsealed(sealedDir)).storeSeals());
        close(open(sealedDir));
        assertTrue(Files.exists(sealedDir.resolve(BatchSealingRecord.FILE_NAME)), "recorded on its next start");
    }

    /** Only tampering puts an unsealed segment in a store that seals: here, its flags changed. */
    @Test
    void anUnsealedSegmentInAStoreThatSealsIsNeverServed() throws IOException {
        Path dataDir = closedStore();
        Path segment = segmentOfClosed(dataDir, 0);
        byte[] file = Files.readAllBytes(segment);
        file[Segment.FLAGS_OFFSET] |= Segment.UNSEALED_FLAG;
        Files.write(segment, file);

        LogManager store = open(dataDir);
        PartitionLog refused = log(store, TENANT, "t", 0);
        assertTrue(refused.isOffline(), "a store that seals serves no unsealed segment");
        assertThrows(KafkaStorageException.class, () -> refused.read(0, Integer.MAX_VALUE, true));
        assertFalse(log(store, TENANT, "t", 1).isOffline(), "the other partition is served");
        assertEquals(4, Batches.readAllRecords(log(store, TENANT, "t", 1)).size());
    }
}
