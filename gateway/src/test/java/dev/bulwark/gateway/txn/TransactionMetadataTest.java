package dev.bulwark.gateway.txn;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transitions Kafka allows between transaction states, and the epoch rules of InitProducerId and fencing. */
class TransactionMetadataTest {

    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);

    private static TransactionMetadata initialized() {
        return TransactionMetadata.fresh(7, 60_000, 1).bumpEpoch(60_000, Optional.empty(), 2);
    }

    @Test
    void theFirstInitProducerIdGivesEpochZero() {
        TransactionMetadata m = initialized();

        assertEquals(7, m.producerId());
        assertEquals(0, m.producerEpoch());
        assertEquals(TransactionMetadata.NO_PRODUCER_EPOCH, m.lastProducerEpoch());
        assertEquals(TransactionState.EMPTY, m.state());
    }

    @Test
    void aTransactionRunsFromOngoingThroughPrepareToComplete() {
        TransactionMetadata ongoing = initialized().addPartitions(Set.of(ORDERS_0), 10);
        TransactionMetadata more = ongoing.addPartitions(Set.of(ORDERS_1), 20).addGroup("g", 25);

        assertEquals(TransactionState.ONGOING, more.state());
        assertEquals(10, more.startTimestamp(), "the time-out counts from the first partition");
        assertEquals(Set.of(ORDERS_0, ORDERS_1), more.partitions());
        assertEquals(Set.of("g"), more.groups());

        TransactionMetadata committed = more.prepareEnd(true, 30).complete(40);
        assertEquals(TransactionState.COMPLETE_COMMIT, committed.state());
        assertEquals(Set.of(), committed.partitions());
        assertEquals(Set.of(), committed.groups());

        TransactionMetadata next = committed.addPartitions(Set.of(ORDERS_1), 50);
        assertEquals(50, next.startTimestamp(), "a new transaction starts its own clock");
        assertEquals(TransactionState.COMPLETE_ABORT, next.prepareEnd(false, 60).complete(70).state());
    }

    @Test
    void illegalTransitionsAreRefused() {
        TransactionMetadata empty = initialized();
        assertThrows(IllegalStateException.class, () -> empty.prepareEnd(true, 3));
        assertThrows(IllegalStateException.class, () -> empty.complete(3));
        assertThrows(IllegalStateException.class, () -> empty.fenceEpoch(3));

        TransactionMetadata preparing = empty.addPartitions(Set.of(ORDERS_0), 3).prepareEnd(true, 4);
        assertThrows(IllegalStateException.class, () -> preparing.addPartitions(Set.of(ORDERS_1), 5));
        assertThrows(IllegalStateException.class, () -> preparing.bumpEpoch(1000, Optional.empty(), 5));
        assertThrows(IllegalStateException.class, () -> preparing.prepareEnd(false, 5));
    }

    @Test
    void theStateTableIsKafkas() {
        assertEquals(Set.of(TransactionState.ONGOING, TransactionState.PREPARE_EPOCH_FENCE),
                TransactionState.PREPARE_ABORT.validPreviousStates());
        assertEquals(Set.of(TransactionState.ONGOING), TransactionState.PREPARE_COMMIT.validPreviousStates());
        assertEquals(Set.of(TransactionState.EMPTY, TransactionState.COMPLETE_COMMIT, TransactionState.COMPLETE_ABORT),
                TransactionState.DEAD.validPreviousStates());
        for (TransactionState state : TransactionState.values()) {
            assertEquals(state, TransactionState.fromId(state.id()));
        }
    }

    @Test
    void fencingBumpsTheEpochAndTheAbortKeepsIt() {
        TransactionMetadata ongoing = initialized().addPartitions(Set.of(ORDERS_0), 3);

        TransactionMetadata fenced = ongoing.fenceEpoch(4);
        assertEquals(TransactionState.PREPARE_EPOCH_FENCE, fenced.state());
        assertEquals(1, fenced.producerEpoch());
        TransactionMetadata aborting = fenced.prepareEnd(false, 5);
        assertEquals(1, aborting.producerEpoch());
        assertEquals(Set.of(ORDERS_0), aborting.partitions());
        assertThrows(IllegalStateException.class, () -> fenced.prepareEnd(true, 5), "a fence only aborts");
    }

    @Test
    void anExpectedEpochBumpsOnlyFromTheCurrentEpoch() {
        TransactionMetadata m = initialized().bumpEpoch(60_000, Optional.empty(), 3);
        assertEquals(1, m.producerEpoch());

        TransactionMetadata bumped = m.bumpEpoch(60_000, Optional.of((short) 1), 4);
        assertEquals(2, bumped.producerEpoch());
        assertEquals(1, bumped.lastProducerEpoch());

        TransactionMetadata retried = bumped.bumpEpoch(60_000, Optional.of((short) 1), 5);
        assertEquals(2, retried.producerEpoch(), "a retry of a bump whose answer was lost gets the same epoch");

        assertThrows(ProducerFencedException.class, () -> bumped.bumpEpoch(60_000, Optional.of((short) 0), 6));
    }

    @Test
    void anExhaustedEpochRotatesTheProducerId() {
        TransactionMetadata old = new TransactionMetadata(7, -1, (short) (Short.MAX_VALUE - 1), (short) -1, 1000,
                TransactionState.COMPLETE_COMMIT, Set.of(), Set.of(), 1, 2);
        assertTrue(old.isEpochExhausted());

        TransactionMetadata rotated = old.rotateProducerId(8, 1000, true, 3);

        assertEquals(8, rotated.producerId());
        assertEquals(7, rotated.lastProducerId());
        assertEquals(0, rotated.producerEpoch());
        assertEquals(Short.MAX_VALUE - 1, rotated.lastProducerEpoch());
        assertTrue(rotated.acceptsExpected(new ProducerIdAndEpoch(7, (short) (Short.MAX_VALUE - 1))),
                "the retry of the rotation names the old producer id");
        assertFalse(rotated.acceptsExpected(new ProducerIdAndEpoch(7, (short) 5)));
        assertFalse(rotated.acceptsExpected(new ProducerIdAndEpoch(99, (short) 0)));
    }

    @Test
    void aFenceAtTheLargestEpochKeepsIt() {
        TransactionMetadata ongoing = new TransactionMetadata(7, -1, Short.MAX_VALUE, (short) -1, 1000,
                TransactionState.ONGOING, Set.of(ORDERS_0), Set.of(), 1, 2);

        assertEquals(Short.MAX_VALUE, ongoing.fenceEpoch(3).producerEpoch());
    }

    @Test
    void onlyAnOngoingTransactionTimesOut() {
        TransactionMetadata ongoing = initialized().addPartitions(Set.of(ORDERS_0), 100);

        assertFalse(ongoing.hasTimedOut(100 + 60_000));
        assertTrue(ongoing.hasTimedOut(100 + 60_001));
        assertFalse(initialized().hasTimedOut(Long.MAX_VALUE));
    }

    @Test
    void statesGoByKafkasNamesMatchedExactly() {
        assertEquals("PrepareEpochFence", TransactionState.PREPARE_EPOCH_FENCE.kafkaName());
        for (TransactionState state : TransactionState.values()) {
            assertEquals(Optional.of(state), TransactionState.fromKafkaName(state.kafkaName()));
        }
        assertEquals(Optional.empty(), TransactionState.fromKafkaName("ongoing"));
        assertEquals(Optional.empty(), TransactionState.fromKafkaName("ONGOING"));
    }
}
