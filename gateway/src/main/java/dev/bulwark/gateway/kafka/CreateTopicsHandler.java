package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicAllowance;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableReplicaAssignment;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * CreateTopics: partition count, replication factor (1), replica assignments (this node only), topic configs,
 * validate_only. From v5 the result carries the topic's partition count, replication factor and configs. A topic that
 * would take the tenant past its max-topics or max-partitions fails with POLICY_VIOLATION, as a topic creation policy
 * refusal does in Kafka; the topics of one request count together, validated ones too. Needs CREATE on the cluster
 * or the topic; the configs are shown only with DESCRIBE_CONFIGS on the topic.
 */
public final class CreateTopicsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final ConfigView view;
    private final ClusterIdentity cluster;
    private final AccessControl access;

    public CreateTopicsHandler(TopicCatalog catalog, BrokerConfigs broker, ClusterIdentity cluster, AccessControl access) {
        this.catalog = catalog;
        this.view = new ConfigView(broker);
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        CreateTopicsRequestData data = request.data();
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        boolean clusterCreate = access.cluster(request, AclOperation.CREATE);
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        for (CreatableTopic topic : data.topics()) {
            if (!seen.add(topic.name())) {
                duplicated.add(topic.name());
            }
        }
        topics.creating(allowance -> {
            for (CreatableTopic topic : data.topics()) {
                CreatableTopicResult result = new CreatableTopicResult().setName(topic.name())
                        .setTopicId(Uuid.ZERO_UUID);
                if (duplicated.contains(topic.name())) {
                    fail(result, new InvalidRequestException("Duplicate topic name " + topic.name()
                            + " in the request"));
                } else if (!clusterCreate && !access.topic(request, AclOperation.CREATE, topic.name())) {
                    fail(result, new TopicAuthorizationException("not authorized to create topic " + topic.name()));
                } else if (response.topics().find(topic.name()) == null) {
                    create(request, topics, allowance, topic, data.validateOnly(), result);
                }
                if (response.topics().find(topic.name()) == null) {
                    response.topics().add(result);
                }
            }
            return response;
        });
        return Reply.completed(response);
    }

    /** Creates (or with validate_only, only admits) one topic; the tenant's limits count a validated topic too. */
    private void create(Request request, Topics topics, TopicAllowance allowance, CreatableTopic topic,
                        boolean validateOnly, CreatableTopicResult result) {
        try {
            if (topics.byName(topic.name()).isPresent()) {
                throw new TopicExistsException("Topic '" + topic.name() + "' already exists.");
            }
            int partitions = topic.numPartitions();
            short factor = topic.replicationFactor();
            if (!topic.assignments().isEmpty()) {
                if (partitions != -1 || factor != -1) {
                    throw new InvalidRequestException("Both numPartitions or replicationFactor and replicasAssignments "
                            + "were set. Both cannot be used at the same time.");
                }
                partitions = checkAssignments(topic.assignments());
                factor = 1;
            }
            Map<String, String> configs = new HashMap<>();
            for (CreatableTopicConfig config : topic.configs()) {
                if (config.value() == null) {
                    throw new InvalidConfigurationException("Null value not supported for topic configs: "
                            + config.name());
                }
                configs.put(config.name(), config.value());
            }
            Topics.Plan plan = topics.plan(topic.name(), partitions, factor, configs);
            TopicMetadata created;
            if (validateOnly) {
                allowance.admitTopic(plan.partitions());
                created = new TopicMetadata(Uuid.ZERO_UUID, topics.tenantId(), plan.name(), plan.partitions(),
                        plan.configs());
            } else {
                created = topics.create(plan, allowance);
            }
            result.setTopicId(created.id())
                    .setNumPartitions(created.partitions())
                    .setReplicationFactor(plan.replicationFactor());
            if (access.topic(request, AclOperation.DESCRIBE_CONFIGS, topic.name())) {
                result.setConfigs(configs(created));
            } else {
                result.setTopicConfigErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
            }
        } catch (ApiException e) {
            fail(result, e);
        }
    }

    private int checkAssignments(java.util.Collection<CreatableReplicaAssignment> assignments) {
        Set<Integer> indexes = new HashSet<>();
        for (CreatableReplicaAssignment assignment : assignments) {
            if (!assignment.brokerIds().equals(List.of(cluster.nodeId()))) {
                throw new InvalidReplicaAssignmentException("Partition " + assignment.partitionIndex()
                        + " is assigned to brokers " + assignment.brokerIds() + "; the only broker is "
                        + cluster.nodeId());
            }
            indexes.add(assignment.partitionIndex());
        }
        for (int i = 0; i < assignments.size(); i++) {
            if (!indexes.contains(i)) {
                throw new InvalidReplicaAssignmentException("Partitions should be numbered 0 to "
                        + (assignments.size() - 1));
            }
        }
        return assignments.size();
    }

    private List<CreatableTopicConfigs> configs(TopicMetadata topic) {
        List<CreatableTopicConfigs> configs = new ArrayList<>();
        for (ConfigView.Described c : view.topic(topic, null)) {
            configs.add(new CreatableTopicConfigs().setName(c.name()).setValue(c.value()).setReadOnly(c.readOnly())
                    .setConfigSource(c.source().id()).setIsSensitive(false));
        }
        return configs;
    }

    private static void fail(CreatableTopicResult result, ApiException e) {
        result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage())
                .setNumPartitions(-1).setReplicationFactor((short) -1).setConfigs(null);
    }
}
