package dev.bulwark.gateway.txn;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * What the coordinator knows of one transactional id, as one immutable value: every change is a new value made by one
 * of the transition methods, which refuse the transitions Kafka does not allow, so the value written to the
 * transaction log and the value served are always a legal state.
 *
 * @param producerId          the producer id the transactional id currently has
 * @param lastProducerId      the producer id it had before the last rotation (for KIP-360 retries), or -1
 * @param producerEpoch       the current epoch; -1 before the first InitProducerId completes
 * @param lastProducerEpoch   the epoch before the last bump, kept so a retried InitProducerId gets the same answer
 * @param timeoutMs           the transaction time-out the producer asked for
 * @param state               where the transaction is
 * @param partitions          the partitions in the ongoing (or ending) transaction
 * @param groups              the consumer groups whose offsets are in the transaction (AddOffsetsToTxn)
 * @param startTimestamp      when the ongoing transaction began (its time-out counts from here), or -1
 * @param lastUpdateTimestamp when this value was made
 */
public record TransactionMetadata(long producerId, long lastProducerId, short producerEpoch, short lastProducerEpoch,
                                  int timeoutMs, TransactionState state, Set<TopicPartition> partitions,
                                  Set<String> groups, long startTimestamp, long lastUpdateTimestamp) {

    public static final long NO_PRODUCER_ID = -1;
    public static final short NO_PRODUCER_EPOCH = -1;

    public TransactionMetadata {
        partitions = Set.copyOf(partitions);
        groups = Set.copyOf(groups);
    }

    /** A transactional id seen for the first time: its producer id, no epoch yet. Never written as it is. */
    public static TransactionMetadata fresh(long producerId, int timeoutMs, long now) {
        return new TransactionMetadata(producerId, NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, timeoutMs,
                TransactionState.EMPTY, Set.of(), Set.of(), -1, now);
    }

    /**
     * An epoch this high leaves no room for the bump that fences an ongoing transaction, so the next InitProducerId
     * moves to a new producer id instead (Kafka's test, one below the largest epoch).
     */
    public static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    public boolean isEpochExhausted() {
        return isEpochExhausted(producerEpoch);
    }

    /**
     * Whether a producer that names {@code expected} as its current producer id (KIP-360) may re-initialize: a fresh
     * transactional id accepts anyone (a producer migrating to it), the current id is checked further by
     * {@link #bumpEpoch}, and the previous id is accepted with an exhausted epoch, as the retry of a rotation whose
     * answer was lost.
     */
    public boolean acceptsExpected(ProducerIdAndEpoch expected) {
        return producerEpoch == NO_PRODUCER_EPOCH
                || expected.producerId() == producerId
                || (expected.producerId() == lastProducerId && isEpochExhausted(expected.epoch()));
    }

    /**
     * InitProducerId on an idle transactional id: the next epoch. With an expected epoch (KIP-360) the bump happens
     * only if it is the current one; the previous one gets the current epoch again (a retry whose answer was lost);
     * any other is fenced.
     *
     * @throws ProducerFencedException when the expected epoch is neither
     */
    public TransactionMetadata bumpEpoch(int newTimeoutMs, Optional<Short> expectedEpoch, long now) {
        short bumped = (short) (producerEpoch + 1);
        short epoch;
        short lastEpoch;
        if (expectedEpoch.isEmpty()) {
            epoch = bumped;
            lastEpoch = NO_PRODUCER_EPOCH;
        } else if (producerEpoch == NO_PRODUCER_EPOCH || expectedEpoch.get() == producerEpoch) {
            epoch = bumped;
            lastEpoch = producerEpoch;
        } else if (expectedEpoch.get() == lastProducerEpoch) {
            epoch = producerEpoch;
            lastEpoch = lastProducerEpoch;
        } else {
            throw new ProducerFencedException("Epoch " + expectedEpoch.get() + " of producer " + producerId
                    + " is neither its current epoch " + producerEpoch + " nor its previous one " + lastProducerEpoch);
        }
        return transition(TransactionState.EMPTY, producerId, lastProducerId, epoch, lastEpoch, newTimeoutMs,
                Set.of(), Set.of(), -1, now);
    }

    /** InitProducerId when the epoch is exhausted: a new producer id at epoch 0, the old one remembered. */
    public TransactionMetadata rotateProducerId(long newProducerId, int newTimeoutMs, boolean recordLastEpoch,
                                                long now) {
        return transition(TransactionState.EMPTY, newProducerId, producerId, (short) 0,
                recordLastEpoch ? producerEpoch : NO_PRODUCER_EPOCH, newTimeoutMs, Set.of(), Set.of(), -1, now);
    }

    /** AddPartitionsToTxn: the transaction begins (its time-out starts) if none was ongoing. */
    public TransactionMetadata addPartitions(Set<TopicPartition> added, long now) {
        Set<TopicPartition> all = new HashSet<>(partitions);
        all.addAll(added);
        return transition(TransactionState.ONGOING, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, all, groups, state == TransactionState.ONGOING ? startTimestamp : now, now);
    }

    /** AddOffsetsToTxn: the group's offsets commit or abort with the transaction. */
    public TransactionMetadata addGroup(String groupId, long now) {
        Set<String> all = new HashSet<>(groups);
        all.add(groupId);
        return transition(TransactionState.ONGOING, producerId, lastProducerId, producerEpoch, lastProducerEpoch,
                timeoutMs, partitions, all, state == TransactionState.ONGOING ? startTimestamp : now, now);
    }

    /**
     * Fences the producer of an ongoing transaction (a new producer with its transactional id, or a time-out): the
     * epoch is bumped so its requests fail from now on. At the largest epoch there is nothing to bump to; the abort
     * then goes out with the current epoch, and the next InitProducerId rotates the producer id.
     */
    public TransactionMetadata fenceEpoch(long now) {
        short epoch = producerEpoch == Short.MAX_VALUE ? producerEpoch : (short) (producerEpoch + 1);
        return transition(TransactionState.PREPARE_EPOCH_FENCE, producerId, lastProducerId, epoch, NO_PRODUCER_EPOCH,
                timeoutMs, partitions, groups, startTimestamp, now);
    }

    /** EndTxn (or a fence): the outcome is decided; markers go out next. */
    public TransactionMetadata prepareEnd(boolean commit, long now) {
        return transition(commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT, producerId,
                lastProducerId, producerEpoch, lastProducerEpoch, timeoutMs, partitions, groups, startTimestamp, now);
    }

    /** Every marker is written: the transaction is over and its partitions are forgotten. */
    public TransactionMetadata complete(long now) {
        TransactionState completed = switch (state) {
            case PREPARE_COMMIT -> TransactionState.COMPLETE_COMMIT;
            case PREPARE_ABORT -> TransactionState.COMPLETE_ABORT;
            default -> throw new IllegalStateException("Cannot complete a transaction in state " + state);
        };
        return transition(completed, producerId, lastProducerId, producerEpoch, lastProducerEpoch, timeoutMs,
                Set.of(), Set.of(), startTimestamp, now);
    }

    /**
     * A transactional id left alone for {@code expirationMs}, with no transaction open: it may be forgotten. Its
     * removal is written as a tombstone, so DEAD, the state Kafka passes through on the way, is never stored.
     */
    public boolean hasExpired(long now, long expirationMs) {
        return TransactionState.DEAD.validPreviousStates().contains(state) && lastUpdateTimestamp + expirationMs <= now;
    }

    /** An ongoing transaction that has outlived its time-out. */
    public boolean hasTimedOut(long now) {
        return state == TransactionState.ONGOING && startTimestamp + timeoutMs < now;
    }

    private TransactionMetadata transition(TransactionState to, long newProducerId, long newLastProducerId,
                                           short epoch, short lastEpoch, int newTimeoutMs,
                                           Set<TopicPartition> newPartitions, Set<String> newGroups, long start,
                                           long now) {
        if (!to.validPreviousStates().contains(state)) {
            throw new IllegalStateException("A transaction cannot go from " + state + " to " + to);
        }
        return new TransactionMetadata(newProducerId, newLastProducerId, epoch, lastEpoch, newTimeoutMs, to,
                newPartitions, newGroups, start, Math.max(now, lastUpdateTimestamp));
    }
}
