package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.network.ByteBufRecords;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.AbortedTransaction;
import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.FetchMetadata;
import org.apache.kafka.common.requests.FetchRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.CompletionStage;

/**
 * Fetch for consumers: incremental fetch sessions, long polling (max_wait_ms, min_bytes), the response and
 * per-partition byte limits (at least one whole batch, KIP-74), OFFSET_OUT_OF_RANGE, reads bounded by the high
 * watermark. Stored batches go out as read from disk, without re-encoding. Each partition needs READ on its topic
 * (TOPIC_AUTHORIZATION_FAILED otherwise, checked again on every fetch of a session).
 */
public final class FetchHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(FetchHandler.class);
    /** Below this many bytes to open, handing slices to other threads costs more than it saves. */
    private static final long PARALLEL_OPEN_BYTES = 256 * 1024;

    private final TopicCatalog catalog;
    private final FetchSessions sessions;
    private final FetchPurgatory purgatory;
    private final AccessControl access;
    private final Executor openers;

    /**
     * @param openers opens (decrypts) the slices of a large fetch beside the request thread; its tasks never wait on
     *                anything, so any pool will do
     */
    public FetchHandler(TopicCatalog catalog, FetchSessions sessions, FetchPurgatory purgatory,
                        AccessControl access, Executor openers) {
        this.access = access;
        this.catalog = catalog;
        this.sessions = sessions;
        this.purgatory = purgatory;
        this.openers = openers;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        FetchRequest fetch = (FetchRequest) request.body();
        FetchRequestData data = fetch.data();
        short version = request.version();
        Map<Uuid, String> names = new HashMap<>();
        if (version >= 13) {
            for (FetchRequestData.FetchTopic topic : data.topics()) {
                topics.byId(topic.topicId()).ifPresent(t -> names.put(t.id(), t.name()));
            }
            for (FetchRequestData.ForgottenTopic topic : data.forgottenTopicsData()) {
                topics.byId(topic.topicId()).ifPresent(t -> names.put(t.id(), t.name()));
            }
        }
        LinkedHashMap<TopicIdPartition, FetchSessions.Entry> requested = new LinkedHashMap<>();
        fetch.fetchData(names).forEach((partition, wanted) -> requested.put(partition,
                new FetchSessions.Entry(wanted.fetchOffset, wanted.maxBytes, wanted.currentLeaderEpoch.orElse(-1))));

        FetchMetadata metadata = fetch.metadata();
        FetchSessions.Session session = null;
        boolean incremental = false;
        int responseSessionId = FetchMetadata.INVALID_SESSION_ID;
        LinkedHashMap<TopicIdPartition, FetchSessions.Entry> partitions = requested;
        if (version >= 7 && !metadata.isFull()) {
            session = sessions.get(request.tenantId(), metadata.sessionId());
            if (session == null) {
                return Reply.completed(topLevelError(Errors.FETCH_SESSION_ID_NOT_FOUND));
            }
            synchronized (session) {
                if (session.epoch != metadata.epoch()) {
                    return Reply.completed(topLevelError(Errors.INVALID_FETCH_SESSION_EPOCH));
                }
                for (Map.Entry<TopicIdPartition, FetchSessions.Entry> update : requested.entrySet()) {
                    FetchSessions.Entry existing = session.partitions.get(update.getKey());
                    if (existing == null) {
                        session.partitions.put(update.getKey(), update.getValue());
                    } else {
                        existing.fetchOffset = update.getValue().fetchOffset;
                        existing.maxBytes = update.getValue().maxBytes;
                        existing.currentLeaderEpoch = update.getValue().currentLeaderEpoch;
                    }
                }
                for (TopicIdPartition forgotten : fetch.forgottenTopics(names)) {
                    session.partitions.remove(forgotten);
                }
                session.epoch = FetchMetadata.nextEpoch(session.epoch);
            }
            incremental = true;
            responseSessionId = session.id;
            partitions = session.partitions;
        } else if (version >= 7) {
            if (metadata.sessionId() != FetchMetadata.INVALID_SESSION_ID) {
                sessions.remove(request.tenantId(), metadata.sessionId());
            }
            if (metadata.epoch() == FetchMetadata.INITIAL_EPOCH && fetch.replicaId() < 0) {
                session = sessions.create(request.tenantId(), requested);
                if (session != null) {
                    responseSessionId = session.id;
                    partitions = session.partitions;
                }
            }
        }
        Operation operation = new Operation(request, topics, fetch, session, partitions, incremental,
                responseSessionId);
        if (operation.tryComplete(data.maxWaitMs() <= 0)) {
            return operation.result;
        }
        purgatory.watch(operation, operation.logs(), data.maxWaitMs());
        return operation.result;
    }

    private static FetchResponseData topLevelError(Errors error) {
        return new FetchResponseData().setErrorCode(error.code()).setSessionId(FetchMetadata.INVALID_SESSION_ID);
    }

    /** One fetch from arrival to response; completes once, from the handler or from the purgatory. */
    private final class Operation implements FetchPurgatory.Waiting {
        final Request request;
        final Topics topics;
        final FetchRequest fetch;
        final FetchSessions.Session session;
        final LinkedHashMap<TopicIdPartition, FetchSessions.Entry> partitions;
        final boolean incremental;
        final int responseSessionId;
        final boolean byId;
        /** Who fetches, built once: authorization is asked again on every check of a long poll. */
        final Subject fetcher;
        final IsolationLevel isolation;
        final boolean readCommitted;
        final CompletableFuture<Reply> result = new CompletableFuture<>();
        private boolean done;

        Operation(Request request, Topics topics, FetchRequest fetch, FetchSessions.Session session,
                  LinkedHashMap<TopicIdPartition, FetchSessions.Entry> partitions, boolean incremental,
                  int responseSessionId) {
            this.request = request;
            this.topics = topics;
            this.fetch = fetch;
            this.session = session;
            this.partitions = partitions;
            this.incremental = incremental;
            this.responseSessionId = responseSessionId;
            this.byId = request.version() >= 13;
            this.fetcher = access.subject(request);
            this.isolation = fetch.isolationLevel();
            this.readCommitted = isolation == IsolationLevel.READ_COMMITTED;
        }

        List<PartitionLog> logs() {
            List<PartitionLog> logs = new ArrayList<>();
            for (TopicIdPartition partition : snapshot().keySet()) {
                resolve(partition).ifPresent(logs::add);
            }
            return logs;
        }

        private LinkedHashMap<TopicIdPartition, FetchSessions.Entry> snapshot() {
            if (session == null) {
                return partitions;
            }
            synchronized (session) {
                return new LinkedHashMap<>(partitions);
            }
        }

        /** The partition's log, if it exists and the sender may READ it. */
        private Optional<PartitionLog> resolve(TopicIdPartition partition) {
            Optional<TopicMetadata> topic = byId ? topics.byId(partition.topicId())
                    : topics.byName(partition.topic());
            return topic.filter(t -> access.topic(fetcher, AclOperation.READ, t.name()))
                    .flatMap(t -> topics.partition(t, partition.partition()));
        }

        @Override
        public synchronized boolean tryComplete(boolean expired) {
            if (done) {
                return true;
            }
            if (!expired && !enoughData()) {
                return false;
            }
            done = true;
            try {
                result.complete(respond());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
            return true;
        }

        /** Whether min_bytes are available, or some partition must be answered now (an error). */
        private boolean enoughData() {
            int minBytes = fetch.minBytes();
            long available = 0;
            for (Map.Entry<TopicIdPartition, FetchSessions.Entry> e : snapshot().entrySet()) {
                Optional<PartitionLog> log = resolve(e.getKey());
                if (log.isEmpty() || log.get().isOffline()) {
                    return true;
                }
                long offset = e.getValue().fetchOffset;
                PartitionLog partition = log.get();
                if (offset < partition.logStartOffset() || offset > partition.logEndOffset()) {
                    return true;
                }
                // A read-committed fetch waits for the last stable offset, which a marker moves (with the high
                // watermark that wakes the purgatory).
                if ((readCommitted ? partition.lastStableOffset() : partition.highWatermark()) <= offset) {
                    continue;
                }
                if (minBytes <= 1) {
                    return true;
                }
                try {
                    available += partition.read(offset, e.getValue().maxBytes, true, isolation).slice()
                            .map(LogSlice::length).orElse(0);
                } catch (ApiException error) {
                    return true;
                }
                if (available >= minBytes) {
                    return true;
                }
            }
            return false;
        }

        private Reply respond() {
            FetchResponseData response = new FetchResponseData().setSessionId(responseSessionId);
            List<PartitionRead> reads = new ArrayList<>();
            long remaining = fetch.maxBytes();
            boolean anyRecords = false;
            for (Map.Entry<TopicIdPartition, FetchSessions.Entry> e : snapshot().entrySet()) {
                PartitionRead read = read(e.getKey(), e.getValue(),
                        (int) Math.min(Integer.MAX_VALUE, Math.max(remaining, 0)), !anyRecords);
                remaining -= read.bytes();
                anyRecords |= read.bytes() > 0;
                reads.add(read);
            }
            List<ByteBuf> buffers = openAll(reads);
            Map<Object, FetchableTopicResponse> byTopic = new LinkedHashMap<>();
            List<TopicIdPartition> rotate = new ArrayList<>();
            for (PartitionRead read : reads) {
                PartitionData partition = read.partition;
                int bytes = partition.records().sizeInBytes();
                boolean include;
                if (session != null) {
                    synchronized (session) {
                        boolean changed = read.entry.changedBy(partition.highWatermark(),
                                partition.lastStableOffset(), partition.logStartOffset());
                        include = !incremental || bytes > 0 || partition.errorCode() != Errors.NONE.code() || changed;
                    }
                    if (bytes > 0) {
                        rotate.add(read.key);
                    }
                } else {
                    include = true;
                }
                if (include) {
                    TopicIdPartition key = read.key;
                    Object topicKey = byId ? key.topicId() : key.topic();
                    byTopic.computeIfAbsent(topicKey, k -> byId
                            ? new FetchableTopicResponse().setTopicId(key.topicId())
                            : new FetchableTopicResponse().setTopic(key.topic())).partitions().add(partition);
                }
            }
            if (session != null && !rotate.isEmpty()) {
                synchronized (session) {
                    rotate.forEach(session::rotateToEnd);
                }
            }
            response.setResponses(new ArrayList<>(byTopic.values()));
            return new Reply.Respond(response, () -> buffers.forEach(ByteBuf::release));
        }

        /**
         * Opens every slice read into a buffer of its own and sets it as its partition's records; a slice that does
         * not open makes its partition a KAFKA_STORAGE_ERROR. Opening decrypts, which on a large fetch takes far
         * longer than finding the slices, so a fetch of several large slices opens them in parallel
         * ({@link #openers}); the request thread opens the first itself. Returns the buffers, to release once the
         * response is written.
         */
        private List<ByteBuf> openAll(List<PartitionRead> reads) {
            List<PartitionRead> pending = new ArrayList<>();
            long pendingBytes = 0;
            for (PartitionRead read : reads) {
                if (read.slice != null) {
                    pending.add(read);
                    pendingBytes += read.slice.length();
                }
            }
            List<ByteBuf> buffers = new ArrayList<>(pending.size());
            for (PartitionRead read : pending) {
                read.buffer = ByteBufAllocator.DEFAULT.directBuffer(read.slice.length());
                buffers.add(read.buffer);
            }
            if (pending.size() < 2 || pendingBytes < PARALLEL_OPEN_BYTES) {
                pending.forEach(PartitionRead::open);
                return buffers;
            }
            List<CompletableFuture<Void>> others = new ArrayList<>(pending.size() - 1);
            for (PartitionRead read : pending.subList(1, pending.size())) {
                others.add(CompletableFuture.runAsync(read::open, openers));
            }
            pending.get(0).open();
            others.forEach(CompletableFuture::join);
            return buffers;
        }

        private PartitionRead read(TopicIdPartition key, FetchSessions.Entry entry, int remaining, boolean first) {
            PartitionRead read = new PartitionRead(key, entry);
            PartitionData partition = read.partition;
            if (fetch.replicaId() >= 0) {
                return read.fail(Errors.NOT_LEADER_OR_FOLLOWER);
            }
            if (!byId && !access.topic(fetcher, AclOperation.READ, key.topic())) {
                return read.fail(Errors.TOPIC_AUTHORIZATION_FAILED);
            }
            Optional<TopicMetadata> topic = byId ? topics.byId(key.topicId()) : topics.byName(key.topic());
            if (byId && topic.isPresent() && !access.topic(fetcher, AclOperation.READ, topic.get().name())) {
                return read.fail(Errors.TOPIC_AUTHORIZATION_FAILED);
            }
            if (topic.isEmpty()) {
                return read.fail(byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
            Optional<PartitionLog> log = topics.partition(topic.get(), key.partition());
            if (log.isEmpty()) {
                return read.fail(Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
            if (entry.currentLeaderEpoch > PartitionLog.LEADER_EPOCH) {
                return read.fail(Errors.UNKNOWN_LEADER_EPOCH);
            }
            int limit = Math.min(entry.maxBytes, remaining);
            try {
                PartitionLog.LogRead logRead = log.get().read(entry.fetchOffset, limit, first, isolation);
                partition.setHighWatermark(logRead.highWatermark())
                        .setLastStableOffset(logRead.lastStableOffset())
                        .setLogStartOffset(logRead.logStartOffset())
                        .setAbortedTransactions(readCommitted ? new ArrayList<>() : null);
                if (readCommitted && logRead.slice().isPresent()) {
                    // Bounded by the last stable offset rather than the slice's end: a superset the consumer
                    // matches against the batches it gets, without decoding the slice here.
                    for (AbortedTransaction aborted : log.get().collectAbortedTransactions(entry.fetchOffset,
                            logRead.lastStableOffset())) {
                        partition.abortedTransactions().add(new FetchResponseData.AbortedTransaction()
                                .setProducerId(aborted.producerId()).setFirstOffset(aborted.firstOffset()));
                    }
                }
                read.slice = logRead.slice().orElse(null);
                return read;
            } catch (ApiException e) {
                return read.fail(Errors.forException(e));
            }
        }
    }

    /**
     * One partition of a fetch: its answer, and the slice still to open into its buffer. The slice is opened on one
     * thread while the others wait for it ({@link Operation#openAll}), which publishes what it set.
     */
    private static final class PartitionRead {
        final TopicIdPartition key;
        final FetchSessions.Entry entry;
        final PartitionData partition;
        LogSlice slice;
        ByteBuf buffer;

        PartitionRead(TopicIdPartition key, FetchSessions.Entry entry) {
            this.key = key;
            this.entry = entry;
            this.partition = new PartitionData().setPartitionIndex(key.partition()).setRecords(MemoryRecords.EMPTY);
        }

        /** The bytes this partition adds to the response, as the consumer gets them. */
        int bytes() {
            return slice == null ? 0 : slice.length();
        }

        PartitionRead fail(Errors error) {
            slice = null;
            partition.setErrorCode(error.code()).setHighWatermark(-1).setLastStableOffset(-1)
                    .setLogStartOffset(-1).setRecords(MemoryRecords.EMPTY);
            return this;
        }

        /** Opens the slice into the buffer; a batch that does not open is never served: the partition fails. */
        void open() {
            try {
                slice.readInto(buffer.nioBuffer(0, slice.length()));
                buffer.writerIndex(slice.length());
                partition.setRecords(new ByteBufRecords(buffer));
            } catch (IOException e) {
                LOG.error("reading {} at offset {} failed", key, entry.fetchOffset, e);
                fail(Errors.KAFKA_STORAGE_ERROR);
            } catch (ApiException e) {
                fail(Errors.forException(e));
            }
        }
    }
}
