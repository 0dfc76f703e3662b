package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionMetadata;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;

/**
 * DescribeTransactions: per transactional id its state, time-out, start time (-1 when no transaction began since the
 * last InitProducerId), producer id and epoch, and the partitions of its transaction. Needs DESCRIBE on the
 * transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an id never initialized, or forgotten after its
 * expiration, is TRANSACTIONAL_ID_NOT_FOUND. As in Kafka, the transaction's topics the sender may not DESCRIBE are
 * left out.
 *
 * <p>While a decided transaction's markers are written, Kafka lists only the partitions still without one; here every
 * partition of the transaction is listed until all have theirs (the coordinator does not track them one by one).
 */
public final class DescribeTransactionsHandler implements ApiHandler {

    private final TransactionCoordinator coordinator;
    private final AccessControl access;

    public DescribeTransactionsHandler(TransactionCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeTransactionsRequestData data = request.data();
        DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
        Subject subject = access.subject(request);
        for (String transactionalId : data.transactionalIds()) {
            DescribeTransactionsResponseData.TransactionState described =
                    new DescribeTransactionsResponseData.TransactionState().setTransactionalId(transactionalId);
            response.transactionStates().add(described);
            if (!access.transactionalId(subject, AclOperation.DESCRIBE, transactionalId)) {
                described.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
                continue;
            }
            if (transactionalId.isEmpty()) {
                described.setErrorCode(Errors.INVALID_REQUEST.code());
                continue;
            }
            Optional<TransactionMetadata> found = coordinator.describe(
                    new TransactionalIdKey(request.tenantId(), transactionalId));
            if (found.isEmpty()) {
                described.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
                continue;
            }
            TransactionMetadata metadata = found.get();
            described.setTransactionState(metadata.state().kafkaName())
                    .setTransactionTimeoutMs(metadata.timeoutMs())
                    .setTransactionStartTimeMs(metadata.startTimestamp())
                    .setProducerId(metadata.producerId())
                    .setProducerEpoch(metadata.producerEpoch());
            topics(metadata).forEach((topic, partitions) -> {
                if (access.topic(subject, AclOperation.DESCRIBE, topic)) {
                    described.topics().add(new TopicData().setTopic(topic).setPartitions(partitions));
                }
            });
        }
        return Reply.completed(response);
    }

    /** The transaction's partitions by topic, both in order so the answer reads the same each time. */
    private static Map<String, List<Integer>> topics(TransactionMetadata metadata) {
        Map<String, List<Integer>> topics = new TreeMap<>();
        for (TopicPartition tp : metadata.partitions()) {
            topics.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        topics.values().forEach(partitions -> partitions.sort(null));
        return topics;
    }
}
