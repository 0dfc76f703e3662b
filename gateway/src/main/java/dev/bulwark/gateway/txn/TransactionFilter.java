package dev.bulwark.gateway.txn;

import java.util.Set;
import java.util.function.Predicate;

/**
 * Which transactional ids ListTransactions lists; every condition must hold, as in Kafka.
 *
 * @param states              the states to list: every state when the request names none, none at all when it names
 *                            only states Kafka does not know
 * @param producerIds         the producer ids to list; empty lists every one
 * @param runningLongerThanMs list only transactions begun more than this long ago; negative lists every one. Kafka
 *                            compares with the transaction's start time alone, so an id that never began one (start
 *                            -1) counts as running since the epoch and is listed, as Kafka lists it
 * @param transactionalIds    which transactional ids to list (the v2 pattern)
 */
public record TransactionFilter(Set<TransactionState> states, Set<Long> producerIds, long runningLongerThanMs,
                                Predicate<String> transactionalIds) {

    public TransactionFilter {
        states = Set.copyOf(states);
        producerIds = Set.copyOf(producerIds);
    }

    boolean matches(String transactionalId, TransactionMetadata metadata, long nowMs) {
        return states.contains(metadata.state())
                && (producerIds.isEmpty() || producerIds.contains(metadata.producerId()))
                && (runningLongerThanMs < 0 || nowMs - metadata.startTimestamp() > runningLongerThanMs)
                && transactionalIds.test(transactionalId);
    }
}
