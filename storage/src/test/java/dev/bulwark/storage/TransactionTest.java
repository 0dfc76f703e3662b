package dev.bulwark.storage;

import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Transactional produce on one partition: the last stable offset, markers, aborted transactions, fencing. */
class TransactionTest {

    private static final long T = MutableClock.START_MS;
    private static final long A = 100L;
    private static final long B = 200L;
    private static final long C = 300L;
    private static final short EPOCH = 1;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private PartitionLog log;

    @AfterEach
    void close() throws IOException {
        if (log != null) {
            log.close();
        }
    }

    private PartitionLog open(FlushPolicy policy, Map<String, String> configs) throws Exception {
        log = Partitions.create(dir, Partitions.config(configs), clock, policy, Partitions.manualFlushes());
        return log;
    }

    private PartitionLog open() throws Exception {
        return open(FlushPolicy.PAGE_CACHE, Map.of());
    }

    /** Appends a transactional batch of key-less records. */
    private AppendResult write(long producerId, short epoch, int sequence, String... values) {
        String[] pairs = new String[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            pairs[2 * i + 1] = values[i];
        }
        return log.append(Batches.transactional(producerId, epoch, sequence, T, pairs));
    }

    private AppendResult write(long producerId, int sequence, String... values) {
        return write(producerId, EPOCH, sequence, values);
    }

    private long plain(String value) {
        return log.append(Batches.plain(T, value)).firstOffset();
    }

    private long commit(long producerId) {
        return log.appendControl(producerId, EPOCH, ControlRecordType.COMMIT, 0, T).firstOffset();
    }

    private long abort(long producerId) {
        return log.appendControl(producerId, EPOCH, ControlRecordType.ABORT, 0, T).firstOffset();
    }

    private static List<MutableRecordBatch> batches(PartitionLog.LogRead read) {
        return Batches.batchesOf(Batches.sliceBytes(read));
    }

    @Test
    void theLastStableOffsetStaysAtTheOldestOpenTransactionUntilItEnds() throws Exception {
        open();
        assertEquals(0, plain("p0"));
        assertEquals(1, log.lastStableOffset());

        assertEquals(1, write(A, 0, "a1", "a2").firstOffset());
        assertEquals(1, log.lastStableOffset());
        assertEquals(3, plain("p3"));
        assertEquals(4, write(B, 0, "b4").firstOffset());
        assertEquals(5, write(A, 2, "a5").firstOffset());
        assertEquals(1, log.lastStableOffset(), "A is still open");
        assertEquals(6, log.highWatermark());

        assertEquals(6, commit(A));
        assertEquals(4, log.lastStableOffset(), "B is the oldest open transaction now");
        assertEquals(7, write(B, 1, "b7").firstOffset());
        assertEquals(8, abort(B));

        assertEquals(9, log.lastStableOffset());
        assertEquals(log.highWatermark(), log.lastStableOffset());
    }

    @Test
    void aYoungerTransactionEndingFirstDoesNotMoveTheLastStableOffset() throws Exception {
        open();
        write(A, 0, "a0");
        write(B, 0, "b1");
        write(C, 0, "c2");

        commit(B);
        assertEquals(0, log.lastStableOffset());
        abort(A);
        assertEquals(2, log.lastStableOffset(), "C, begun at 2, is still open");
        commit(C);
        assertEquals(6, log.lastStableOffset());
    }

    @Test
    void readCommittedStopsAtTheLastStableOffset() throws Exception {
        open();
        plain("p0");
        write(A, 0, "a1", "a2");
        plain("p3");

        PartitionLog.LogRead committed = log.read(0, Integer.MAX_VALUE, true, IsolationLevel.READ_COMMITTED);
        assertEquals(List.of(0L), batches(committed).stream().map(MutableRecordBatch::baseOffset).toList());
        assertEquals(1, committed.lastStableOffset());
        assertEquals(4, committed.highWatermark());
        assertTrue(log.read(1, Integer.MAX_VALUE, true, IsolationLevel.READ_COMMITTED).slice().isEmpty());
        assertEquals(3, batches(log.read(0, Integer.MAX_VALUE, true, IsolationLevel.READ_UNCOMMITTED)).size());
        assertEquals(1, log.read(0, Integer.MAX_VALUE, true).lastStableOffset(), "every read reports it");

        commit(A);

        List<MutableRecordBatch> all = batches(log.read(1, Integer.MAX_VALUE, true, IsolationLevel.READ_COMMITTED));
        assertEquals(List.of(1L, 3L, 4L), all.stream().map(MutableRecordBatch::baseOffset).toList());
        assertTrue(all.get(2).isControlBatch());
        assertTrue(all.get(0).isTransactional());
    }

