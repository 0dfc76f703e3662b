package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.AppendResult;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ConcurrentTransactionsException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData;
import org.apache.kafka.common.message.ProduceRequestData.TopicProduceData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Produce: appends each partition's batches, then answers by acks: 0 never (a failure closes the connection, as
 * Kafka does), 1 once written, -1 (all) once the high watermark passes the batch (fsynced, under the durable flush
 * policy), or REQUEST_TIMED_OUT after the request's timeout. A batch that would take the tenant past its
 * max-stored-bytes is not appended: its partition answers POLICY_VIOLATION, which Kafka clients do not retry, with a
 * message naming the limit. Needs WRITE on each topic (TOPIC_AUTHORIZATION_FAILED for the topic's partitions
 * otherwise) and, for a transactional produce, WRITE on the transactional id (the whole request fails with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise). A transactional batch is appended only to a partition of its
 * producer's ongoing transaction (see {@link TransactionCoordinator#appendToTransaction}).
 */
public final class ProduceHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final TransactionCoordinator transactions;
    private final AccessControl access;
    private final Rejections rejections = new Rejections();

    public ProduceHandler(TopicCatalog catalog, TransactionCoordinator transactions, AccessControl access) {
        this.catalog = catalog;
        this.transactions = transactions;
        this.access = access;
    }

    /**
     * Logs why batches were refused, at most once a second (with a count of the ones not logged), so a misbehaving
     * client cannot flood the log.
     */
    private static final class Rejections {
        private static final Logger LOG = LoggerFactory.getLogger(ProduceHandler.class);
        private final AtomicLong lastLogged = new AtomicLong();
        private final AtomicLong suppressed = new AtomicLong();

        void report(Request request, String topic, int partition, ApiException error) {
            long now = System.currentTimeMillis();
            long last = lastLogged.get();
            if (now - last < 1000 || !lastLogged.compareAndSet(last, now)) {
                suppressed.incrementAndGet();
                return;
            }
            long skipped = suppressed.getAndSet(0);
            LOG.warn("refused a produce to {}-{} from client {} at {}: {}: {}{}", topic, partition,
                    request.context().clientId(), request.context().clientAddress().getHostAddress(),
                    Errors.forException(error), error.getMessage(),
                    skipped > 0 ? " (" + skipped + " more refusals not logged)" : "");
        }
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        ProduceRequestData data = request.data();
        if (data.transactionalId() != null
                && !access.transactionalId(request, AclOperation.WRITE, data.transactionalId())) {
            if (data.acks() == 0) {
                return CompletableFuture.completedFuture(new Reply.Close("a produce with acks=0 failed"));
            }
            throw new TransactionalIdAuthorizationException("not authorized to use transactional id "
                    + data.transactionalId());
        }
        short acks = data.acks();
        Subject producer = access.subject(request);
        boolean byId = request.version() >= 13;
        ProduceResponseData response = new ProduceResponseData();
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        boolean failed = false;
        for (TopicProduceData topicData : data.topicData()) {
            TopicProduceResponse topicResponse = new TopicProduceResponse();
            Optional<TopicMetadata> topic;
            Errors unknown;
            if (byId) {
                topicResponse.setTopicId(topicData.topicId());
                topic = topics.byId(topicData.topicId());
                unknown = Errors.UNKNOWN_TOPIC_ID;
            } else {
                topicResponse.setName(topicData.name());
                topic = topics.byName(topicData.name());
                unknown = Errors.UNKNOWN_TOPIC_OR_PARTITION;
            }
            boolean authorized = byId ? topic.isEmpty() || access.topic(producer, AclOperation.WRITE, topic.get().name())
                    : access.topic(producer, AclOperation.WRITE, topicData.name());
            for (PartitionProduceData partitionData : topicData.partitionData()) {
                PartitionProduceResponse result = new PartitionProduceResponse().setIndex(partitionData.index());
                topicResponse.partitionResponses().add(result);
                Optional<PartitionLog> log = topic.flatMap(t -> topics.partition(t, partitionData.index()));
                if (acks != 0 && acks != 1 && acks != -1) {
                    failed |= fail(result, Errors.INVALID_REQUIRED_ACKS, null);
                } else if (!authorized) {
                    failed |= fail(result, Errors.TOPIC_AUTHORIZATION_FAILED, null);
                } else if (log.isEmpty()) {
                    failed |= fail(result, topic.isEmpty() ? unknown : Errors.UNKNOWN_TOPIC_OR_PARTITION, null);
                } else if (!(partitionData.records() instanceof MemoryRecords records)) {
                    failed |= fail(result, Errors.CORRUPT_MESSAGE, "no record batches");
                } else if (acks == -1 && log.get().config().minInSyncReplicas > 1) {
                    failed |= fail(result, Errors.NOT_ENOUGH_REPLICAS, "min.insync.replicas is "
                            + log.get().config().minInSyncReplicas + " but Bulwark keeps one replica");
                } else {
                    long reserved = 0;
                    try {
                        reserved = topics.reserveStorage(records.sizeInBytes());
                        PartitionLog partition = log.get();
                        Iterator<MutableRecordBatch> batches = records.batches().iterator();
                        RecordBatch first = batches.hasNext() ? batches.next() : null;
                        AppendResult appended = first != null && first.isTransactional()
                                ? appendTransactional(request.tenantId(), data.transactionalId(),
                                new TopicPartition(topic.get().name(), partitionData.index()), first, partition, records)
                                : partition.append(records);
                        if (appended.duplicate() || appended.lastOffset() < 0) {
                            topics.releaseStorage(reserved);
                        }
                        result.setBaseOffset(appended.firstOffset())
                                .setLogAppendTimeMs(appended.logAppendTime())
                                .setLogStartOffset(appended.logStartOffset());
                        if (acks == -1 && appended.lastOffset() >= 0) {
                            waits.add(awaitAcknowledgeable(log.get(), appended.lastOffset(), data.timeoutMs(), result));
                        }
                    } catch (ApiException e) {
                        topics.releaseStorage(reserved);
                        rejections.report(request, topic.map(TopicMetadata::name).orElse(null),
                                partitionData.index(), e);
                        failed |= fail(result, Errors.forException(e), e.getMessage());
                    }
                }
            }
            response.responses().add(topicResponse);
        }
        if (acks == 0) {
            return CompletableFuture.completedFuture(failed ? new Reply.Close("a produce with acks=0 failed")
                    : new Reply.NoResponse());
        }
        if (waits.isEmpty()) {
            return Reply.completed(response);
        }
        return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).thenApply(ignored -> Reply.of(response));
    }

    /**
     * A transactional batch is appended only while its partition is in its producer's ongoing transaction (KIP-890).
     * The coordinator's retriable answers become NOT_ENOUGH_REPLICAS, which every producer retries without refreshing
     * metadata, as Kafka answers them.
     */
    private AppendResult appendTransactional(String tenantId, String transactionalId, TopicPartition partition,
                                             RecordBatch batch, PartitionLog log, MemoryRecords records) {
        if (transactionalId == null) {
            throw new InvalidTxnStateException("a transactional batch needs the produce request's transactional id");
        }
        try {
            return transactions.appendToTransaction(new TransactionalIdKey(tenantId, transactionalId),
                    batch.producerId(), batch.producerEpoch(), partition, () -> log.append(records));
        } catch (ConcurrentTransactionsException | CoordinatorNotAvailableException e) {
            throw new NotEnoughReplicasException("the partition's transaction could not be verified: "
                    + e.getMessage());
        }
    }

    private static CompletableFuture<Void> awaitAcknowledgeable(PartitionLog log, long lastOffset, int timeoutMs,
                                                               PartitionProduceResponse result) {
        return log.awaitHighWatermark(lastOffset)
                .orTimeout(Math.max(timeoutMs, 0), TimeUnit.MILLISECONDS)
                .exceptionally(error -> {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause() : error;
                    Errors code = cause instanceof TimeoutException ? Errors.REQUEST_TIMED_OUT : Errors.forException(cause);
                    fail(result, code, cause.getMessage());
                    return null;
                });
    }

    private static boolean fail(PartitionProduceResponse result, Errors error, String message) {
        result.setErrorCode(error.code())
                .setErrorMessage(message)
                .setBaseOffset(-1)
                .setLogAppendTimeMs(-1)
                .setLogStartOffset(-1);
        return true;
    }
}
