package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CompletionStage;

/**
 * InitProducerId for idempotent producers: a fresh producer id, epoch 0, every time (as Kafka does without a
 * transactional id, which also covers the KIP-360 reset after an unknown-producer error). Transactional ids need
 * the transaction coordinator and are answered COORDINATOR_NOT_AVAILABLE until it exists. A transactional id needs
 * WRITE on it; an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679).
 */
public final class InitProducerIdHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);

    private final ProducerIds producerIds;
    private final AccessControl access;

    public InitProducerIdHandler(ProducerIds producerIds, AccessControl access) {
        this.producerIds = producerIds;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        InitProducerIdRequestData data = request.data();
        InitProducerIdResponseData response = new InitProducerIdResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (data.transactionalId() != null) {
            boolean authorized = access.transactionalId(request, AclOperation.WRITE, data.transactionalId());
            return Reply.completed(response.setErrorCode(authorized ? Errors.COORDINATOR_NOT_AVAILABLE.code()
                    : Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
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
