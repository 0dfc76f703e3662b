package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.util.concurrent.CompletionStage;

/**
 * EndTxn: commits or aborts the producer's transaction; answered once the decision is durable, the markers follow.
 * Needs WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). Served through version 4: version 5 is
 * transaction protocol 2, which this broker does not offer, so clients keep the epoch they have.
 */
public final class EndTxnHandler implements ApiHandler {

    /** The first version whose clients know PRODUCER_FENCED. */
    private static final int FENCED_SINCE = 2;

    private final TransactionCoordinator transactions;
    private final AccessControl access;

    public EndTxnHandler(TransactionCoordinator transactions, AccessControl access) {
        this.transactions = transactions;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        EndTxnRequestData data = request.data();
        EndTxnResponseData response = new EndTxnResponseData()
                .setProducerId(RecordBatch.NO_PRODUCER_ID).setProducerEpoch(RecordBatch.NO_PRODUCER_EPOCH);
        if (!access.transactionalId(request, AclOperation.WRITE, data.transactionalId())) {
            return Reply.completed(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        return transactions.endTransaction(new TransactionalIdKey(request.tenantId(), data.transactionalId()),
                        data.producerId(), data.producerEpoch(), data.committed())
                .handle((ended, failure) -> Reply.of(response.setErrorCode(
                        TransactionErrors.of(failure, request.version(), FENCED_SINCE).code())));
    }
}
