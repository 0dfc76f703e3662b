package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.Cursor;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.protocol.Errors;

import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * DescribeTopicPartitions (KIP-966), which the admin client's describeTopics uses: topics in name order, paged by a
 * partition limit and a cursor. A listing shows only the topics the sender may DESCRIBE; a named one without DESCRIBE
 * is TOPIC_AUTHORIZATION_FAILED.
 */
public final class DescribeTopicPartitionsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final ClusterIdentity cluster;
    private final AccessControl access;

    public DescribeTopicPartitionsHandler(TopicCatalog catalog, ClusterIdentity cluster, AccessControl access) {
        this.catalog = catalog;
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        DescribeTopicPartitionsRequestData data = request.data();
        TreeSet<String> names = new TreeSet<>();
        boolean listing = data.topics().isEmpty();
        if (listing) {
            topics.all().forEach(t -> names.add(t.name()));
        } else {
            data.topics().forEach(t -> names.add(t.name()));
        }
        DescribeTopicPartitionsResponseData response = new DescribeTopicPartitionsResponseData();
        int budget = Math.max(1, data.responsePartitionLimit());
        String startTopic = data.cursor() == null ? null : data.cursor().topicName();
        int startPartition = data.cursor() == null ? 0 : Math.max(0, data.cursor().partitionIndex());
        for (String name : startTopic == null ? names : names.tailSet(startTopic, true)) {
            if (!access.topic(request, AclOperation.DESCRIBE, name)) {
                if (!listing) {
                    response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name)
                            .setTopicId(Uuid.ZERO_UUID).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                }
                continue;
            }
            Optional<TopicMetadata> topic = topics.byName(name);
            if (topic.isEmpty()) {
                response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name)
                        .setTopicId(Uuid.ZERO_UUID).setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                continue;
            }
            DescribeTopicPartitionsResponseTopic result = new DescribeTopicPartitionsResponseTopic().setName(name)
                    .setTopicId(topic.get().id()).setIsInternal(false)
                    .setTopicAuthorizedOperations(access.topicOperations(request, name));
            int first = name.equals(startTopic) ? startPartition : 0;
            for (int p = first; p < topic.get().partitions(); p++) {
                if (budget == 0) {
                    response.setNextCursor(new Cursor().setTopicName(name).setPartitionIndex(p));
                    break;
                }
                result.partitions().add(partition(p, topics.partition(topic.get(), p)));
                budget--;
            }
            response.topics().add(result);
            if (response.nextCursor() != null) {
                break;
            }
        }
        return Reply.completed(response);
    }

    private DescribeTopicPartitionsResponsePartition partition(int index, Optional<PartitionLog> log) {
        DescribeTopicPartitionsResponsePartition partition = new DescribeTopicPartitionsResponsePartition()
                .setPartitionIndex(index).setLeaderEpoch(PartitionLog.LEADER_EPOCH)
                .setReplicaNodes(List.of(cluster.nodeId()))
                .setEligibleLeaderReplicas(List.of()).setLastKnownElr(List.of());
        if (log.isEmpty() || log.get().isOffline()) {
            return partition.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setLeaderId(-1).setIsrNodes(List.of())
                    .setOfflineReplicas(List.of(cluster.nodeId()));
        }
        return partition.setLeaderId(cluster.nodeId()).setIsrNodes(List.of(cluster.nodeId()))
                .setOfflineReplicas(List.of());
    }
}
