package dev.bulwark.storage;

import dev.bulwark.storage.Compacted.Entry;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recovery of compacted segments: their gaps are not damage, but damage in them, even where the batch checksums do
 * not look (base offsets), is never served at a wrong offset.
 */
class CompactedRecoveryTest {

    private static final long T = MutableClock.START_MS;

    @TempDir
    Path root;

    private final MutableClock clock = new MutableClock();
    private final List<LogManager> stores = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        for (LogManager store : stores) {
            store.close();
        }
    }

    private LogManager open(Path dataDir) throws IOException {
        LogManager store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        stores.add(store);
        return store;
    }

    /**
     * A compacted log whose even offsets hold one key, overwritten each time, and whose odd offsets hold unique keys:
     * compaction leaves the odd offsets, a gap before each. Returns the data directory as a crash would leave it,
     * without its checkpoints file, so that the next start verifies every segment (the compaction wrote a recovery
     * point above the compacted segments).
     */
    private Path compactedCrashCopy(List<Entry> survivors) throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.CLEANUP_POLICY, "compact", LogConfig.SEGMENT_BYTES, "2048"));
        PartitionLog log = Stores.log(store, "t", 0);
        for (int i = 0; i < 60; i++) {
            Compacted.append(log, T + i, i % 2 == 0 ? "dup" : "u" + i, "v" + i + "-" + "p".repeat(30));
        }
        assertEquals(1, store.compactLogs());
        survivors.addAll(Compacted.read(log));
        Path copy = root.resolve("crash");
        Stores.copyTree(dataDir, copy);
        Files.delete(copy.resolve("checkpoints"));
        return copy;
    }

    private static Path firstSegment(Path copy) throws IOException {
        try (var walk = Files.walk(copy.resolve("topics"))) {
            return walk.filter(f -> f.getFileName().toString().equals(Segment.fileName(0) + Segment.LOG_SUFFIX))
                    .findFirst().orElseThrow();
        }
    }

    /** Where each batch of a compacted segment file starts. */
    private static List<Integer> batchPositions(Path compacted) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(compacted));
        assertEquals(Segment.COMPACTED_FLAG, bytes.get(Segment.FLAGS_OFFSET));
        List<Integer> positions = new ArrayList<>();
        for (int p = Segment.HEADER_SIZE; p + Frame.MIN_SIZE <= bytes.limit();
             p += bytes.getInt(p + Frame.LENGTH_OFFSET) + Frame.LOG_OVERHEAD) {
            positions.add(p);
        }
        return positions;
    }

    private static void xor(Path file, long position, int mask) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) position] ^= (byte) mask;
        Files.write(file, bytes);
    }

    @Test
    void aCompactedLogRecoversWithItsGapsAfterAnUncleanStop() throws IOException {
        List<Entry> survivors = new ArrayList<>();
        Path copy = compactedCrashCopy(survivors);
        assertTrue(batchPositions(firstSegment(copy)).size() >= 3);
        assertEquals(List.of(1L, 3L, 5L), survivors.subList(0, 3).stream().map(Entry::offset).toList());

        PartitionLog log = Stores.log(open(copy), "t", 0);

        assertTrue(log.corruptRanges().isEmpty(), log.corruptRanges().toString());
        assertEquals(survivors, Compacted.read(log));
        assertEquals(60, Compacted.append(log, T, "u", "next").offset());
    }

    /**
     * Damage to the second batch (offset 3) of the first compacted segment: its base offset lowered into the gap
     * before it (3 to 2, which the offset rule alone would accept), lowered below the batch before it (3 to 1),
     * raised onto the next batch (3 to 7), or a record byte the batch checksum covers.
     */
    @ParameterizedTest(name = "byte {0} ^ {1}")
    @CsvSource({"7, 1", "7, 2", "7, 4", "70, 90"})
    void damageInACompactedSegmentFencesItWholeAndNothingIsServedAtAWrongOffset(int offsetInBatch, int mask)
            throws IOException {
        List<Entry> survivors = new ArrayList<>();
        Path copy = compactedCrashCopy(survivors);
        Path segment = firstSegment(copy);
        long size = Files.size(segment);
        int second = batchPositions(segment).get(1);
        assertEquals(3, ByteBuffer.wrap(Files.readAllBytes(segment)).getLong(second));
        xor(segment, second + offsetInBatch, mask);

        PartitionLog log = Stores.log(open(copy), "t", 0);

        List<Long> nextBases = Partitions.segmentFiles(log.dir()).stream()
                .map(f -> Long.parseLong(f.getFileName().toString().replace(Segment.LOG_SUFFIX, ""))).toList();
        long fencedEnd = nextBases.get(1);
        assertEquals(1, log.corruptRanges().size(), log.corruptRanges().toString());
        Segment.CorruptRange range = log.corruptRanges().get(0).getValue();
        assertEquals(List.of(0L, fencedEnd), List.of(range.fromOffset(), range.toOffset()),
                "the whole compacted segment is fenced");
        for (long offset = 0; offset < fencedEnd; offset++) {
            long at = offset;
            assertThrows(KafkaStorageException.class, () -> log.read(at, 1000, true), "offset " + at);
        }
        List<Entry> rest = survivors.stream().filter(e -> e.offset() >= fencedEnd).toList();
        List<Entry> read = new ArrayList<>();
        for (long offset = fencedEnd; offset < log.highWatermark(); ) {
            List<Entry> batch = new ArrayList<>();
            for (var b : Batches.batchesOf(Batches.sliceBytes(log.read(offset, 1 << 20, true)))) {
                for (var r : b) {
                    batch.add(new Entry(r.offset(), Batches.key(r), Batches.value(r), r.timestamp()));
                }
                offset = b.nextOffset();
            }
            read.addAll(batch);
        }
        assertEquals(rest, read, "the segments after the damage are served");
        assertFalse(log.isOffline());
        assertEquals(size, Files.size(segment), "nothing of a compacted segment is truncated");
        assertEquals(60, log.logEndOffset());
    }

    @Test
    void aCompactedSegmentCutShortIsFencedNotTruncated() throws IOException {
        List<Entry> survivors = new ArrayList<>();
        Path copy = compactedCrashCopy(survivors);
        Path segment = firstSegment(copy);
        int last = batchPositions(segment).get(batchPositions(segment).size() - 1);
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(last);
        }

        PartitionLog log = Stores.log(open(copy), "t", 0);

        assertEquals(1, log.corruptRanges().size());
        assertEquals(0, log.corruptRanges().get(0).getValue().fromOffset());
        assertEquals(last, Files.size(segment));
        assertThrows(KafkaStorageException.class, () -> log.read(0, 1000, true));
    }

    @Test
    void aFencedCompactedSegmentIsNotCompactedAgain() throws IOException {
        List<Entry> survivors = new ArrayList<>();
        Path copy = compactedCrashCopy(survivors);
        Path segment = firstSegment(copy);
        xor(segment, batchPositions(segment).get(1) + 7, 1);
        LogManager store = open(copy);
        PartitionLog log = Stores.log(store, "t", 0);
        for (int i = 0; i < 30; i++) {
            Compacted.append(log, T, "dup", "more " + i);
        }
        byte[] fenced = Files.readAllBytes(segment);

        assertEquals(0, store.compactLogs(), "a partition with a corrupt stretch waits for DeleteRecords");

        assertEquals(1, log.corruptRanges().size());
        assertEquals(ByteBuffer.wrap(fenced), ByteBuffer.wrap(Files.readAllBytes(segment)));
    }
}
