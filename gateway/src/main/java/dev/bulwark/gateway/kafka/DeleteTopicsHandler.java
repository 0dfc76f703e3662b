package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.Errors;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DeleteTopics by name (v1-5) or by name or id (v6); the groups' committed offsets of the topic go too. Needs DELETE on
 * the topic; as in Kafka, a topic id the sender may not even DESCRIBE is answered as unknown.
 */
public final class DeleteTopicsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final BrokerConfigs broker;
    private final FetchSessions sessions;
    private final GroupCoordinator groups;
    private final AccessControl access;

    public DeleteTopicsHandler(TopicCatalog catalog, BrokerConfigs broker, FetchSessions sessions, GroupCoordinator groups, AccessControl access) {
        this.catalog = catalog;
        this.broker = broker;
        this.sessions = sessions;
        this.groups = groups;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        DeleteTopicsRequestData data = request.data();
        List<DeleteTopicState> wanted = new ArrayList<>(data.topics());
        for (String name : data.topicNames()) {
            wanted.add(new DeleteTopicState().setName(name).setTopicId(Uuid.ZERO_UUID));
        }
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        for (DeleteTopicState topic : wanted) {
            DeletableTopicResult result = new DeletableTopicResult().setName(topic.name()).setTopicId(topic.topicId());
            boolean byId = topic.name() == null;
            Optional<TopicMetadata> found = byId ? topics.byId(topic.topicId()) : topics.byName(topic.name());
            if (byId && found.isPresent() && !access.topic(request, AclOperation.DESCRIBE, found.get().name())) {
                found = Optional.empty();
            }
            String name = byId ? found.map(TopicMetadata::name).orElse(null) : topic.name();
            if (name != null && !access.topic(request, AclOperation.DELETE, name)) {
                result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(Errors.TOPIC_AUTHORIZATION_FAILED.message());
            } else if (!broker.booleanValue(BrokerConfigs.DELETE_TOPIC_ENABLE)) {
                result.setErrorCode(Errors.TOPIC_DELETION_DISABLED.code());
            } else if (found.isEmpty()) {
                Errors error = byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                result.setErrorCode(error.code()).setErrorMessage(error.message());
            } else {
                result.setName(found.get().name()).setTopicId(found.get().id());
                try {
                    topics.delete(found.get());
                    sessions.forgetTopic(found.get().id());
                    groups.onTopicDeleted(request.tenantId(), found.get().name());
                } catch (IOException e) {
                    result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setErrorMessage(e.getMessage());
                } catch (ApiException e) {
                    result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                }
            }
            response.responses().add(result);
        }
        return Reply.completed(response);
    }
}
