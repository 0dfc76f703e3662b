package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.group.CommittedOffset;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic;
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
 * TxnOffsetCommit (v0-4): a transactional producer commits a consumer group's offsets inside its transaction; they
 * stay pending, invisible to OffsetFetch, until the transaction commits. Kafka's checks in Kafka's order: WRITE on the
 * transactional id and READ on the group (else every partition fails with that error), READ on each topic and that it
 * exists; then, in the group coordinator, that the group is in the producer's ongoing transaction and, from v3, the
 * member and generation the consumer names; then that each partition's metadata fits offset.metadata.max.bytes.
 * Answered once the pending offsets are durable.
 *
 * <p>Kafka never answers TxnOffsetCommit with PRODUCER_FENCED, at any version (its version history does not add it,
 * unlike the other transactional APIs' KIP-588 bump): a fenced producer gets INVALID_PRODUCER_EPOCH, which clients
 * take as fatal fencing here. A group missing from the transaction is INVALID_TXN_STATE before v4 and
 * TRANSACTION_ABORTABLE from v4 (KIP-890), which clients abort on.
 */
public final class TxnOffsetCommitHandler implements ApiHandler {

    /** The first version whose clients know TRANSACTION_ABORTABLE. */
    private static final short TRANSACTION_ABORTABLE_VERSION = 4;

    private final GroupCoordinator groups;
    private final TransactionCoordinator transactions;
    private final TopicCatalog catalog;
    private final int maxMetadataBytes;
    private final Clock clock;
    private final AccessControl access;

    public TxnOffsetCommitHandler(GroupCoordinator groups, TransactionCoordinator transactions, TopicCatalog catalog,
                                  int maxMetadataBytes, Clock clock, AccessControl access) {
        this.groups = groups;
        this.transactions = transactions;
        this.catalog = catalog;
        this.maxMetadataBytes = maxMetadataBytes;
        this.clock = clock;
        this.access = access;
    }

    /** A response partition that passed the topic checks, where it commits to, and whether its metadata fits. */
    private record Entry(TxnOffsetCommitResponsePartition result, TopicPartition partition, boolean metadataFits) {
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        TxnOffsetCommitRequestData data = request.data();
        if (!access.transactionalId(request, AclOperation.WRITE, data.transactionalId())) {
            return Reply.completed(everyPartition(data, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
        }
        if (!access.group(request, AclOperation.READ, data.groupId())) {
            return Reply.completed(everyPartition(data, Errors.GROUP_AUTHORIZATION_FAILED));
        }
        Topics topics = catalog.forTenant(request.tenantId());
        long now = clock.millis();
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        Map<TopicPartition, CommittedOffset> commits = new HashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (TxnOffsetCommitRequestTopic topic : data.topics()) {
            TxnOffsetCommitResponseTopic topicResult = new TxnOffsetCommitResponseTopic().setName(topic.name());
            boolean authorized = access.topic(request, AclOperation.READ, topic.name());
            Optional<TopicMetadata> found = authorized ? topics.byName(topic.name()) : Optional.empty();
            for (TxnOffsetCommitRequestPartition p : topic.partitions()) {
                TxnOffsetCommitResponsePartition result = new TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex());
                topicResult.partitions().add(result);
                if (!authorized) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (found.isEmpty() || p.partitionIndex() < 0
                        || p.partitionIndex() >= found.get().partitions()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    String metadata = p.committedMetadata() == null ? "" : p.committedMetadata();
                    boolean fits = metadata.getBytes(StandardCharsets.UTF_8).length <= maxMetadataBytes;
                    TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                    if (fits) {
                        commits.put(tp, new CommittedOffset(p.committedOffset(), p.committedLeaderEpoch(), metadata,
                                now));
                    }
                    entries.add(new Entry(result, tp, fits));
                }
            }
            response.topics().add(topicResult);
        }
        if (entries.isEmpty()) {
            return Reply.completed(response);
        }
        TransactionalIdKey transactionalId = new TransactionalIdKey(request.tenantId(), data.transactionalId());
        return groups.commitTransactional(new GroupKey(request.tenantId(), data.groupId()), data.producerId(),
                data.generationIdOrMemberEpoch(), data.memberId(), data.groupInstanceId(),
                () -> transactions.verifyGroup(transactionalId, data.producerId(), data.producerEpoch(),
                        data.groupId()), commits).thenApply(error -> {
                    Errors answered = forVersion(error, request.version());
                    for (Entry e : entries) {
                        Errors partitionError = answered == Errors.NONE && !e.metadataFits()
                                ? Errors.OFFSET_METADATA_TOO_LARGE : answered;
                        e.result().setErrorCode(partitionError.code());
                    }
                    return Reply.of(response);
                });
    }

    /** The coordinators' error as a client of {@code version} expects it (see the class comment). */
    private static Errors forVersion(Errors error, short version) {
        if (error == Errors.PRODUCER_FENCED) {
            return Errors.INVALID_PRODUCER_EPOCH;
        }
        if (error == Errors.INVALID_TXN_STATE && version >= TRANSACTION_ABORTABLE_VERSION) {
            return Errors.TRANSACTION_ABORTABLE;
        }
        return error;
    }

    /** Kafka's answer to a request refused as a whole: the error for every partition it names. */
    private static TxnOffsetCommitResponseData everyPartition(TxnOffsetCommitRequestData data, Errors error) {
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        for (TxnOffsetCommitRequestTopic topic : data.topics()) {
            TxnOffsetCommitResponseTopic topicResult = new TxnOffsetCommitResponseTopic().setName(topic.name());
            for (TxnOffsetCommitRequestPartition p : topic.partitions()) {
                topicResult.partitions().add(new TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                        .setErrorCode(error.code()));
            }
            response.topics().add(topicResult);
        }
        return response;
    }
}
