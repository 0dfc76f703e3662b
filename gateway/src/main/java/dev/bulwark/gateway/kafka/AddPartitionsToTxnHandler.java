package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * AddPartitionsToTxn. Versions 0-3 come from producers: one transaction, which needs WRITE on its transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and on each topic. Versions 4 and up batch transactions and may only verify
 * (KIP-890); Kafka's brokers send them to the coordinator, so they need CLUSTER_ACTION on the cluster. A partition that
 * is unauthorized or unknown fails the whole transaction's request: those partitions get their error and the others
 * OPERATION_NOT_ATTEMPTED, as in Kafka. Otherwise the coordinator's outcome is every partition's answer.
 */
public final class AddPartitionsToTxnHandler implements ApiHandler {

    /** The first version whose clients know PRODUCER_FENCED. */
    private static final int FENCED_SINCE = 2;
    /** The first version of the batched form. */
    private static final int BATCHED_SINCE = 4;

    private final TopicCatalog catalog;
    private final TransactionCoordinator transactions;
    private final AccessControl access;

    public AddPartitionsToTxnHandler(TopicCatalog catalog, TransactionCoordinator transactions, AccessControl access) {
        this.catalog = catalog;
        this.transactions = transactions;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        AddPartitionsToTxnRequestData data = request.data();
        boolean batched = request.version() >= BATCHED_SINCE;
        if (batched && !access.cluster(request, AclOperation.CLUSTER_ACTION)) {
            throw new ClusterAuthorizationException("the batched AddPartitionsToTxn needs CLUSTER_ACTION on the cluster");
        }
        List<AddPartitionsToTxnTransaction> requested = new ArrayList<>();
        if (batched) {
            requested.addAll(data.transactions());
        } else {
            requested.add(new AddPartitionsToTxnTransaction()
                    .setTransactionalId(data.v3AndBelowTransactionalId())
                    .setProducerId(data.v3AndBelowProducerId())
                    .setProducerEpoch(data.v3AndBelowProducerEpoch())
                    .setTopics(data.v3AndBelowTopics().duplicate()));
        }
        Topics topics = catalog.forTenant(request.tenantId());
        Subject sender = access.subject(request);
        List<CompletableFuture<AddPartitionsToTxnResult>> results = new ArrayList<>();
        for (AddPartitionsToTxnTransaction transaction : requested) {
            if (transaction.transactionalId() == null) {
                throw new InvalidRequestException("AddPartitionsToTxn names no transactional id");
            }
            results.add(handle(request, topics, sender, batched, transaction));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(done -> {
            AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
            for (CompletableFuture<AddPartitionsToTxnResult> result : results) {
                if (batched) {
                    response.resultsByTransaction().add(result.join());
                } else {
                    response.setResultsByTopicV3AndBelow(result.join().topicResults());
                }
            }
            return Reply.of(response);
        });
    }

    private CompletableFuture<AddPartitionsToTxnResult> handle(Request request, Topics topics, Subject sender,
                                                               boolean batched,
                                                               AddPartitionsToTxnTransaction transaction) {
        Set<TopicPartition> partitions = partitions(transaction.topics());
        String transactionalId = transaction.transactionalId();
        if (!batched && !access.transactionalId(request, AclOperation.WRITE, transactionalId)) {
            return CompletableFuture.completedFuture(
                    result(transactionalId, partitions, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
        }
        Map<TopicPartition, Errors> refused = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            if (!batched && !access.topic(sender, AclOperation.WRITE, tp.topic())) {
                refused.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
            } else if (topics.byName(tp.topic()).flatMap(t -> topics.partition(t, tp.partition())).isEmpty()) {
                refused.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
        if (!refused.isEmpty()) {
            Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
            partitions.forEach(tp -> errors.put(tp, refused.getOrDefault(tp, Errors.OPERATION_NOT_ATTEMPTED)));
            return CompletableFuture.completedFuture(result(transactionalId, errors));
        }
        TransactionalIdKey key = new TransactionalIdKey(request.tenantId(), transactionalId);
        if (transaction.verifyOnly()) {
            return CompletableFuture.completedFuture(result(transactionalId, transactions.verifyPartitions(key,
                    transaction.producerId(), transaction.producerEpoch(), partitions)));
        }
        return transactions.addPartitions(key, transaction.producerId(), transaction.producerEpoch(), partitions)
                .handle((added, failure) -> result(transactionalId, partitions,
                        TransactionErrors.of(failure, request.version(), FENCED_SINCE)));
    }

    private static Set<TopicPartition> partitions(AddPartitionsToTxnTopicCollection topics) {
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        for (AddPartitionsToTxnTopic topic : topics) {
            topic.partitions().forEach(p -> partitions.add(new TopicPartition(topic.name(), p)));
        }
        return partitions;
    }

    private static AddPartitionsToTxnResult result(String transactionalId, Set<TopicPartition> partitions,
                                                   Errors error) {
        Map<TopicPartition, Errors> errors = new LinkedHashMap<>();
        partitions.forEach(tp -> errors.put(tp, error));
        return result(transactionalId, errors);
    }

    private static AddPartitionsToTxnResult result(String transactionalId, Map<TopicPartition, Errors> errors) {
        AddPartitionsToTxnTopicResultCollection topicResults = new AddPartitionsToTxnTopicResultCollection();
        errors.forEach((tp, error) -> {
            AddPartitionsToTxnTopicResult topic = topicResults.find(tp.topic());
            if (topic == null) {
                topic = new AddPartitionsToTxnTopicResult().setName(tp.topic());
                topicResults.add(topic);
            }
            topic.resultsByPartition().add(new AddPartitionsToTxnPartitionResult()
                    .setPartitionIndex(tp.partition()).setPartitionErrorCode(error.code()));
        });
        return new AddPartitionsToTxnResult().setTransactionalId(transactionalId).setTopicResults(topicResults);
    }
}
