package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.protocol.Errors;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * OffsetDelete: drops a group's offsets, except of topics its live members subscribe to. Needs DELETE on the group
 * and READ on each topic.
 */
public final class OffsetDeleteHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public OffsetDeleteHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        OffsetDeleteRequestData data = request.data();
        access.requireGroup(request, AclOperation.DELETE, data.groupId());
        GroupKey group = new GroupKey(request.tenantId(), data.groupId());
        List<TopicPartition> partitions = new ArrayList<>();
        List<TopicPartition> unauthorized = new ArrayList<>();
        data.topics().forEach(t -> {
            List<TopicPartition> into = access.topic(request, AclOperation.READ, t.name()) ? partitions : unauthorized;
            t.partitions().forEach(p -> into.add(new TopicPartition(t.name(), p.partitionIndex())));
        });
        Set<String> subscribed = new HashSet<>();
        for (byte[] metadata : coordinator.memberSubscriptions(group)) {
            try {
                subscribed.addAll(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(metadata)).topics());
            } catch (RuntimeException e) {
                // Metadata a consumer-protocol client did not write names no topics.
            }
        }
        return coordinator.deleteOffsets(group, partitions, subscribed::contains).handle((results, error) -> {
            OffsetDeleteResponseData response = new OffsetDeleteResponseData();
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                        : error;
                return Reply.of(response.setErrorCode(Errors.forException(cause).code()));
            }
            Map<TopicPartition, Errors> all = new LinkedHashMap<>(results);
            unauthorized.forEach(tp -> all.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED));
            for (Map.Entry<TopicPartition, Errors> e : all.entrySet()) {
                OffsetDeleteResponseTopic topic = response.topics().find(e.getKey().topic());
                if (topic == null) {
                    topic = new OffsetDeleteResponseTopic().setName(e.getKey().topic());
                    response.topics().add(topic);
                }
                topic.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(e.getKey().partition())
                        .setErrorCode(e.getValue().code()));
            }
            return Reply.of(response);
        });
    }
}
