package dev.bulwark.storage;

import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transactions across restarts: after a crash (a copy of the directory taken while the store is open) and after a
 * clean stop, the last stable offset, the open transactions and the aborted ones are what they were.
 */
class TransactionRecoveryTest {

    private static final long T = MutableClock.START_MS;
    private static final short EPOCH = 0;
    private static final String BIG = "x".repeat(300);

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

    private Path crashCopy(Path dataDir) throws IOException {
        Path copy = root.resolve("crash-" + stores.size() + "-" + System.nanoTime());
        Stores.copyTree(dataDir, copy);
        return copy;
    }

    private static PartitionLog only(LogManager store) {
        return Stores.log(store, "t", 0);
    }

    /** A producer's next sequence, as a client keeps it. */
    private final Map<Long, Integer> sequences = new java.util.HashMap<>();

    private long write(PartitionLog log, long producerId, String value) {
        int sequence = sequences.merge(producerId, 1, Integer::sum) - 1;
        return Stores.appendAcked(log, Batches.transactional(producerId, EPOCH, sequence, T, null, value))
                .firstOffset();
    }

    private static long filler(PartitionLog log) {
        return Stores.appendAcked(log, Batches.plain(T, BIG)).firstOffset();
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

    /** What a restart must keep of the transactions. */
    private record State(long logEndOffset, long lastStableOffset, List<AbortedTransaction> aborted) {

        static State of(PartitionLog log) {
            return new State(log.logEndOffset(), log.lastStableOffset(),
                    log.collectAbortedTransactions(log.logStartOffset(), log.logEndOffset()));
        }
    }

    /**
     * Transactions over several 1 KiB segments: A and C aborted, B committed, D open, and E aborted in the active
     * segment, whose transaction index is only in memory until the segment is sealed.
     */
    private PartitionLog storeWithTransactions(Path dataDir) throws IOException {
        LogManager store = open(dataDir);
        store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        PartitionLog log = only(store);
        write(log, 1, BIG);
        write(log, 2, BIG);
        filler(log);
        end(log, 1, ControlRecordType.ABORT);
        filler(log);
        filler(log);
        end(log, 2, ControlRecordType.COMMIT);
        write(log, 3, BIG);
        filler(log);
        end(log, 3, ControlRecordType.ABORT);
        write(log, 4, BIG);
        filler(log);
        write(log, 5, "e");
        end(log, 5, ControlRecordType.ABORT);
        filler(log);
        assertTrue(log.segmentCount() >= 4, "segments: " + log.segmentCount());
        return log;
    }

    private void assertOpenTransactionOfProducer4Continues(PartitionLog recovered) {
        long open = recovered.lastStableOffset();
        assertThrows(InvalidTxnStateException.class,
                () -> recovered.append(Batches.idempotent(4, EPOCH, sequences.get(4L), T, "outside")));
        write(recovered, 4, "more");
        assertEquals(open, recovered.lastStableOffset());
        end(recovered, 4, ControlRecordType.COMMIT);
        assertEquals(recovered.highWatermark(), recovered.lastStableOffset());
    }

    @Test
    void afterACrashTheTransactionsAreAsTheyWere() throws IOException {
        Path dataDir = root.resolve("data");
        PartitionLog log = storeWithTransactions(dataDir);
        State before = State.of(log);
        assertEquals(3, before.aborted().size());
        assertTrue(before.lastStableOffset() < before.logEndOffset());

        PartitionLog recovered = only(open(crashCopy(dataDir)));

        assertEquals(before, State.of(recovered));
        assertOpenTransactionOfProducer4Continues(recovered);
    }

    @Test
    void afterACleanStopTheSnapshotAndIndexesCarryTheTransactions() throws IOException {
        Path dataDir = root.resolve("data");
        PartitionLog log = storeWithTransactions(dataDir);
        State before = State.of(log);
        stores.remove(0).close();

        PartitionLog reopened = only(open(dataDir));

        assertEquals(before, State.of(reopened));
        try (Stream<Path> files = Files.list(reopened.dir())) {
            assertEquals(reopened.segmentCount(),
                    files.filter(f -> f.toString().endsWith(Segment.TRANSACTION_INDEX_SUFFIX)).count());
        }
        assertOpenTransactionOfProducer4Continues(reopened);
    }

    @Test
    void aCrashAfterACleanRestartKeepsWhatTheIndexFileListsAndRebuildsTheRest() throws IOException {
        Path dataDir = root.resolve("data");
        storeWithTransactions(dataDir);
        stores.remove(0).close();
        PartitionLog reopened = only(open(dataDir));
        write(reopened, 6, "f");
        end(reopened, 6, ControlRecordType.ABORT);
        State before = State.of(reopened);
        assertEquals(4, before.aborted().size());

        PartitionLog recovered = only(open(crashCopy(dataDir)));

        assertEquals(before, State.of(recovered));
    }

    @Test
    void lostTransactionIndexesAreRebuiltFromTheLog() throws IOException {
        Path dataDir = root.resolve("data");
        PartitionLog log = storeWithTransactions(dataDir);
        State before = State.of(log);
        Path dir = log.dir();
        stores.remove(0).close();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(Segment.TRANSACTION_INDEX_SUFFIX)).toList()) {
                Files.delete(file);
            }
        }

        PartitionLog reopened = only(open(dataDir));

        assertEquals(before, State.of(reopened));
        assertOpenTransactionOfProducer4Continues(reopened);
    }
}
