package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.ActiveProducer;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;

import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DescribeProducers: the idempotent and transactional producers each partition knows (epoch, last sequence, last
 * timestamp, coordinator epoch, first offset of the ongoing transaction), as kafka-transactions describe-producers and
 * find-hanging read them. Needs READ on the topic (TOPIC_AUTHORIZATION_FAILED), checked before whether the topic
 * exists, as in Kafka; an invalid topic name is INVALID_TOPIC_EXCEPTION, an unknown topic or partition
 * UNKNOWN_TOPIC_OR_PARTITION, an offline partition KAFKA_STORAGE_ERROR.
 */
public final class DescribeProducersHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final AccessControl access;

    public DescribeProducersHandler(TopicCatalog catalog, AccessControl access) {
        this.catalog = catalog;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        DescribeProducersRequestData data = request.data();
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        Subject subject = access.subject(request);
        for (DescribeProducersRequestData.TopicRequest topic : data.topics()) {
            TopicResponse topicResponse = new TopicResponse().setName(topic.name());
            response.topics().add(topicResponse);
            Optional<TopicMetadata> metadata = topics.byName(topic.name());
            ApiError topicError = check(subject, topic.name(), metadata);
            for (int partition : topic.partitionIndexes()) {
                PartitionResponse result = new PartitionResponse().setPartitionIndex(partition);
                topicResponse.partitions().add(result);
                if (topicError.isFailure()) {
                    result.setErrorCode(topicError.error().code()).setErrorMessage(topicError.message());
                    continue;
                }
                Optional<PartitionLog> log = topics.partition(metadata.get(), partition);
                if (log.isEmpty()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (log.get().isOffline()) {
                    result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                } else {
                    log.get().activeProducers().stream()
                            .sorted(Comparator.comparingLong(ActiveProducer::producerId))
                            .forEach(p -> result.activeProducers().add(new ProducerState()
                                    .setProducerId(p.producerId()).setProducerEpoch(p.producerEpoch())
                                    .setLastSequence(p.lastSequence()).setLastTimestamp(p.lastTimestamp())
                                    .setCoordinatorEpoch(p.coordinatorEpoch())
                                    .setCurrentTxnStartOffset(p.currentTxnStartOffset())));
                }
            }
        }
        return Reply.completed(response);
    }

    /** The error of every partition of the topic, checked in Kafka's order: the name, READ, then existence. */
    private ApiError check(Subject subject, String topic, Optional<TopicMetadata> metadata) {
        try {
            Topic.validate(topic);
        } catch (InvalidTopicException e) {
            return ApiError.fromThrowable(e);
        }
        if (!access.topic(subject, AclOperation.READ, topic)) {
            return new ApiError(Errors.TOPIC_AUTHORIZATION_FAILED);
        }
        return metadata.isEmpty() ? new ApiError(Errors.UNKNOWN_TOPIC_OR_PARTITION) : ApiError.NONE;
    }
}
