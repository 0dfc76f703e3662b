package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.group.CommittedOffset;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;

/**
 * OffsetFetch: one group (v1-7) or several (v8+), chosen partitions or all of a group's (null topics), by topic name
 * or by topic id (v10). A partition without a committed offset reads -1. Needs DESCRIBE on the group, and on a
 * topic to see its offsets. Offsets an open transaction committed are not shown until it commits; a consumer that
 * asks for stable offsets (require_stable, v7+, what read_committed consumers send) is told UNSTABLE_OFFSET_COMMIT
 * for a partition such a transaction has an offset for, and asks again (KIP-447).
 */
public final class OffsetFetchHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final TopicCatalog catalog;
    private final AccessControl access;

    public OffsetFetchHandler(GroupCoordinator coordinator, TopicCatalog catalog, AccessControl access) {
        this.coordinator = coordinator;
        this.catalog = catalog;
        this.access = access;
    }

    /** A partition of the answer: topic name (null for an unknown id), id, index, and what was found. */
    private record Row(String topic, Uuid topicId, int partition, CommittedOffset offset, Errors error) {
        String groupingKey() {
            return topic != null ? topic : topicId.toString();
        }
    }

    /** Partitions asked for in one topic; a null name means a topic id that does not exist. */
    private record Wanted(String name, Uuid id, List<Integer> partitions) {
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        OffsetFetchRequestData data = request.data();
        short version = request.version();
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        if (version < 8) {
            access.requireGroup(request, AclOperation.DESCRIBE, data.groupId());
            List<Wanted> wanted = null;
            if (data.topics() != null) {
                wanted = new ArrayList<>();
                for (OffsetFetchRequestData.OffsetFetchRequestTopic t : data.topics()) {
                    wanted.add(new Wanted(t.name(), Uuid.ZERO_UUID, t.partitionIndexes()));
                }
            }
            for (List<Row> topic : byTopic(rows(request, topics, new GroupKey(request.tenantId(), data.groupId()),
                    wanted, data.requireStable())).values()) {
                OffsetFetchResponseTopic t = new OffsetFetchResponseTopic().setName(topic.get(0).topic());
                for (Row row : topic) {
                    OffsetFetchResponsePartition p = new OffsetFetchResponsePartition()
                            .setPartitionIndex(row.partition()).setErrorCode(row.error().code())
                            .setCommittedOffset(row.offset() == null ? -1 : row.offset().offset())
                            .setMetadata(row.offset() == null ? "" : row.offset().metadata());
                    if (version >= 5) {
                        p.setCommittedLeaderEpoch(row.offset() == null ? -1 : row.offset().leaderEpoch());
                    }
                    t.partitions().add(p);
                }
                response.topics().add(t);
            }
            return Reply.completed(response);
        }
        boolean byId = version >= 10;
        for (OffsetFetchRequestData.OffsetFetchRequestGroup group : data.groups()) {
            List<Wanted> wanted = null;
            if (group.topics() != null) {
                wanted = new ArrayList<>();
                for (OffsetFetchRequestData.OffsetFetchRequestTopics t : group.topics()) {
                    wanted.add(byId ? new Wanted(topics.byId(t.topicId()).map(TopicMetadata::name).orElse(null),
                            t.topicId(), t.partitionIndexes()) : new Wanted(t.name(), Uuid.ZERO_UUID,
                            t.partitionIndexes()));
                }
            }
            OffsetFetchResponseGroup g = new OffsetFetchResponseGroup().setGroupId(group.groupId());
            if (!access.group(request, AclOperation.DESCRIBE, group.groupId())) {
                response.groups().add(g.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
                continue;
            }
            for (List<Row> topic : byTopic(rows(request, topics, new GroupKey(request.tenantId(), group.groupId()),
                    wanted, data.requireStable())).values()) {
                Row first = topic.get(0);
                OffsetFetchResponseTopics t = byId ? new OffsetFetchResponseTopics().setTopicId(first.topicId())
                        : new OffsetFetchResponseTopics().setName(first.topic());
                for (Row row : topic) {
                    t.partitions().add(new OffsetFetchResponsePartitions().setPartitionIndex(row.partition())
                            .setErrorCode(row.error().code())
                            .setCommittedOffset(row.offset() == null ? -1 : row.offset().offset())
                            .setCommittedLeaderEpoch(row.offset() == null ? -1 : row.offset().leaderEpoch())
                            .setMetadata(row.offset() == null ? "" : row.offset().metadata()));
                }
                g.topics().add(t);
            }
            response.groups().add(g);
        }
        return Reply.completed(response);
    }

    /**
     * The rows of one group: every committed partition of a topic the sender may DESCRIBE when {@code wanted} is null,
     * else those asked for (TOPIC_AUTHORIZATION_FAILED for a topic it may not). With {@code requireStable}, a partition
     * with a pending transactional offset is UNSTABLE_OFFSET_COMMIT, its offset not shown (as Kafka does).
     */
    private List<Row> rows(Request request, Topics topics, GroupKey groupId, List<Wanted> wanted,
                           boolean requireStable) {
        Map<TopicPartition, CommittedOffset> committed = coordinator.committed(groupId, null);
        List<Row> rows = new ArrayList<>();
        if (wanted == null) {
            committed.forEach((tp, offset) -> {
                if (access.topic(request, AclOperation.DESCRIBE, tp.topic())) {
                    rows.add(row(groupId, tp, topics.byName(tp.topic()).map(TopicMetadata::id)
                            .orElse(Uuid.ZERO_UUID), offset, requireStable));
                }
            });
            return rows;
        }
        for (Wanted topic : wanted) {
            if (topic.name() == null) {
                topic.partitions().forEach(p -> rows.add(new Row(null, topic.id(), p, null, Errors.UNKNOWN_TOPIC_ID)));
                continue;
            }
            if (!access.topic(request, AclOperation.DESCRIBE, topic.name())) {
                Uuid id = topic.id();
                topic.partitions().forEach(p -> rows.add(new Row(topic.name(), id, p, null,
                        Errors.TOPIC_AUTHORIZATION_FAILED)));
                continue;
            }
            Uuid id = topics.byName(topic.name()).map(TopicMetadata::id).orElse(Uuid.ZERO_UUID);
            for (int p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                rows.add(row(groupId, tp, id, committed.get(tp), requireStable));
            }
        }
        return rows;
    }

    private Row row(GroupKey groupId, TopicPartition tp, Uuid topicId, CommittedOffset offset, boolean requireStable) {
        if (requireStable && coordinator.hasPendingTransactionalOffset(groupId, tp)) {
            return new Row(tp.topic(), topicId, tp.partition(), null, Errors.UNSTABLE_OFFSET_COMMIT);
        }
        return new Row(tp.topic(), topicId, tp.partition(), offset, Errors.NONE);
    }

    private static Map<String, List<Row>> byTopic(List<Row> rows) {
        Map<String, List<Row>> grouped = new TreeMap<>();
        for (Row row : rows) {
            grouped.computeIfAbsent(row.groupingKey(), t -> new ArrayList<>()).add(row);
        }
        return grouped;
    }
}
