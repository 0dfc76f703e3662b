package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicAllowance;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.Errors;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * CreatePartitions: grows a topic; new partitions start empty on this node. Partitions that would take the tenant past
 * its max-partitions fail with POLICY_VIOLATION; the topics of one request count together, validated ones too. Needs
 * ALTER on the topic.
 */
public final class CreatePartitionsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final ClusterIdentity cluster;
    private final AccessControl access;

    public CreatePartitionsHandler(TopicCatalog catalog, ClusterIdentity cluster, AccessControl access) {
        this.catalog = catalog;
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        CreatePartitionsRequestData data = request.data();
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        topics.creating(allowance -> {
            for (CreatePartitionsTopic topic : data.topics()) {
                response.results().add(grow(request, topics, allowance, topic, data.validateOnly()));
            }
            return response;
        });
        return Reply.completed(response);
    }

    private CreatePartitionsTopicResult grow(Request request, Topics topics, TopicAllowance allowance,
                                             CreatePartitionsTopic topic, boolean validateOnly) {
        CreatePartitionsTopicResult result = new CreatePartitionsTopicResult().setName(topic.name());
        try {
            if (!access.topic(request, AclOperation.ALTER, topic.name())) {
                throw new TopicAuthorizationException("not authorized to alter topic " + topic.name());
            }
            TopicMetadata current = topics.byName(topic.name()).orElseThrow(() ->
                    new UnknownTopicOrPartitionException("The topic '" + topic.name() + "' does not exist."));
            int added = topic.count() - current.partitions();
            if (added <= 0) {
                throw new InvalidPartitionsException("Topic currently has " + current.partitions()
                        + " partitions, which is higher than the requested " + topic.count() + ".");
            }
            if (topic.assignments() != null) {
                if (topic.assignments().size() != added) {
                    throw new InvalidReplicaAssignmentException("Increasing the number of partitions by " + added
                            + " but " + topic.assignments().size() + " assignments provided.");
                }
                for (CreatePartitionsAssignment assignment : topic.assignments()) {
                    if (!assignment.brokerIds().equals(List.of(cluster.nodeId()))) {
                        throw new InvalidReplicaAssignmentException("Assignment " + assignment.brokerIds()
                                + " names brokers other than " + cluster.nodeId());
                    }
                }
            }
            if (validateOnly) {
                allowance.admitPartitions(added);
            } else {
                topics.addPartitions(current, topic.count(), allowance);
            }
        } catch (ApiException e) {
            result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
        } catch (IOException e) {
            result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setErrorMessage(e.getMessage());
        }
        return result;
    }
}
