package dev.bulwark.storage;

import dev.bulwark.storage.Compacted.Entry;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random keys, values and tombstones; appends interleaved with compactions, clock moves, clean restarts and crashes.
 * After every compaction and every reopen the log holds exactly Kafka's compaction of what was appended: below the
 * point compaction reached, each key's record with the highest offset there (a tombstone until a compaction runs past
 * its delete horizon, which the first compaction that kept it set); from that point on, everything as appended.
 *
 * <p>Each run is determined by its seed, which failures print. To repeat one: {@code
 * -Dbulwark.compaction.seed=<seed> -Dbulwark.compaction.seeds=1}; for a longer search raise
 * {@code bulwark.compaction.seeds}.
 */
class CompactionPropertyTest {

    private static final long FIRST_SEED = Long.getLong("bulwark.compaction.seed", 0xC0A1_0000L);
    private static final int SEEDS = Integer.getInteger("bulwark.compaction.seeds", 25);
    private static final long PRODUCER = 9L;
    private static final Compression[] CODECS = {Compression.NONE, Compression.NONE, Compression.gzip().build(),
            Compression.lz4().build(), Compression.zstd().build(), Compression.snappy().build()};

    @TempDir
    Path root;

    static Stream<Long> seeds() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).boxed();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theLogIsAlwaysTheLatestValuePerKeyBelowTheCompactionPointAndUntouchedAfterIt(long seed) throws Exception {
        try {
            new Run(seed, root.resolve("seed-" + seed)).run();
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + " failed; repeat it with -Dbulwark.compaction.seed=" + seed
                    + " -Dbulwark.compaction.seeds=1", t);
        }
    }

    /** One seeded run and its model of the log. */
    private static final class Run {

        private final Random random;
        private final Path root;
        private final MutableClock clock = new MutableClock();
        private final Map<String, String> configs = new HashMap<>();
        private final long deleteRetentionMs;
        private final long keyMemory;
        private final int keys;
        private final List<Entry> appended = new ArrayList<>();
        /** Times of the compaction passes that ran, in order. */
        private final List<Long> passes = new ArrayList<>();
        /** For each tombstone a pass kept: the index of the first pass that compacted past it. */
        private final Map<Long, Integer> firstCoveredBy = new HashMap<>();
        private final StringBuilder history = new StringBuilder();
        private long compactedUpTo;
        private int sequence;
        private MemoryRecords lastIdempotent;
        private long lastIdempotentOffset = -1;
        private Path dataDir;
        private LogManager store;
        private PartitionLog log;
        private LogCleaner cleaner;
        private int copies;

        Run(long seed, Path root) {
            this.random = new Random(seed);
            this.root = root;
            long[] retentions = {0, 500, 5000, 60_000};
            deleteRetentionMs = retentions[random.nextInt(retentions.length)];
            long[] memories = {1, 3000, LogCleaner.DEFAULT_KEY_MEMORY};
            keyMemory = memories[random.nextInt(memories.length)];
            keys = 2 + random.nextInt(20);
            configs.put(LogConfig.CLEANUP_POLICY, "compact");
            configs.put(LogConfig.SEGMENT_BYTES, Integer.toString(1024 + random.nextInt(3072)));
            configs.put(LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(random.nextInt(2048)));
            configs.put(LogConfig.DELETE_RETENTION_MS, Long.toString(deleteRetentionMs));
            configs.put(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, String.format("%.2f", random.nextDouble() * 0.8));
            configs.put(LogConfig.MIN_COMPACTION_LAG_MS, random.nextInt(3) == 0 ? "2000" : "0");
            history.append(configs).append(", key memory ").append(keyMemory).append(", ").append(keys)
                    .append(" keys\n");
        }

        void run() throws Exception {
            dataDir = root.resolve("data");
            open();
            store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, configs);
            log = Stores.log(store, "t", 0);
            try {
                int steps = 80 + random.nextInt(120);
                for (int step = 0; step < steps; step++) {
                    int dice = random.nextInt(100);
                    if (dice < 62) {
                        append();
                    } else if (dice < 75) {
                        long by = random.nextInt(2500);
                        clock.advance(Duration.ofMillis(by));
                        history.append("clock +").append(by).append('\n');
                    } else if (dice < 92) {
                        compact();
                        check("after a compaction");
                    } else if (dice < 96) {
                        history.append("clean restart\n");
                        store.close();
                        open();
                        check("after a clean restart");
                    } else {
                        crash();
                        check("after a crash");
                    }
                }
                compact();
                check("at the end");
                checkProducerState();
            } catch (Throwable t) {
                throw new AssertionError("history:\n" + history, t);
            } finally {
                store.close();
            }
        }

        private void open() throws IOException {
            store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
            if (store.topic(TopicMetadata.DEFAULT_TENANT_ID, "t").isPresent()) {
                log = Stores.log(store, "t", 0);
            }
            cleaner = new LogCleaner(() -> List.of(log), clock, keyMemory, store::writeCheckpoints);
        }

        /** The data directory as a crash leaves it (everything appended was acknowledged, so fsynced). */
        private void crash() throws IOException {
            Path copy = root.resolve("crash-" + copies++);
            Stores.copyTree(dataDir, copy);
            history.append("crash\n");
            store.close();
            dataDir = copy;
            open();
        }

        private void append() {
            int count = 1 + random.nextInt(4);
            long timestamp = clock.millis() - random.nextInt(1500);
            SimpleRecord[] records = new SimpleRecord[count];
            String[] keysOf = new String[count];
            String[] values = new String[count];
            for (int i = 0; i < count; i++) {
                String key = "k" + random.nextInt(keys);
                keysOf[i] = key;
                values[i] = random.nextInt(8) == 0 ? null : "v" + appended.size() + i + "-" + "x".repeat(
                        random.nextInt(120));
                records[i] = new SimpleRecord(timestamp, Batches.utf8(key),
                        values[i] == null ? null : Batches.utf8(values[i]));
            }
            Compression codec = CODECS[random.nextInt(CODECS.length)];
            boolean idempotent = random.nextInt(4) == 0;
            MemoryRecords batch = idempotent
                    ? MemoryRecords.withIdempotentRecords(codec, PRODUCER, (short) 0, sequence, records)
                    : MemoryRecords.withRecords(codec, records);
            MemoryRecords sent = idempotent ? Batches.wrap(Batches.bytes(batch)) : null;
            AppendResult result = Stores.appendAcked(log, batch);
            for (int i = 0; i < count; i++) {
                appended.add(new Entry(result.firstOffset() + i, keysOf[i], values[i], timestamp));
            }
            if (idempotent) {
                sequence += count;
                lastIdempotent = sent;
                lastIdempotentOffset = result.firstOffset();
            }
            history.append("append ").append(count).append(idempotent ? " idempotent" : "").append(" at ")
                    .append(result.firstOffset()).append('\n');
        }

        private void compact() throws IOException {
            long now = clock.millis();
            boolean ran = cleaner.clean(log, SegmentSwap.NO_LISTENER);
            history.append("compaction: ").append(ran ? "up to " + log.firstDirtyOffset() : "not due").append('\n');
            if (!ran) {
                return;
            }
            passes.add(now);
            compactedUpTo = Math.max(compactedUpTo, log.firstDirtyOffset());
            for (Entry e : appended) {
                if (e.tombstone() && e.offset() < compactedUpTo) {
                    firstCoveredBy.putIfAbsent(e.offset(), passes.size() - 1);
                }
            }
        }

        /** Whether a pass after the one that first kept the tombstone ran at or after its delete horizon. */
        private boolean tombstoneRemoved(Entry tombstone) {
            Integer covered = firstCoveredBy.get(tombstone.offset());
            if (covered == null) {
                return false;
            }
            long horizon = passes.get(covered) + deleteRetentionMs;
            for (int p = covered + 1; p < passes.size(); p++) {
                if (passes.get(p) >= horizon) {
                    return true;
                }
            }
            return false;
        }

        private void check(String when) {
            assertEquals(compactedUpTo, log.firstDirtyOffset(), "the cleaner checkpoint " + when);
            assertFalse(log.isOffline(), when);
            assertTrue(log.corruptRanges().isEmpty(), when + ": " + log.corruptRanges());
            List<Entry> expected = Compacted.compacted(appended, compactedUpTo, e -> !tombstoneRemoved(e));
            assertEquals(expected, Compacted.read(log), when);
            long end = appended.isEmpty() ? 0 : appended.get(appended.size() - 1).offset() + 1;
            assertEquals(end, log.logEndOffset(), when);
        }

        /** The producer's newest batch survives compaction (maybe empty): a retry of it is still a duplicate. */
        private void checkProducerState() {
            if (lastIdempotent == null) {
                return;
            }
            AppendResult retry = log.append(Batches.wrap(Batches.bytes(lastIdempotent)));
            assertTrue(retry.duplicate(), "a retry of the producer's newest batch");
            assertEquals(lastIdempotentOffset, retry.firstOffset());
            MemoryRecords next = MemoryRecords.withIdempotentRecords(Compression.NONE, PRODUCER, (short) 0, sequence,
                    new SimpleRecord(clock.millis(), Batches.utf8("k0"), Batches.utf8("next")));
            assertFalse(log.append(next).duplicate());
        }
    }
}
