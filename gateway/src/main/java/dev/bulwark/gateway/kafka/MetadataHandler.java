package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Metadata: this single node as every partition's leader (epoch 0), topic ids, the cluster id; auto-creation. As in
 * Kafka, a listing shows only the topics the sender may DESCRIBE, a topic asked for by name or id without DESCRIBE is
 * TOPIC_AUTHORIZATION_FAILED whether it exists or not, and auto-creation needs CREATE on the cluster or the topic.
 */
public final class MetadataHandler implements ApiHandler {

    private final ClusterIdentity cluster;
    private final TopicCatalog catalog;
    private final AccessControl access;

    public MetadataHandler(ClusterIdentity cluster, TopicCatalog catalog, AccessControl access) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        MetadataRequestData data = request.data();
        short version = request.version();
        MetadataResponseData response = new MetadataResponseData()
                .setClusterId(cluster.clusterId())
                .setControllerId(cluster.nodeId());
        response.brokers().add(new MetadataResponseBroker().setNodeId(cluster.nodeId())
                .setHost(request.listener().advertisedHost()).setPort(request.listener().advertisedPort()));
        boolean operations = data.includeTopicAuthorizedOperations();
        boolean allTopics = data.topics() == null || (version == 0 && data.topics().isEmpty());
        if (!allTopics && version < 12) {
            // v10 and v11 carry a topic id and a nullable name, but their responses cannot carry a null name: as
            // in Kafka, topics are looked up by id from v12 only.
            for (MetadataRequestData.MetadataRequestTopic wanted : data.topics()) {
                if (wanted.name() == null || !Uuid.ZERO_UUID.equals(wanted.topicId())) {
                    throw new InvalidRequestException("Metadata v" + version + " looks topics up by name only; "
                            + "topic ids need v12 or later");
                }
            }
        }
        if (allTopics) {
            for (TopicMetadata topic : topics.all()) {
                if (access.topic(request, AclOperation.DESCRIBE, topic.name())) {
                    response.topics().add(describe(request, topics, topic, operations));
                }
            }
        } else {
            boolean mayCreate = version < 4 || data.allowAutoTopicCreation();
            for (MetadataRequestData.MetadataRequestTopic wanted : data.topics()) {
                response.topics().add(lookup(request, topics, wanted, mayCreate, operations));
            }
        }
        return Reply.completed(response);
    }

    private MetadataResponseTopic lookup(Request request, Topics topics,
                                         MetadataRequestData.MetadataRequestTopic wanted, boolean mayCreate,
                                         boolean operations) {
        if (wanted.name() == null) {
            Uuid id = wanted.topicId();
            Optional<TopicMetadata> topic = topics.byId(id);
            if (topic.isPresent() && !access.topic(request, AclOperation.DESCRIBE, topic.get().name())) {
                return new MetadataResponseTopic().setTopicId(id).setName(null)
                        .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
            }
            return topic.map(t -> describe(request, topics, t, operations)).orElseGet(() -> new MetadataResponseTopic()
                    .setTopicId(id).setName(null).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
        }
        String name = wanted.name();
        if (!access.topic(request, AclOperation.DESCRIBE, name)) {
            return new MetadataResponseTopic().setName(name).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        }
        Optional<TopicMetadata> topic = topics.byName(name);
        if (topic.isEmpty() && mayCreate && org.apache.kafka.common.internals.Topic.isValid(name)
                && !access.cluster(request, AclOperation.CREATE) && !access.topic(request, AclOperation.CREATE, name)) {
            return new MetadataResponseTopic().setName(name).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
        }
        if (topic.isEmpty() && mayCreate) {
            try {
                topic = topics.autoCreate(name);
            } catch (ApiException e) {
                return new MetadataResponseTopic().setName(name).setErrorCode(Errors.forException(e).code());
            }
        }
        if (topic.isEmpty()) {
            Errors error = org.apache.kafka.common.internals.Topic.isValid(name) ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                    : Errors.INVALID_TOPIC_EXCEPTION;
            return new MetadataResponseTopic().setName(name).setErrorCode(error.code());
        }
        return describe(request, topics, topic.get(), operations);
    }

    private MetadataResponseTopic describe(Request request, Topics topics, TopicMetadata topic, boolean operations) {
        MetadataResponseTopic result = new MetadataResponseTopic()
                .setName(topic.name())
                .setTopicId(topic.id())
                .setIsInternal(false)
                .setTopicAuthorizedOperations(operations ? access.topicOperations(request, topic.name())
                        : AccessControl.OMITTED);
        List<MetadataResponsePartition> partitions = new ArrayList<>(topic.partitions());
        for (int p = 0; p < topic.partitions(); p++) {
            partitions.add(partition(p, topics.partition(topic, p)));
        }
        return result.setPartitions(partitions);
    }

    private MetadataResponsePartition partition(int index, Optional<PartitionLog> log) {
        MetadataResponsePartition partition = new MetadataResponsePartition()
                .setPartitionIndex(index)
                .setReplicaNodes(List.of(cluster.nodeId()));
        if (log.isEmpty() || log.get().isOffline()) {
            return partition.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setLeaderId(-1)
                    .setLeaderEpoch(PartitionLog.LEADER_EPOCH).setIsrNodes(List.of())
                    .setOfflineReplicas(List.of(cluster.nodeId()));
        }
        return partition.setLeaderId(cluster.nodeId()).setLeaderEpoch(PartitionLog.LEADER_EPOCH)
                .setIsrNodes(List.of(cluster.nodeId())).setOfflineReplicas(List.of());
    }
}
