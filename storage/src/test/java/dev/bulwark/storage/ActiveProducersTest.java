package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The read-only view of a partition's producer state that DescribeProducers serves. */
class ActiveProducersTest {

    private static final long T = MutableClock.START_MS;
    private static final long IDEMPOTENT = 100L;
    private static final long TRANSACTIONAL = 200L;
    private static final short EPOCH = 3;
    private static final int COORDINATOR_EPOCH = 7;

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

    private PartitionLog open() throws Exception {
        log = Partitions.create(dir, Partitions.config(Map.of()), clock, FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
        return log;
    }

    private List<ActiveProducer> active() {
        return log.activeProducers().stream().sorted(Comparator.comparingLong(ActiveProducer::producerId)).toList();
    }

    @Test
    void anEmptyPartitionHasNoProducers() throws Exception {
        open();
        log.append(Batches.plain(T, "no producer id"));

        assertEquals(List.of(), log.activeProducers());
    }

    @Test
    void eachProducerShowsItsEpochLastSequenceAndOngoingTransaction() throws Exception {
        open();
        log.append(Batches.idempotent(IDEMPOTENT, EPOCH, 0, T - 5, "i0", "i1"));
        log.append(Batches.plain(T, "p2"));
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 0, T - 3, null, "t3"));
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 1, T - 2, null, "t4", null, "t5"));

        assertEquals(List.of(
                new ActiveProducer(IDEMPOTENT, EPOCH, 1, T - 5, -1, -1),
                new ActiveProducer(TRANSACTIONAL, EPOCH, 2, T - 2, -1, 3)), active());
    }

    @Test
    void aMarkerEndsTheTransactionAndRecordsTheCoordinatorEpoch() throws Exception {
        open();
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 0, T - 3, null, "t0"));
        log.appendControl(TRANSACTIONAL, EPOCH, ControlRecordType.COMMIT, COORDINATOR_EPOCH, T);

        assertEquals(List.of(new ActiveProducer(TRANSACTIONAL, EPOCH, 0, T, COORDINATOR_EPOCH, -1)), active());
    }

    @Test
    void aFencingAbortWithANewerEpochStartsTheSequencesAgain() throws Exception {
        open();
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 0, T - 3, null, "t0"));
        log.appendControl(TRANSACTIONAL, (short) (EPOCH + 1), ControlRecordType.ABORT, COORDINATOR_EPOCH, T);

        assertEquals(List.of(new ActiveProducer(TRANSACTIONAL, (short) (EPOCH + 1), -1, T, COORDINATOR_EPOCH, -1)),
                active());
    }

    @Test
    void theStateIsRebuiltAfterARestart() throws Exception {
        open();
        log.append(Batches.idempotent(IDEMPOTENT, EPOCH, 0, T - 5, "i0"));
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 0, T - 3, null, "t1"));
        List<ActiveProducer> before = active();
        log.close();

        open();
        assertEquals(before, active());
    }

    @Test
    void anExpiredProducerIsNoLongerListedButAnOpenTransactionStays() throws Exception {
        open();
        log.append(Batches.idempotent(IDEMPOTENT, EPOCH, 0, T - 10_000, "i0"));
        log.append(Batches.transactional(TRANSACTIONAL, EPOCH, 0, T - 10_000, null, "t1"));

        assertEquals(1, log.expireProducers(10_000));
        assertEquals(List.of(new ActiveProducer(TRANSACTIONAL, EPOCH, 0, T - 10_000, -1, 1)), active());
    }
}
