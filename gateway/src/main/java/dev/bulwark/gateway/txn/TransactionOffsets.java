package dev.bulwark.gateway.txn;

import java.util.concurrent.CompletableFuture;

/**
 * Where a decided transaction's consumer-group offsets are completed: the offsets its producer committed for a group
 * (TxnOffsetCommit) become that group's committed offsets when the transaction commits, and are dropped when it
 * aborts. The group coordinator's part of ending a transaction, as the markers are the partitions'.
 */
@FunctionalInterface
public interface TransactionOffsets {

    /**
     * Completes the transaction of {@code producerId} for one group of a tenant. The future completes once the outcome
     * is durable, and fails if it could not be made so; the coordinator then asks again, so asking twice must do no
     * harm.
     */
    CompletableFuture<Void> complete(String tenantId, String groupId, long producerId, boolean commit);
}
