package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TimestampAndOffset;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListOffsetsRequest;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * ListOffsets: earliest, latest (high watermark), by timestamp (first record at or after it), max timestamp, and
 * the tiered-storage specials, which without tiered storage mean the local log start or "none". Under READ_COMMITTED
 * "latest" is the last stable offset and a timestamp finds only records below it, as a read-committed consumer can
 * fetch no further. Needs DESCRIBE on the topic.
 */
public final class ListOffsetsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final AccessControl access;

    public ListOffsetsHandler(TopicCatalog catalog, AccessControl access) {
        this.catalog = catalog;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        ListOffsetsRequestData data = request.data();
        boolean readCommitted = data.isolationLevel() == IsolationLevel.READ_COMMITTED.id();
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        Set<TopicPartition> seen = new HashSet<>();
        Set<TopicPartition> duplicates = new HashSet<>();
        for (ListOffsetsTopic topic : data.topics()) {
            for (ListOffsetsPartition partition : topic.partitions()) {
                if (!seen.add(new TopicPartition(topic.name(), partition.partitionIndex()))) {
                    duplicates.add(new TopicPartition(topic.name(), partition.partitionIndex()));
                }
            }
        }
        for (ListOffsetsTopic topic : data.topics()) {
            ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse().setName(topic.name());
            for (ListOffsetsPartition partition : topic.partitions()) {
                ListOffsetsPartitionResponse result = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(partition.partitionIndex()).setTimestamp(-1).setOffset(-1);
                if (!access.topic(request, AclOperation.DESCRIBE, topic.name())) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (duplicates.contains(new TopicPartition(topic.name(), partition.partitionIndex()))) {
                    result.setErrorCode(Errors.INVALID_REQUEST.code());
                } else {
                    Optional<PartitionLog> log = topics.byName(topic.name())
                            .flatMap(t -> topics.partition(t, partition.partitionIndex()));
                    if (log.isEmpty()) {
                        result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    } else if (partition.currentLeaderEpoch() > PartitionLog.LEADER_EPOCH) {
                        result.setErrorCode(Errors.UNKNOWN_LEADER_EPOCH.code());
                    } else {
                        lookup(log.get(), partition.timestamp(), readCommitted, request.version(), result);
                    }
                }
                topicResponse.partitions().add(result);
            }
            response.topics().add(topicResponse);
        }
        return Reply.completed(response);
    }

    private static void lookup(PartitionLog log, long timestamp, boolean readCommitted, short version,
                               ListOffsetsPartitionResponse result) {
        try {
            long lastFetchable = readCommitted ? log.lastStableOffset() : log.highWatermark();
            Optional<TimestampAndOffset> found;
            if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP
                    || timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
                found = Optional.of(new TimestampAndOffset(-1, log.logStartOffset()));
            } else if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
                found = Optional.of(new TimestampAndOffset(-1, lastFetchable));
            } else if (timestamp == ListOffsetsRequest.MAX_TIMESTAMP) {
                found = log.maxTimestamp();
            } else if (timestamp == ListOffsetsRequest.LATEST_TIERED_TIMESTAMP
                    || timestamp == ListOffsetsRequest.EARLIEST_PENDING_UPLOAD_TIMESTAMP) {
                found = Optional.empty();
            } else if (timestamp >= 0) {
                found = log.offsetForTimestamp(timestamp).filter(f -> f.offset() < lastFetchable);
            } else {
                result.setErrorCode(Errors.INVALID_REQUEST.code());
                return;
            }
            found.ifPresent(f -> result.setTimestamp(f.timestamp()).setOffset(f.offset()));
            if (version >= 4) {
                result.setLeaderEpoch(PartitionLog.LEADER_EPOCH);
            }
        } catch (ApiException e) {
            result.setErrorCode(Errors.forException(e).code());
        }
    }
}
