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
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.Errors;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * OffsetCommit (by topic name, or topic id from v10): checks each partition exists and its metadata fits
 * offset.metadata.max.bytes, then commits the rest for the group member; answered once durable.
 */
public final class OffsetCommitHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final TopicCatalog catalog;
    private final int maxMetadataBytes;
    private final Clock clock;
    private final AccessControl access;

    public OffsetCommitHandler(GroupCoordinator coordinator, TopicCatalog catalog, int maxMetadataBytes, Clock clock, AccessControl access) {
        this.coordinator = coordinator;
        this.catalog = catalog;
        this.maxMetadataBytes = maxMetadataBytes;
        this.clock = clock;
        this.access = access;
    }

    /** A response partition and where it commits to, if it passed the checks. */
    private record Entry(OffsetCommitResponsePartition result, TopicPartition partition) {
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        OffsetCommitRequestData data = request.data();
        access.requireGroup(request, AclOperation.READ, data.groupId());
        boolean byId = request.version() >= 10;
        long now = clock.millis();
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        Map<TopicPartition, CommittedOffset> commits = new HashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (OffsetCommitRequestTopic topic : data.topics()) {
            OffsetCommitResponseTopic topicResult = byId ? new OffsetCommitResponseTopic().setTopicId(topic.topicId())
                    : new OffsetCommitResponseTopic().setName(topic.name());
            Optional<TopicMetadata> found = byId ? topics.byId(topic.topicId()) : topics.byName(topic.name());
            String name = byId ? found.map(TopicMetadata::name).orElse(null) : topic.name();
            boolean authorized = name == null || access.topic(request, AclOperation.READ, name);
            for (OffsetCommitRequestPartition p : topic.partitions()) {
                OffsetCommitResponsePartition result = new OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex());
                topicResult.partitions().add(result);
                String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                if (!authorized) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (found.isEmpty()) {
                    result.setErrorCode((byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                } else if (p.partitionIndex() < 0 || p.partitionIndex() >= found.get().partitions()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (metadata.getBytes(StandardCharsets.UTF_8).length > maxMetadataBytes) {
                    result.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                } else {
                    TopicPartition tp = new TopicPartition(found.get().name(), p.partitionIndex());
                    commits.put(tp, new CommittedOffset(p.committedOffset(), p.committedLeaderEpoch(), metadata, now));
                    entries.add(new Entry(result, tp));
                }
            }
            response.topics().add(topicResult);
        }
        return coordinator.commit(new GroupKey(request.tenantId(), data.groupId()), data.generationIdOrMemberEpoch(), data.memberId(),
                data.groupInstanceId(), commits).thenApply(error -> {
                    entries.forEach(e -> e.result().setErrorCode(error.code()));
                    return Reply.of(response);
                });
    }
}
