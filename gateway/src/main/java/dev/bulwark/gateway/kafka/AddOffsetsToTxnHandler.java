package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.concurrent.CompletionStage;

/**
 * AddOffsetsToTxn: the group's transactional offset commits commit or abort with the producer's transaction. Needs
 * WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and READ on the group
 * (GROUP_AUTHORIZATION_FAILED).
 */
public final class AddOffsetsToTxnHandler implements ApiHandler {

    /** The first version whose clients know PRODUCER_FENCED. */
    private static final int FENCED_SINCE = 2;

    private final TransactionCoordinator transactions;
    private final AccessControl access;

    public AddOffsetsToTxnHandler(TransactionCoordinator transactions, AccessControl access) {
        this.transactions = transactions;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        AddOffsetsToTxnRequestData data = request.data();
        AddOffsetsToTxnResponseData response = new AddOffsetsToTxnResponseData();
        if (!access.transactionalId(request, AclOperation.WRITE, data.transactionalId())) {
            return Reply.completed(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        if (!access.group(request, AclOperation.READ, data.groupId())) {
            return Reply.completed(response.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
        return transactions.addOffsets(new TransactionalIdKey(request.tenantId(), data.transactionalId()),
                        data.producerId(), data.producerEpoch(), data.groupId())
                .handle((added, failure) -> Reply.of(response.setErrorCode(
                        TransactionErrors.of(failure, request.version(), FENCED_SINCE).code())));
    }
}
