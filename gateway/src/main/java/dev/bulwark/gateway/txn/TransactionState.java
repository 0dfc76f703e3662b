package dev.bulwark.gateway.txn;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The states of a transactional id, as Kafka's transaction coordinator has them, with the id each is stored under in
 * the transaction log and the states it may be reached from.
 *
 * <pre>
 *   EMPTY / COMPLETE_* --AddPartitions/AddOffsets--> ONGOING --EndTxn--> PREPARE_COMMIT --markers--> COMPLETE_COMMIT
 *                                                       |        \-----> PREPARE_ABORT  --markers--> COMPLETE_ABORT
 *                                                       \--fence (InitProducerId, time-out)--> PREPARE_EPOCH_FENCE
 *                                                                                               --> PREPARE_ABORT
 * </pre>
 */
public enum TransactionState {
    /** A producer id and epoch, no transaction. */
    EMPTY(0, "Empty"),
    /** Partitions or a group were added; records may be in flight. */
    ONGOING(1, "Ongoing"),
    /** The commit is decided; markers are being written. */
    PREPARE_COMMIT(2, "PrepareCommit"),
    /** The abort is decided; markers are being written. */
    PREPARE_ABORT(3, "PrepareAbort"),
    /** Every partition has its commit marker. */
    COMPLETE_COMMIT(4, "CompleteCommit"),
    /** Every partition has its abort marker. */
    COMPLETE_ABORT(5, "CompleteAbort"),
    /** The transactional id expired and is being removed. */
    DEAD(6, "Dead"),
    /**
     * The epoch of an ongoing transaction was bumped to fence its producer, and the abort that follows is about to be
     * written. Held only in memory, as in Kafka: the log records the PREPARE_ABORT with the bumped epoch.
     */
    PREPARE_EPOCH_FENCE(7, "PrepareEpochFence");

    private final byte id;
    private final String kafkaName;

    TransactionState(int id, String kafkaName) {
        this.id = (byte) id;
        this.kafkaName = kafkaName;
    }

    public byte id() {
        return id;
    }

    /** The name ListTransactions and DescribeTransactions answer with and ListTransactions filters by. */
    public String kafkaName() {
        return kafkaName;
    }

    /** The state Kafka names so; the match is exact, as Kafka's coordinator has it ("ongoing" is unknown). */
    public static Optional<TransactionState> fromKafkaName(String name) {
        for (TransactionState state : values()) {
            if (state.kafkaName.equals(name)) {
                return Optional.of(state);
            }
        }
        return Optional.empty();
    }

    public static TransactionState fromId(byte id) {
        for (TransactionState state : values()) {
            if (state.id == id) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown transaction state id " + id);
    }

    /** The states this one may be entered from (itself included where Kafka allows it). */
    public Set<TransactionState> validPreviousStates() {
        return switch (this) {
            case EMPTY -> EnumSet.of(EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case ONGOING -> EnumSet.of(ONGOING, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case PREPARE_COMMIT -> EnumSet.of(ONGOING);
            case PREPARE_ABORT -> EnumSet.of(ONGOING, PREPARE_EPOCH_FENCE);
            case COMPLETE_COMMIT -> EnumSet.of(PREPARE_COMMIT);
            case COMPLETE_ABORT -> EnumSet.of(PREPARE_ABORT);
            case DEAD -> EnumSet.of(EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case PREPARE_EPOCH_FENCE -> EnumSet.of(ONGOING);
        };
    }

    /** No transaction is open: the producer may start one, or be given a new epoch. */
    public boolean isIdle() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }

    /** An end of the transaction is decided but its markers are not all written yet. */
    public boolean isPreparing() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT || this == PREPARE_EPOCH_FENCE;
    }
}
