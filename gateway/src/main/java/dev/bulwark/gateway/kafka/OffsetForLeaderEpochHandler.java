package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.Errors;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * OffsetForLeaderEpoch, which consumers use to validate their position after a leader change: every partition has
 * had one leader epoch (0) since it was created, ending at the log end. Needs DESCRIBE on the topic.
 */
public final class OffsetForLeaderEpochHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final AccessControl access;

    public OffsetForLeaderEpochHandler(TopicCatalog catalog, AccessControl access) {
        this.catalog = catalog;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        OffsetForLeaderEpochRequestData data = request.data();
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderTopic topic : data.topics()) {
            OffsetForLeaderTopicResult topicResult = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            for (OffsetForLeaderPartition partition : topic.partitions()) {
                EpochEndOffset result = new EpochEndOffset().setPartition(partition.partition())
                        .setLeaderEpoch(-1).setEndOffset(-1);
                Optional<PartitionLog> log = topics.byName(topic.topic())
                        .flatMap(t -> topics.partition(t, partition.partition()));
                if (!access.topic(request, AclOperation.DESCRIBE, topic.topic())) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (log.isEmpty()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (log.get().isOffline()) {
                    result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                } else if (partition.currentLeaderEpoch() > PartitionLog.LEADER_EPOCH) {
                    result.setErrorCode(Errors.UNKNOWN_LEADER_EPOCH.code());
                } else if (partition.leaderEpoch() == PartitionLog.LEADER_EPOCH) {
                    result.setLeaderEpoch(PartitionLog.LEADER_EPOCH).setEndOffset(log.get().logEndOffset());
                }
                topicResult.partitions().add(result);
            }
            response.topics().add(topicResult);
        }
        return Reply.completed(response);
    }
}