    @Test
    void theMarkerIsAnEndTransactionControlBatchOfTheProducer() throws Exception {
        open();
        write(A, 0, "a0");
        log.appendControl(A, EPOCH, ControlRecordType.ABORT, 7, T + 5);

        MutableRecordBatch marker = batches(log.read(1, Integer.MAX_VALUE, true)).get(0);
        assertTrue(marker.isControlBatch());
        assertTrue(marker.isTransactional());
        assertEquals(A, marker.producerId());
        assertEquals(EPOCH, marker.producerEpoch());
        assertEquals(T + 5, marker.maxTimestamp());
        EndTransactionMarker decoded = EndTransactionMarker.deserialize(marker.iterator().next());
        assertEquals(ControlRecordType.ABORT, decoded.controlType());
        assertEquals(7, decoded.coordinatorEpoch());
    }

    @Test
    void abortedTransactionsAreFoundAcrossSegments() throws Exception {
        open(FlushPolicy.PAGE_CACHE, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        String big = "x".repeat(300);
        long aFirst = write(A, 0, big).firstOffset();
        long bFirst = write(B, 0, big).firstOffset();
        plain(big);
        plain(big);
        write(A, 1, big);
        long aAbort = abort(A);
        long bCommit = commit(B);
        plain(big);
        plain(big);
        long cFirst = write(C, 0, big).firstOffset();
        plain(big);
        long cAbort = abort(C);
        plain(big);
        assertTrue(log.segmentCount() >= 3, "the transactions span segments: " + log.segmentCount());

        AbortedTransaction abortedA = new AbortedTransaction(A, aFirst, aAbort, bFirst);
        AbortedTransaction abortedC = new AbortedTransaction(C, cFirst, cAbort, cAbort + 1);
        long end = log.logEndOffset();
        assertEquals(List.of(abortedA, abortedC), log.collectAbortedTransactions(0, end));
        assertEquals(List.of(abortedA), log.collectAbortedTransactions(0, aFirst + 1));
        assertEquals(List.of(abortedA), log.collectAbortedTransactions(aAbort, bCommit));
        assertEquals(List.of(abortedC), log.collectAbortedTransactions(aAbort + 1, end));
        assertEquals(List.of(), log.collectAbortedTransactions(bCommit, cFirst));
    }

    @Test
    void aMarkerForAProducerWithoutATransactionHereIsWrittenAndListsNothing() throws Exception {
        open();
        plain("p0");

        AppendResult marker = log.appendControl(A, EPOCH, ControlRecordType.ABORT, 0, T);

        assertEquals(1, marker.firstOffset());
        assertEquals(2, log.logEndOffset());
        assertEquals(2, log.lastStableOffset());
        assertEquals(List.of(), log.collectAbortedTransactions(0, 2));
    }

    @Test
    void markersFromAnOlderProducerEpochOrCoordinatorAreFenced() throws Exception {
        open();
        write(A, (short) 2, 0, "a0");
        long end = log.logEndOffset();

        assertThrows(InvalidProducerEpochException.class,
                () -> log.appendControl(A, (short) 1, ControlRecordType.COMMIT, 0, T));
        assertEquals(end, log.logEndOffset(), "nothing was written");
        assertEquals(0, log.lastStableOffset(), "the transaction is still open");

        log.appendControl(A, (short) 2, ControlRecordType.COMMIT, 5, T);
        write(A, (short) 2, 1, "a2");
        assertThrows(TransactionCoordinatorFencedException.class,
                () -> log.appendControl(A, (short) 2, ControlRecordType.ABORT, 4, T));
        assertEquals(2, log.lastStableOffset());
    }

    @Test
    void dataFromAnOlderEpochIsRefused() throws Exception {
        open();
        write(A, (short) 3, 0, "a0");

        assertThrows(InvalidProducerEpochException.class, () -> write(A, (short) 2, 1, "old"));
        assertEquals(1, log.logEndOffset());
    }

    @Test
    void aNewEpochStartsSequencesAgainWhetherTheProducerOrAMarkerBumpedIt() throws Exception {
        open();
        write(A, 0, "a0");
        write(A, 1, "a1");
        // The coordinator aborted with a bumped epoch (a timed-out transaction, or InitProducerId fencing it).
        log.appendControl(A, (short) (EPOCH + 1), ControlRecordType.ABORT, 0, T);

        assertThrows(OutOfOrderSequenceException.class, () -> write(A, (short) (EPOCH + 1), 2, "continues"));
        write(A, (short) (EPOCH + 1), 0, "restarts");
        assertThrows(OutOfOrderSequenceException.class, () -> write(A, (short) (EPOCH + 2), 1, "gap"));
        write(A, (short) (EPOCH + 2), 0, "restarts again");
        assertEquals(5, log.logEndOffset());
    }

    @Test
    void sequencesContinueAcrossTransactionsOfOneEpoch() throws Exception {
        open();
        write(A, 0, "a0", "a1");
        commit(A);

        AppendResult next = write(A, 2, "a3");

        assertEquals(3, next.firstOffset());
        assertEquals(3, log.lastStableOffset(), "the batch began a new transaction");
        assertThrows(OutOfOrderSequenceException.class, () -> write(A, 5, "gap"));
    }

    @Test
    void aRetriedTransactionalBatchIsAnsweredWithItsOriginalOffsets() throws Exception {
        open();
        plain("p0");
        AppendResult original = write(A, 0, "a1", "a2");

        AppendResult retry = write(A, 0, "a1", "a2");

        assertTrue(retry.duplicate());
        assertFalse(original.duplicate());
        assertEquals(List.of(1L, 2L), List.of(retry.firstOffset(), retry.lastOffset()));
        assertEquals(3, log.logEndOffset());
        assertEquals(1, log.lastStableOffset());
    }

    @Test
    void aProducerInATransactionMayNotWriteOutsideIt() throws Exception {
        open();
        write(A, 0, "a0");

        assertThrows(InvalidTxnStateException.class,
                () -> log.append(Batches.idempotent(A, EPOCH, 1, T, "outside")));
        assertEquals(1, log.logEndOffset());
    }

    @Test
    void underDurableFlushesATransactionIsDecidedOnlyOnceItsMarkerIsFsynced() throws Exception {
        open(FlushPolicy.DURABLE, Map.of());
        write(A, 0, "a0");
        assertEquals(0, log.lastStableOffset());
        log.flush();
        assertEquals(0, log.lastStableOffset());

        commit(A);
        assertEquals(1, log.highWatermark());
        assertEquals(0, log.lastStableOffset(), "a crash now could lose the marker: the transaction stays unstable");
        assertTrue(log.read(0, Integer.MAX_VALUE, true, IsolationLevel.READ_COMMITTED).slice().isEmpty());

        log.flush();
        assertEquals(2, log.lastStableOffset());
        assertEquals(2, batches(log.read(0, Integer.MAX_VALUE, true, IsolationLevel.READ_COMMITTED)).size(),
                "the transaction's batch and its marker");
    }

    @Test
    void aProducerWithAnOpenTransactionDoesNotExpire() throws Exception {
        open();
        write(A, 0, "a0");
        clock.advance(Duration.ofHours(2));

        assertEquals(0, log.expireProducers(Duration.ofHours(1).toMillis()));
        assertEquals(0, log.lastStableOffset());

        log.appendControl(A, EPOCH, ControlRecordType.COMMIT, 0, clock.millis());
        clock.advance(Duration.ofHours(2));
        assertEquals(1, log.expireProducers(Duration.ofHours(1).toMillis()));
    }

    @Test
    void onlyCommitAndAbortAreEndTransactionMarkers() throws Exception {
        open();
        assertThrows(IllegalArgumentException.class,
                () -> log.appendControl(A, EPOCH, ControlRecordType.LEADER_CHANGE, 0, T));
        assertEquals(0, log.logEndOffset());
    }

    @Test
    void anUnknownProducersTransactionalBatchIsAcceptedAtAnySequence() throws Exception {
        open();
        MemoryRecords batch = Batches.transactional(A, EPOCH, 7, T, null, "late");

        AppendResult result = log.append(batch);

        assertEquals(0, result.firstOffset(), "an unknown producer (expired state) is accepted at any sequence");
        assertEquals(0, log.lastStableOffset());
    }
}
