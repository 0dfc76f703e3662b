package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DeleteRecords: moves a partition's log start offset (-1 meaning the high watermark); it is durable when answered.
 * Needs DELETE on the topic.
 */
public final class DeleteRecordsHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(DeleteRecordsHandler.class);

    private final TopicCatalog catalog;
    private final AccessControl access;

    public DeleteRecordsHandler(TopicCatalog catalog, AccessControl access) {
        this.catalog = catalog;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        DeleteRecordsRequestData data = request.data();
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        for (DeleteRecordsTopic topic : data.topics()) {
            DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(topic.name());
            for (DeleteRecordsPartition partition : topic.partitions()) {
                DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult()
                        .setPartitionIndex(partition.partitionIndex()).setLowWatermark(-1);
                Optional<PartitionLog> log = topics.byName(topic.name())
                        .flatMap(t -> topics.partition(t, partition.partitionIndex()));
                if (!access.topic(request, AclOperation.DELETE, topic.name())) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (log.isEmpty()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (partition.offset() < -1) {
                    result.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
                } else {
                    try {
                        result.setLowWatermark(topics.deleteRecords(log.get(), partition.offset()));
                    } catch (ApiException e) {
                        result.setErrorCode(Errors.forException(e).code());
                    } catch (IOException e) {
                        LOG.error("DeleteRecords on {}-{} failed", topic.name(), partition.partitionIndex(), e);
                        result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                    }
                }
                topicResult.partitions().add(result);
            }
            response.topics().add(topicResult);
        }
        return Reply.completed(response);
    }
}
