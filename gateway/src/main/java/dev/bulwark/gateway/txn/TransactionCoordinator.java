package dev.bulwark.gateway.txn;

import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.storage.AppendResult;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ConcurrentTransactionsException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.InvalidTxnTimeoutException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The transaction coordinator, with Kafka's semantics: InitProducerId with a transactional id, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn, end-transaction markers, and the abort of transactions that outlive their time-out.
 *
 * <p>Every change of a transactional id is written to the {@link TransactionLog} and served only once durable. While
 * it is being written the transactional id answers CONCURRENT_TRANSACTIONS, as Kafka's pending transitions do; so does
 * a transaction whose end is decided and whose markers are still being written. Markers are written on the timer
 * executor, after the decision is durable and the producer has its answer (as Kafka's marker channel does), so the
 * coordinator's lock is never held while a partition's is taken. A transaction decided before a restart gets its
 * markers at {@link #start()}.
 *
 * <p>Errors are Kafka's {@link ApiException}s: the futures fail with them, and handlers answer
 * {@link Errors#forException}. Kafka's clients before the versions that know
 * PRODUCER_FENCED (InitProducerId v4, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn v2) must get
 * INVALID_PRODUCER_EPOCH instead; that mapping is the handlers'.
 *
 * <p>The groups of AddOffsetsToTxn are recorded with the transaction, and completed through {@link TransactionOffsets}
 * alongside the markers: a decided transaction becomes COMPLETE_COMMIT or COMPLETE_ABORT only once every partition has
 * its marker and every group its completion, durably.
 */
public final class TransactionCoordinator {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinator.class);

    /**
     * The coordinator epoch every marker carries. Kafka bumps it when another broker takes the transaction log over,
     * so partitions refuse markers from the coordinator it replaced; one process with one coordinator never has one.
     */
    static final int COORDINATOR_EPOCH = 0;

    private final TransactionLog log;
    private final ProducerIds producerIds;
    private final TransactionPartitions partitions;
    private final TransactionOffsets offsets;
    private final TransactionSettings settings;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    /** Every transactional id as durably written; guarded by this. */
    private final Map<TransactionalIdKey, TransactionMetadata> transactions = new HashMap<>();
    /** Transactional ids with a change being written; guarded by this. */
    private final Set<TransactionalIdKey> writing = new HashSet<>();

    public TransactionCoordinator(TransactionLog log, ProducerIds producerIds, TransactionPartitions partitions,
                                  TransactionOffsets offsets, TransactionSettings settings,
                                  ScheduledExecutorService timer, Clock clock) {
        this.log = log;
        this.producerIds = producerIds;
        this.partitions = partitions;
        this.offsets = offsets;
        this.settings = settings;
        this.timer = timer;
        this.clock = clock;
        transactions.putAll(log.all());
    }

    /**
     * Writes the markers and group completions of transactions decided before a restart, and starts the time-out and
     * expiration checks.
     */
    public void start() {
        List<Map.Entry<TransactionalIdKey, TransactionMetadata>> decided = new ArrayList<>();
        synchronized (this) {
            for (Map.Entry<TransactionalIdKey, TransactionMetadata> e : transactions.entrySet()) {
                if (e.getValue().state() == TransactionState.PREPARE_COMMIT
                        || e.getValue().state() == TransactionState.PREPARE_ABORT) {
                    decided.add(e);
                }
            }
        }
        decided.forEach(e -> timer.execute(() -> writeMarkers(e.getKey(), e.getValue(), e.getValue().partitions(),
                e.getValue().groups())));
        long interval = settings.abortTimedOutCheck().toMillis();
        timer.scheduleWithFixedDelay(this::abortTimedOutTransactions, interval, interval, TimeUnit.MILLISECONDS);
        long expirationCheck = settings.idExpirationCheck().toMillis();
        timer.scheduleWithFixedDelay(this::removeExpiredTransactionalIds, expirationCheck, expirationCheck,
                TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- InitProducerId

    /**
     * InitProducerId with a transactional id: the producer id (new for a new transactional id, or when the epoch is
     * exhausted) and the next epoch, which fences every older producer with this transactional id. An ongoing
     * transaction of an older producer is aborted first, and this call fails with CONCURRENT_TRANSACTIONS so that the
     * producer retries once the abort is done and is given an epoch of its own.
     *
     * @param expected the producer id and epoch a KIP-360 producer re-initializes from, if it names them
     */
    public CompletableFuture<ProducerIdAndEpoch> initProducerId(TransactionalIdKey key, int timeoutMs,
                                                                Optional<ProducerIdAndEpoch> expected) {
        return answer(() -> init(key, timeoutMs, expected));
    }

    private CompletableFuture<ProducerIdAndEpoch> init(TransactionalIdKey key, int timeoutMs,
                                                       Optional<ProducerIdAndEpoch> expected) {
        requireTransactionalId(key);
        if (timeoutMs <= 0 || timeoutMs > settings.maxTimeout().toMillis()) {
            throw new InvalidTxnTimeoutException("The transaction time-out " + timeoutMs + " ms is not in (0, "
                    + settings.maxTimeout().toMillis() + "] ms");
        }
        requireNotWriting(key);
        long now = clock.millis();
        TransactionMetadata known = transactions.get(key);
        TransactionMetadata current = known != null ? known
                : TransactionMetadata.fresh(nextProducerId(), timeoutMs, now);
        if (expected.isPresent() && !current.acceptsExpected(expected.get())) {
            throw new ProducerFencedException("Producer " + expected.get() + " of " + key
                    + " was replaced by producer id " + current.producerId());
        }
        TransactionState state = current.state();
        if (state == TransactionState.ONGOING) {
            fenceAndAbort(key, current, now);
            throw new ConcurrentTransactionsException("The ongoing transaction of " + key + " is being aborted");
        }
        if (state.isPreparing()) {
            throw new ConcurrentTransactionsException("The transaction of " + key + " is ending");
        }
        if (!state.isIdle()) {
            throw new IllegalStateException("InitProducerId found " + key + " in state " + state);
        }
        // An exhausted epoch moves to a new producer id, unless the producer names its previous epoch: that is the
        // retry of a bump whose answer was lost, and it gets the same answer again.
        boolean rotate = current.isEpochExhausted()
                && expected.map(e -> e.epoch() == current.producerEpoch()).orElse(true);
        TransactionMetadata next = rotate
                ? current.rotateProducerId(nextProducerId(), timeoutMs, expected.isPresent(), now)
                : current.bumpEpoch(timeoutMs, expected.map(ProducerIdAndEpoch::epoch), now);
        return write(key, next).thenApply(m -> new ProducerIdAndEpoch(m.producerId(), m.producerEpoch()));
    }

    private long nextProducerId() {
        try {
            return producerIds.next();
        } catch (IOException e) {
            LOG.error("allocating a producer id failed", e);
            throw new KafkaStorageException("A producer id could not be allocated", e);
        }
    }

    // ---------------------------------------------------------------- AddPartitionsToTxn, AddOffsetsToTxn

    /** AddPartitionsToTxn (a producer's request, v0-3, or a v4+ transaction without verifyOnly). */
    public CompletableFuture<Void> addPartitions(TransactionalIdKey key, long producerId, short producerEpoch,
                                                 Set<TopicPartition> added) {
        return answer(() -> add(key, producerId, producerEpoch, added));
    }

    private CompletableFuture<Void> add(TransactionalIdKey key, long producerId, short producerEpoch,
                                        Set<TopicPartition> added) {
        TransactionMetadata current = requireProducerMayAdd(key, producerId, producerEpoch);
        if (current.state() == TransactionState.ONGOING && current.partitions().containsAll(added)) {
            return CompletableFuture.completedFuture(null);
        }
        return write(key, current.addPartitions(added, clock.millis())).thenApply(m -> null);
    }

    /**
     * AddPartitionsToTxn v4+ with verifyOnly, as a broker asks before appending a transactional batch (KIP-890): per
     * partition NONE if it is in the producer's ongoing transaction, INVALID_TXN_STATE if not; the coordinator-level
     * error for every partition otherwise. Nothing is written.
     */
    public synchronized Map<TopicPartition, Errors> verifyPartitions(TransactionalIdKey key, long producerId,
                                                                     short producerEpoch,
                                                                     Set<TopicPartition> partitions) {
        Map<TopicPartition, Errors> verified = new HashMap<>();
        try {
            TransactionMetadata current = requireProducerMayAdd(key, producerId, producerEpoch);
            for (TopicPartition tp : partitions) {
                verified.put(tp, current.state() == TransactionState.ONGOING && current.partitions().contains(tp)
                        ? Errors.NONE : Errors.INVALID_TXN_STATE);
            }
        } catch (ApiException e) {
            Errors error = Errors.forException(e);
            partitions.forEach(tp -> verified.put(tp, error));
        }
        return verified;
    }

    /**
     * TxnOffsetCommit's question: NONE if {@code groupId} is in the producer's ongoing transaction (AddOffsetsToTxn),
     * INVALID_TXN_STATE if it is not, the coordinator-level error otherwise (as {@link #verifyPartitions}). Nothing is
     * written.
     */
    public synchronized Errors verifyGroup(TransactionalIdKey key, long producerId, short producerEpoch,
                                           String groupId) {
        try {
            TransactionMetadata current = requireProducerMayAdd(key, producerId, producerEpoch);
            return current.state() == TransactionState.ONGOING && current.groups().contains(groupId)
                    ? Errors.NONE : Errors.INVALID_TXN_STATE;
        } catch (ApiException e) {
            return Errors.forException(e);
        }
    }

    /**
     * Appends a producer's transactional batch to a partition only if the partition is in the producer's ongoing
     * transaction at the batch's epoch (KIP-890): otherwise the append does not happen and this fails with
     * INVALID_TXN_STATE, or the coordinator-level error (PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING,
     * CONCURRENT_TRANSACTIONS while the transaction is ending). Check and append run under the coordinator's lock, so
     * no decision, and therefore no marker, can come between them: a late retry can never land after its
     * transaction's marker and open a transaction that nothing ends. The append copies to the log without syncing.
     */
    public synchronized <T> T appendToTransaction(TransactionalIdKey key, long producerId, short producerEpoch,
                                                  TopicPartition partition, Supplier<T> append) {
        requireTransactionalId(key);
        TransactionMetadata current = requireProducerMayAdd(key, producerId, producerEpoch);
        if (current.state() != TransactionState.ONGOING || !current.partitions().contains(partition)) {
            throw new InvalidTxnStateException(partition + " was not added to the transaction of " + key);
        }
        return append.get();
    }

    /** AddOffsetsToTxn: the group's offset commits of this transaction commit or abort with it. */
    public CompletableFuture<Void> addOffsets(TransactionalIdKey key, long producerId, short producerEpoch,
                                              String groupId) {
        return answer(() -> addGroup(key, producerId, producerEpoch, groupId));
    }

    private CompletableFuture<Void> addGroup(TransactionalIdKey key, long producerId, short producerEpoch,
                                             String groupId) {
        TransactionMetadata current = requireProducerMayAdd(key, producerId, producerEpoch);
        if (current.state() == TransactionState.ONGOING && current.groups().contains(groupId)) {
            return CompletableFuture.completedFuture(null);
        }
        return write(key, current.addGroup(groupId, clock.millis())).thenApply(m -> null);
    }

    private TransactionMetadata requireProducerMayAdd(TransactionalIdKey key, long producerId, short producerEpoch) {
        TransactionMetadata current = requireProducer(key, producerId, producerEpoch);
        requireNotWriting(key);
        if (current.state().isPreparing()) {
            throw new ConcurrentTransactionsException("The transaction of " + key + " is ending");
        }
        return current;
    }

    // ---------------------------------------------------------------- EndTxn

    /**
     * EndTxn: decides the transaction, and completes once the decision is durable; the markers follow. A retry of the
     * same decision succeeds once done, and answers CONCURRENT_TRANSACTIONS while its markers are being written; the
     * opposite decision, or ending with no transaction, is INVALID_TXN_STATE.
     */
    public CompletableFuture<Void> endTransaction(TransactionalIdKey key, long producerId, short producerEpoch,
                                                  boolean commit) {
        return answer(() -> end(key, producerId, producerEpoch, commit));
    }

    private CompletableFuture<Void> end(TransactionalIdKey key, long producerId, short producerEpoch,
                                        boolean commit) {
        TransactionMetadata current = requireProducer(key, producerId, producerEpoch);
        requireNotWriting(key);
        TransactionState state = current.state();
        switch (state) {
            case ONGOING -> {
                return decide(key, current.prepareEnd(commit, clock.millis())).thenApply(m -> null);
            }
            case COMPLETE_COMMIT, COMPLETE_ABORT -> {
                if (commit == (state == TransactionState.COMPLETE_COMMIT)) {
                    return CompletableFuture.completedFuture(null);
                }
                throw new InvalidTxnStateException("The transaction of " + key + " already ended with " + state);
            }
            case PREPARE_COMMIT, PREPARE_ABORT -> {
                if (commit == (state == TransactionState.PREPARE_COMMIT)) {
                    throw new ConcurrentTransactionsException("The transaction of " + key + " is ending");
                }
                throw new InvalidTxnStateException("The transaction of " + key + " is already ending with " + state);
            }
            case EMPTY -> throw new InvalidTxnStateException(key + " has no transaction to end");
            default -> throw new IllegalStateException("EndTxn found " + key + " in state " + state);
        }
    }

    // ---------------------------------------------------------------- time-outs

    /** Fences and aborts every transaction that has outlived its time-out. */
    public synchronized void abortTimedOutTransactions() {
        long now = clock.millis();
        for (Map.Entry<TransactionalIdKey, TransactionMetadata> e : new ArrayList<>(transactions.entrySet())) {
            if (!writing.contains(e.getKey()) && e.getValue().hasTimedOut(now)) {
                LOG.info("aborting the transaction of {}: it outlived its time-out of {} ms", e.getKey(),
                        e.getValue().timeoutMs());
                fenceAndAbort(e.getKey(), e.getValue(), now);
            }
        }
    }

    /**
     * Forgets the transactional ids that had no transaction open for transactional.id.expiration.ms; a producer that
     * comes back with one is a new producer to the coordinator (INVALID_PRODUCER_ID_MAPPING until it re-initializes).
     */
    public synchronized void removeExpiredTransactionalIds() {
        long now = clock.millis();
        long expirationMs = settings.idExpiration().toMillis();
        for (Map.Entry<TransactionalIdKey, TransactionMetadata> e : new ArrayList<>(transactions.entrySet())) {
            TransactionalIdKey key = e.getKey();
            if (writing.contains(key) || !e.getValue().hasExpired(now, expirationMs)) {
                continue;
            }
            LOG.info("removing {}: no transaction for {} ms", key, expirationMs);
            CompletableFuture<Void> durable;
            try {
                durable = log.remove(key);
            } catch (RuntimeException failure) {
                LOG.error("removing {} failed", key, failure);
                continue;
            }
            writing.add(key);
            durable.whenComplete((done, failure) -> {
                synchronized (this) {
                    writing.remove(key);
                    if (failure == null) {
                        transactions.remove(key);
                    } else {
                        LOG.error("removing {} failed", key, failure);
                    }
                }
            });
        }
    }

    /**
     * Forgets the transactional ids of a tenant that is being deleted, durably when the future completes. An id
     * whose change is still being written is left for the caller to retry ({@link TenantRemoval#remaining}): its
     * completion would otherwise put it back. Its open transaction is not ended: the partitions it wrote to are
     * deleted with the tenant.
     */
    public synchronized TenantRemoval removeTenant(String tenantId) {
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        int removed = 0;
        int remaining = 0;
        for (TransactionalIdKey key : new ArrayList<>(transactions.keySet())) {
            if (!key.tenantId().equals(tenantId)) {
                continue;
            }
            if (writing.contains(key)) {
                remaining++;
                continue;
            }
            durable.add(log.remove(key));
            transactions.remove(key);
            removed++;
        }
        if (removed > 0) {
            LOG.info("tenant {}: {} transactional id(s) removed", tenantId, removed);
        }
        return new TenantRemoval(removed, remaining,
                CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)));
    }

    /**
     * @param removed   transactional ids removed by this call
     * @param remaining those with a change in flight, to remove by calling again
     * @param durable   completes when the removals are durable
     */
    public record TenantRemoval(int removed, int remaining, CompletableFuture<Void> durable) {
    }

    // ---------------------------------------------------------------- queries

    /** A transactional id as durably written; empty if never initialized (TRANSACTIONAL_ID_NOT_FOUND). */
    public synchronized Optional<TransactionMetadata> describe(TransactionalIdKey key) {
        return Optional.ofNullable(transactions.get(key));
    }

    /** A transactional id as ListTransactions shows it. */
    public record Listing(String transactionalId, long producerId, TransactionState state) {
    }

    /**
     * ListTransactions: the tenant's transactional ids that {@code filter} selects, by transactional id, as durably
     * written (a change being written shows once it is). Access control is the caller's.
     */
    public synchronized List<Listing> list(String tenantId, TransactionFilter filter) {
        long now = clock.millis();
        List<Listing> listed = new ArrayList<>();
        transactions.forEach((key, metadata) -> {
            if (key.tenantId().equals(tenantId) && filter.matches(key.transactionalId(), metadata, now)) {
                listed.add(new Listing(key.transactionalId(), metadata.producerId(), metadata.state()));
            }
        });
        listed.sort(Comparator.comparing(Listing::transactionalId));
        return listed;
    }

    // ---------------------------------------------------------------- steps

    /** Runs a request under the coordinator's lock; Kafka's errors fail the answer rather than the caller. */
    private synchronized <T> CompletableFuture<T> answer(Supplier<CompletableFuture<T>> request) {
        try {
            return request.get();
        } catch (ApiException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void requireTransactionalId(TransactionalIdKey key) {
        if (key.transactionalId() == null || key.transactionalId().isEmpty()) {
            throw new InvalidRequestException("The transactional id must not be empty");
        }
    }

    private void requireNotWriting(TransactionalIdKey key) {
        if (writing.contains(key)) {
            throw new ConcurrentTransactionsException("A change of " + key + " is being written");
        }
    }

    private TransactionMetadata requireProducer(TransactionalIdKey key, long producerId, short producerEpoch) {
        requireTransactionalId(key);
        TransactionMetadata current = transactions.get(key);
        if (current == null || current.producerId() != producerId) {
            throw new InvalidPidMappingException("Producer id " + producerId + " is not the one of " + key);
        }
        if (current.producerEpoch() != producerEpoch) {
            throw new ProducerFencedException("Epoch " + producerEpoch + " of producer " + producerId
                    + " is not its current epoch " + current.producerEpoch());
        }
        return current;
    }

    /** Bumps the epoch of an ongoing transaction's producer and aborts the transaction with the new epoch. */
    private void fenceAndAbort(TransactionalIdKey key, TransactionMetadata ongoing, long now) {
        decide(key, ongoing.fenceEpoch(now).prepareEnd(false, now));
    }

    /** Writes a decision; once durable, its markers go out. */
    private CompletableFuture<TransactionMetadata> decide(TransactionalIdKey key, TransactionMetadata prepared) {
        CompletableFuture<TransactionMetadata> durable = write(key, prepared);
        durable.thenAccept(m -> timer.execute(() -> writeMarkers(key, m, m.partitions(), m.groups())));
        return durable;
    }

    /**
     * Writes a change to the transaction log; it is served once durable. A failed write leaves the transactional id
     * as it was, and the request fails with COORDINATOR_NOT_AVAILABLE, which producers retry.
     */
    private CompletableFuture<TransactionMetadata> write(TransactionalIdKey key, TransactionMetadata next) {
        CompletableFuture<Void> durable;
        try {
            durable = log.write(key, next);
        } catch (RuntimeException e) {
            LOG.error("writing the metadata of {} failed", key, e);
            return CompletableFuture.failedFuture(new CoordinatorNotAvailableException("The transaction log failed"));
        }
        writing.add(key);
        return durable.handle((done, failure) -> {
            synchronized (this) {
                writing.remove(key);
                if (failure == null) {
                    transactions.put(key, next);
                    return next;
                }
            }
            LOG.error("writing the metadata of {} failed", key, failure);
            throw new CompletionException(new CoordinatorNotAvailableException("The transaction log failed"));
        });
    }

    /**
     * Writes the decided transaction's markers to {@code pending} of its partitions and completes it for
     * {@code pendingGroups} of its groups; partitions that refuse (offline) and groups whose completion fails are
     * tried again after the back-off, and once every partition has its marker and every group its completion the
     * transaction completes. A partition whose topic was deleted gets none.
     */
    private void writeMarkers(TransactionalIdKey key, TransactionMetadata prepared, Set<TopicPartition> pending,
                              Set<String> pendingGroups) {
        boolean commit = prepared.state() == TransactionState.PREPARE_COMMIT;
        ControlRecordType type = commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
        Set<TopicPartition> failed = ConcurrentHashMap.newKeySet();
        Set<String> failedGroups = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Void>> written = new ArrayList<>();
        for (TopicPartition tp : pending) {
            try {
                Optional<PartitionLog> partition = partitions.log(key.tenantId(), tp);
                if (partition.isEmpty()) {
                    LOG.info("no {} marker for {} of {}: the partition no longer exists", type, tp, key);
                    continue;
                }
                AppendResult marker = partition.get().appendControl(prepared.producerId(), prepared.producerEpoch(),
                        type, COORDINATOR_EPOCH, clock.millis());
                written.add(partition.get().awaitHighWatermark(marker.lastOffset()).exceptionally(failure -> {
                    LOG.warn("the {} marker of {} on {} was not made durable", type, key, tp, failure);
                    failed.add(tp);
                    return null;
                }));
            } catch (RuntimeException e) {
                LOG.warn("writing the {} marker of {} to {} failed; trying again", type, key, tp, e);
                failed.add(tp);
            }
        }
        for (String group : pendingGroups) {
            try {
                written.add(offsets.complete(key.tenantId(), group, prepared.producerId(), commit)
                        .exceptionally(failure -> {
                            LOG.warn("the {} of {} for group {} was not made durable", type, key, group, failure);
                            failedGroups.add(group);
                            return null;
                        }));
            } catch (RuntimeException e) {
                LOG.warn("completing the {} of {} for group {} failed; trying again", type, key, group, e);
                failedGroups.add(group);
            }
        }
        CompletableFuture.allOf(written.toArray(CompletableFuture[]::new)).thenRun(() -> {
            if (failed.isEmpty() && failedGroups.isEmpty()) {
                complete(key, prepared);
            } else {
                timer.schedule(() -> writeMarkers(key, prepared, Set.copyOf(failed), Set.copyOf(failedGroups)),
                        settings.markerRetryBackoff().toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    /** Every marker and group completion is durable: the transaction is complete (tried again after the back-off). */
    private synchronized void complete(TransactionalIdKey key, TransactionMetadata prepared) {
        write(key, prepared.complete(clock.millis())).whenComplete((done, failure) -> {
            if (failure != null) {
                timer.schedule(() -> complete(key, prepared), settings.markerRetryBackoff().toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        });
    }
}
