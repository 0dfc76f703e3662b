package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compaction of transactional data: aborted records go, markers stay while they close records, then expire. */
class TransactionCompactionTest {

    private static final long T = MutableClock.START_MS;
    private static final short EPOCH = 0;
    private static final long COMMITTER = 1L;
    private static final long ABORTER = 2L;

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock();
    private LogManager store;
    private int fillCount;

    @AfterEach
    void close() throws IOException {
        if (store != null) {
            store.close();
        }
    }

    private PartitionLog topic() throws IOException {
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.CLEANUP_POLICY, "compact",
                LogConfig.SEGMENT_BYTES, "1024", LogConfig.DELETE_RETENTION_MS, "60000",
                LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01"));
        return Stores.log(store, "t", 0);
    }

    private static long transactional(PartitionLog log, long producerId, int sequence, String... keysAndValues) {
        return Stores.appendAcked(log, Batches.transactional(producerId, EPOCH, sequence, T, keysAndValues))
                .firstOffset();
    }

    private static long end(PartitionLog log, long producerId, ControlRecordType type) {
        long offset = log.appendControl(producerId, EPOCH, type, 0, T).firstOffset();
        try {
            log.awaitHighWatermark(offset).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("marker at " + offset + " was not acknowledged", e);
        }
        return offset;
    }

    /** Non-transactional records of keys other than the tests' own, enough to fill a few segments. */
    private void fill(PartitionLog log, int count) {
        for (int i = 0; i < count; i++) {
            Compacted.append(log, T, "filler" + fillCount % 4, "f" + fillCount + "-" + "p".repeat(60));
            fillCount++;
        }
    }

    /** The latest value of each key among the data records a consumer reads, in offset order. */
    private static Map<String, String> latestValues(PartitionLog log) {
        Map<String, String> latest = new LinkedHashMap<>();
        for (Record record : Batches.dataRecords(Batches.readAll(log))) {
            latest.put(Batches.key(record), Batches.value(record));
        }
        return latest;
    }

    private static List<MutableRecordBatch> markers(PartitionLog log) {
        return Batches.readAll(log).stream().filter(MutableRecordBatch::isControlBatch).toList();
    }

    @Test
    void abortedRecordsGoAndNeverHideCommittedRecordsOfTheirKey() throws IOException {
        PartitionLog log = topic();
        transactional(log, COMMITTER, 0, "k0", "committed");
        end(log, COMMITTER, ControlRecordType.COMMIT);
        long abortedFirst = transactional(log, ABORTER, 0, "k0", "aborted", "k1", "aborted");
        long abortMarker = end(log, ABORTER, ControlRecordType.ABORT);
        fill(log, 20);

        assertEquals(1, store.compactLogs());

        Map<String, String> latest = latestValues(log);
        assertEquals("committed", latest.get("k0"), "the aborted k0 did not shadow the committed one");
        assertFalse(latest.containsKey("k1"), "the aborted transaction's records are gone");
        assertFalse(latest.containsValue("aborted"));
        assertEquals(2, markers(log).size(), "both markers still close records they met in this compaction");
        assertEquals(List.of(new AbortedTransaction(ABORTER, abortedFirst, abortMarker, abortMarker + 1)),
                log.collectAbortedTransactions(0, log.logEndOffset()));
    }

    @Test
    void anAbortMarkerGoesDeleteRetentionAfterItsTransactionsBatchesAreGone() throws IOException {
        PartitionLog log = topic();
        transactional(log, ABORTER, 0, "k1", "aborted");
        long abortMarker = end(log, ABORTER, ControlRecordType.ABORT);
        fill(log, 20);
        assertEquals(1, store.compactLogs());
        assertEquals(1, markers(log).size());

        // The producer's newest batch stays, emptied, while the producer is known (its state is rebuilt from it), and
        // the marker with it: a restart that replays the batch must find the marker that ends its transaction.
        fill(log, 20);
        assertEquals(1, store.compactLogs());
        assertEquals(1, markers(log).size());
        assertEquals(OptionalLong.empty(), markers(log).get(0).deleteHorizonMs());

        clock.advance(Duration.ofHours(2));
        assertEquals(1, log.expireProducers(Duration.ofHours(1).toMillis()));
        fill(log, 20);
        assertEquals(1, store.compactLogs(), "the emptied batch goes; the marker still met it");
        fill(log, 20);
        assertEquals(1, store.compactLogs());

        MutableRecordBatch marker = markers(log).get(0);
        assertEquals(abortMarker, marker.baseOffset());
        assertEquals(OptionalLong.of(clock.millis() + 60_000), marker.deleteHorizonMs(),
                "the marker closes nothing any more: it is stamped with its delete horizon");

        clock.advance(Duration.ofMillis(60_001));
        assertEquals(1, store.compactLogs(), "the horizon makes the log due");

        assertTrue(markers(log).isEmpty());
        assertEquals(List.of(), log.collectAbortedTransactions(0, log.logEndOffset()));
    }

