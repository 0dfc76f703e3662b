package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * InitProducerId. Without a transactional id: a fresh producer id, epoch 0, every time (as Kafka does, which also
 * covers the KIP-360 reset after an unknown-producer error); it needs IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic (KIP-679). With one: the transaction coordinator's producer id and next epoch, which fences older producers of
 * that id; it needs WRITE on the transactional id. A producer id without an epoch, or the reverse, is INVALID_REQUEST.
 */
public final class InitProducerIdHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);
    /** The first version whose clients know PRODUCER_FENCED. */
    private static final int FENCED_SINCE = 4;

    private final ProducerIds producerIds;
    private final TransactionCoordinator transactions;
    private final AccessControl access;

    public InitProducerIdHandler(ProducerIds producerIds, TransactionCoordinator transactions, AccessControl access) {
        this.producerIds = producerIds;
        this.transactions = transactions;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        InitProducerIdRequestData data = request.data();
        InitProducerIdResponseData response = new InitProducerIdResponseData()
                .setProducerId(RecordBatch.NO_PRODUCER_ID).setProducerEpoch(RecordBatch.NO_PRODUCER_EPOCH);
        if (data.transactionalId() == null) {
            return idempotent(request, response);
        }
        if (!access.transactionalId(request, AclOperation.WRITE, data.transactionalId())) {
            return Reply.completed(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        boolean noId = data.producerId() == RecordBatch.NO_PRODUCER_ID;
        boolean noEpoch = data.producerEpoch() == RecordBatch.NO_PRODUCER_EPOCH;
        if (noId != noEpoch) {
            return Reply.completed(response.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        Optional<ProducerIdAndEpoch> expected = noId ? Optional.empty()
                : Optional.of(new ProducerIdAndEpoch(data.producerId(), data.producerEpoch()));
        return transactions.initProducerId(new TransactionalIdKey(request.tenantId(), data.transactionalId()),
                        data.transactionTimeoutMs(), expected)
                .handle((producer, failure) -> {
                    Errors error = TransactionErrors.of(failure, request.version(), FENCED_SINCE);
                    if (error == Errors.NONE) {
                        response.setProducerId(producer.producerId()).setProducerEpoch(producer.epoch());
                    }
                    return Reply.of(response.setErrorCode(error.code()));
                });
    }

    private CompletionStage<Reply> idempotent(Request request, InitProducerIdResponseData response) {
        if (!access.cluster(request, AclOperation.IDEMPOTENT_WRITE) && !access.anyTopic(request, AclOperation.WRITE)) {
            return Reply.completed(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        try {
            return Reply.completed(response.setProducerId(producerIds.next()).setProducerEpoch((short) 0));
        } catch (IOException e) {
            LOG.error("allocating a producer id failed", e);
            return Reply.completed(response.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()));
        }
    }
}
