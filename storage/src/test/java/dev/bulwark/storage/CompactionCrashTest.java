package dev.bulwark.storage;

import dev.bulwark.storage.Compacted.Entry;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A crash at every step of a compaction's segment swaps: the directory is copied as the crash would leave it (every
 * step is fsynced before the next), reopened, and must hold, for each swapped run of offsets, either all the old
 * segments or the compacted one, never a mix and never a loss.
 */
class CompactionCrashTest {

    private static final long T = MutableClock.START_MS;
    private static final Map<String, String> CONFIGS = Map.of(LogConfig.CLEANUP_POLICY, "compact",
            LogConfig.SEGMENT_BYTES, "1024", LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01");

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

    /** Appends {@code count} records over keys k0..k2, every seventh a tombstone. */
    private static List<Entry> fill(PartitionLog log, int from, int count) {
        List<Entry> appended = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            String value = i % 7 == 6 ? null : "v" + i + "-" + "p".repeat(40);
            appended.add(Compacted.append(log, T, "k" + i % 3, value));
        }
        return appended;
    }

    @Test
    void aCrashAtAnyStepOfAnySwapLeavesTheOldSegmentsOrTheCompactedOne() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, CONFIGS);
        PartitionLog log = Stores.log(store, "t", 0);
        List<Entry> appended = new ArrayList<>(fill(log, 0, 60));
        int checked = 0;
        // The first pass swaps single segments; the second merges the small ones it left into one.
        for (int pass = 1; pass <= 2; pass++) {
            List<Entry> before = Compacted.read(log);
            List<Path> crashes = new ArrayList<>();
            List<String> steps = new ArrayList<>();
            int passNumber = pass;
            SegmentSwap.StepListener crashHere = step -> {
                Path copy = root.resolve("crash-" + passNumber + "-" + crashes.size());
                Stores.copyTree(dataDir, copy);
                crashes.add(copy);
                steps.add(step);
            };

            assertTrue(store.cleaner().clean(log, crashHere));

            List<Entry> after = Compacted.read(log);
            assertEquals(Compacted.compacted(appended, log.firstDirtyOffset(), e -> true), after);
            TreeSet<Long> runStarts = segmentBases(log.dir());
            assertTrue(steps.contains("committed") && steps.contains("index in place")
                    && steps.contains("segment in place") && steps.contains("manifest removed")
                    && steps.stream().anyMatch(s -> s.startsWith("retired ")), steps.toString());
            for (int i = 0; i < crashes.size(); i++) {
                String context = "pass " + pass + ", crash after step " + i + " (" + steps.get(i) + ")";
                checkCrashCopy(crashes.get(i), before, after, runStarts, context);
                checked++;
            }
            appended.addAll(fill(log, 60, 60));
        }
        assertTrue(checked > 20, checked + " crash points");
    }

    /** Reopens a crash copy: each run of offsets a swap covers is wholly old or wholly new. */
    private void checkCrashCopy(Path copy, List<Entry> before, List<Entry> after, TreeSet<Long> runStarts,
                                String context) throws IOException {
        LogManager reopened = open(copy);
        PartitionLog log = Stores.log(reopened, "t", 0);
        assertFalse(log.isOffline(), context);
        assertTrue(log.corruptRanges().isEmpty(), context + ": " + log.corruptRanges());
        List<Entry> read = Compacted.read(log);
        for (long start : runStarts) {
            Long next = runStarts.higher(start);
            long end = next == null ? Long.MAX_VALUE : next;
            List<Entry> got = within(read, start, end);
            assertTrue(got.equals(within(before, start, end)) || got.equals(within(after, start, end)),
                    context + ": offsets [" + start + ", " + end + ") hold " + got);
        }
        try (Stream<Path> files = Files.list(log.dir())) {
            List<String> leftovers = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(Segment.CLEANED_SUFFIX) || n.endsWith(SegmentSwap.MANIFEST_SUFFIX)
                            || n.endsWith(Segment.DELETED_SUFFIX) || n.endsWith(".tmp"))
                    .toList();
            assertEquals(List.of(), leftovers, context);
        }
        long end = log.logEndOffset();
        assertEquals(end, Compacted.append(log, T, "k9", "after the crash").offset(), context);
        // Compacting again from the crash state reaches the same log.
        reopened.compactLogs();
        List<Entry> expected = new ArrayList<>(after);
        expected.add(new Entry(end, "k9", "after the crash", T));
        assertEquals(expected, Compacted.read(log), context);
        reopened.close();
        stores.remove(reopened);
    }

    private static List<Entry> within(List<Entry> entries, long from, long to) {
        return entries.stream().filter(e -> e.offset() >= from && e.offset() < to).toList();
    }

    private static TreeSet<Long> segmentBases(Path dir) throws IOException {
        TreeSet<Long> bases = new TreeSet<>();
        for (Path file : Partitions.segmentFiles(dir)) {
            bases.add(Long.parseLong(file.getFileName().toString().replace(Segment.LOG_SUFFIX, "")));
        }
        return bases;
    }

    @Test
    void aSwapThatFailsAfterItsCommitStopsThePartitionAndTheNextStartCompletesIt() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, CONFIGS);
        PartitionLog log = Stores.log(store, "t", 0);
        List<Entry> appended = fill(log, 0, 60);
        long active = segmentBases(log.dir()).last();

        assertThrows(KafkaStorageException.class, () -> store.cleaner().clean(log, step -> {
            if (step.startsWith("retired ")) {
                throw new IOException("disk gone (simulated)");
            }
        }));

        assertTrue(log.isOffline());
        store.close();
        stores.remove(store);
        LogManager reopened = open(dataDir);
        PartitionLog recovered = Stores.log(reopened, "t", 0);
        List<Entry> read = Compacted.read(recovered);
        long firstRunEnd = segmentBases(recovered.dir()).higher(0L);
        assertEquals(within(Compacted.compacted(appended, active, e -> true), 0, firstRunEnd), within(read, 0,
                firstRunEnd), "the interrupted swap was completed");
        reopened.compactLogs();
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(recovered));
    }

    @Test
    void aSwapThatFailsBeforeItsCommitLeavesTheLogAsItWas() throws IOException {
        Path dataDir = root.resolve("data");
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, CONFIGS);
        PartitionLog log = Stores.log(store, "t", 0);
        List<Entry> appended = fill(log, 0, 60);
        long active = segmentBases(log.dir()).last();

        assertFalse(store.cleaner().clean(log, step -> {
            if (step.equals("cleaned segment written")) {
                throw new IOException("no space left (simulated)");
            }
        }));

        assertFalse(log.isOffline());
        assertEquals(appended, Compacted.read(log));
        assertEquals(0, Stores.countFiles(log.dir(), Segment.CLEANED_SUFFIX), "the compacted files are discarded");
        assertEquals(0, Stores.countFiles(log.dir(), SegmentSwap.MANIFEST_SUFFIX));
        assertEquals(0, log.firstDirtyOffset(), "the cleaner checkpoint stays");

        assertTrue(store.cleaner().clean(log, SegmentSwap.NO_LISTENER));
        assertEquals(Compacted.compacted(appended, active, e -> true), Compacted.read(log));
    }
}