    @Test
    void anUndecidedTransactionHoldsCompactionBackUntilItsMarker() throws IOException {
        PartitionLog log = topic();
        transactional(log, ABORTER, 0, "k1", "undecided");
        fill(log, 30);
        Map<String, String> before = new HashMap<>(latestValues(log));
        long records = Batches.dataRecords(Batches.readAll(log)).size();

        assertEquals(0, store.compactLogs(), "every segment lies at or after the last stable offset");
        assertEquals(records, Batches.dataRecords(Batches.readAll(log)).size());

        end(log, ABORTER, ControlRecordType.ABORT);
        fill(log, 10);
        assertEquals(1, store.compactLogs());

        before.remove("k1");
        Map<String, String> after = latestValues(log);
        assertFalse(after.containsKey("k1"));
        assertTrue(Batches.dataRecords(Batches.readAll(log)).size() < records);
        assertEquals(before.keySet(), after.keySet());
    }

    @Test
    void aCrashAtAnyStepOfTheSwapKeepsTheAbortedTransactionsListed() throws IOException {
        PartitionLog log = topic();
        transactional(log, ABORTER, 0, "k1", "aborted");
        end(log, ABORTER, ControlRecordType.ABORT);
        fill(log, 20);
        List<AbortedTransaction> aborted = log.collectAbortedTransactions(0, log.logEndOffset());
        List<Path> crashes = new ArrayList<>();
        SegmentSwap.StepListener crashHere = step -> {
            Path copy = dataDir.resolveSibling(dataDir.getFileName() + "-crash-" + crashes.size());
            Stores.copyTree(dataDir, copy);
            crashes.add(copy);
        };

        assertTrue(store.cleaner().clean(log, crashHere));

        assertTrue(crashes.size() > 3, crashes.size() + " crash points");
        for (Path copy : crashes) {
            LogManager reopened = Stores.open(copy, clock, FlushPolicy.DURABLE);
            try {
                PartitionLog recovered = Stores.log(reopened, "t", 0);
                assertEquals(aborted, recovered.collectAbortedTransactions(0, recovered.logEndOffset()),
                        copy.toString());
                try (Stream<Path> files = Files.list(recovered.dir())) {
                    assertEquals(List.of(), files.map(f -> f.getFileName().toString())
                            .filter(n -> n.endsWith(Segment.CLEANED_SUFFIX)).toList(), copy.toString());
                }
            } finally {
                reopened.close();
            }
        }
    }

    @Test
    void compactedTransactionIndexesSurviveARestart() throws IOException {
        PartitionLog log = topic();
        long abortedFirst = transactional(log, ABORTER, 0, "k1", "aborted");
        long abortMarker = end(log, ABORTER, ControlRecordType.ABORT);
        fill(log, 20);
        assertEquals(1, store.compactLogs());
        List<AbortedTransaction> aborted = log.collectAbortedTransactions(0, log.logEndOffset());
        assertEquals(List.of(new AbortedTransaction(ABORTER, abortedFirst, abortMarker, abortMarker + 1)), aborted);
        List<Path> segments = Partitions.segmentFiles(log.dir());
        for (Path segment : segments.subList(0, segments.size() - 1)) {
            String name = segment.getFileName().toString();
            assertTrue(Files.exists(segment.resolveSibling(name.replace(Segment.LOG_SUFFIX,
                    Segment.TRANSACTION_INDEX_SUFFIX))), "a sealed segment has its transaction index: " + name);
        }

        store.close();
        store = Stores.open(dataDir, clock, FlushPolicy.DURABLE);
        PartitionLog reopened = Stores.log(store, "t", 0);

        assertEquals(aborted, reopened.collectAbortedTransactions(0, reopened.logEndOffset()));
    }
}
