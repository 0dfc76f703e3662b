package dev.bulwark.gateway.txn;

import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.AbortedTransaction;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transaction coordinator on a real log store and a manual clock: InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn with Kafka's errors, markers on the partitions, group completions, fencing, time-outs,
 * and restarts.
 */
class TransactionCoordinatorTest {

    private static final String TENANT = "tenant-a";
    private static final TransactionalIdKey APP = new TransactionalIdKey(TENANT, "app");
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);
    private static final int TIMEOUT_MS = 60_000;
    private static final TransactionSettings SETTINGS = new TransactionSettings(Duration.ofMinutes(15),
            Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofDays(7), Duration.ofHours(1));

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private final List<LogManager> opened = new ArrayList<>();
    private final Map<TopicPartition, PartitionLog> partitionLogs = new HashMap<>();
    /** While set, every partition refuses markers, as an offline partition does. */
    private boolean partitionsOffline;
    /** Every group completion the coordinator asked for, in order. */
    private final List<GroupCompletion> groupCompletions = new ArrayList<>();
    /** How the next group completions are answered; done at once unless a test says otherwise. */
    private final List<CompletableFuture<Void>> groupAnswers = new ArrayList<>();
    private Path dataDir;
    private SealedFiles sealedFiles;
    private LogManager logs;
    private TransactionLog transactionLog;
    private TransactionCoordinator coordinator;

    @BeforeEach
    void open() throws IOException {
        dataDir = dir.resolve("data");
        sealedFiles = TestLogs.sealedFiles(dir);
        reopen();
    }

    @AfterEach
    void close() throws IOException {
        for (LogManager manager : opened) {
            manager.close();
        }
    }

    private void reopen() throws IOException {
        logs = TestLogs.open(dataDir, time.clock());
        opened.add(logs);
        partitionLogs.clear();
        for (TopicPartition tp : List.of(ORDERS_0, ORDERS_1)) {
            partitionLogs.put(tp, logs.internalLog(tp.topic() + "-" + tp.partition(), Map.of()));
        }
        transactionLog = TransactionLog.open(logs.internalLog("transaction-state", Map.of()),
                dataDir.resolve("transaction-state.snapshot"), sealedFiles, time.clock());
        coordinator = new TransactionCoordinator(transactionLog, ProducerIds.open(dataDir.resolve("producer-ids")),
                this::partition, this::completeGroup, SETTINGS, time, time.clock());
        coordinator.start();
    }

    private Optional<PartitionLog> partition(String tenantId, TopicPartition tp) {
        if (partitionsOffline) {
            throw new KafkaStorageException("partition " + tp + " is offline");
        }
        return tenantId.equals(TENANT) ? Optional.ofNullable(partitionLogs.get(tp)) : Optional.empty();
    }

    private record GroupCompletion(String tenantId, String groupId, long producerId, boolean commit) {
    }

    private CompletableFuture<Void> completeGroup(String tenantId, String groupId, long producerId, boolean commit) {
        groupCompletions.add(new GroupCompletion(tenantId, groupId, producerId, commit));
        return groupAnswers.isEmpty() ? CompletableFuture.completedFuture(null) : groupAnswers.remove(0);
    }

    private void restartCleanly() throws IOException {
        logs.close();
        opened.remove(logs);
        reopen();
    }

    // ---------------------------------------------------------------- helpers

    private static <T> T ok(CompletableFuture<T> future) {
        assertTrue(future.isDone(), "answered at once: the test's log store acknowledges on write");
        return future.join();
    }

    private static Errors error(CompletableFuture<?> future) {
        assertTrue(future.isDone());
        try {
            future.get();
        } catch (ExecutionException e) {
            return Errors.forException(e.getCause());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return Errors.NONE;
    }

    private ProducerIdAndEpoch init(TransactionalIdKey key) {
        return ok(coordinator.initProducerId(key, TIMEOUT_MS, Optional.empty()));
    }

    /** A transactional batch of the producer on {@code tp}, as Produce appends it. */
    private void produce(ProducerIdAndEpoch producer, TopicPartition tp, int sequence) {
        partitionLogs.get(tp).append(MemoryRecords.withTransactionalRecords(Compression.NONE, producer.producerId(),
                producer.epoch(), sequence, new SimpleRecord(time.nowMs(), "v".getBytes(StandardCharsets.UTF_8))));
    }

    private ProducerIdAndEpoch beginWithRecords(TopicPartition... tps) {
        ProducerIdAndEpoch producer = init(APP);
        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(tps)));
        for (TopicPartition tp : tps) {
            produce(producer, tp, 0);
        }
        return producer;
    }

    private TransactionMetadata metadata() {
        return coordinator.describe(APP).orElseThrow();
    }

    private boolean decidedEverywhere(TopicPartition tp) {
        PartitionLog log = partitionLogs.get(tp);
        return log.lastStableOffset() == log.logEndOffset();
    }

    // ---------------------------------------------------------------- InitProducerId

    @Test
    void initGivesAProducerIdAndEachReinitBumpsTheEpoch() {
        ProducerIdAndEpoch first = init(APP);
        ProducerIdAndEpoch second = init(APP);

        assertEquals(0, first.epoch());
        assertEquals(first.producerId(), second.producerId());
        assertEquals(1, second.epoch());
        assertEquals(TransactionState.EMPTY, metadata().state());
        assertEquals(TIMEOUT_MS, metadata().timeoutMs());
    }

    @Test
    void theSameTransactionalIdInTwoTenantsIsTwoProducers() {
        TransactionalIdKey other = new TransactionalIdKey("tenant-b", APP.transactionalId());
        ProducerIdAndEpoch mine = init(APP);
        ProducerIdAndEpoch theirs = init(other);
        init(other);

        assertNotEquals(mine.producerId(), theirs.producerId());
        assertEquals(Errors.NONE, error(coordinator.addPartitions(APP, mine.producerId(), mine.epoch(),
                Set.of(ORDERS_0))), "the other tenant's InitProducerId fenced nobody here");
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, error(coordinator.addPartitions(other, mine.producerId(),
                mine.epoch(), Set.of(ORDERS_0))));
    }

    @Test
    void removingATenantForgetsItsTransactionalIdsDurablyAndNoOthers() throws IOException {
        TransactionalIdKey other = new TransactionalIdKey("tenant-b", APP.transactionalId());
        TransactionalIdKey ongoing = new TransactionalIdKey(TENANT, "ongoing");
        init(APP);
        init(other);
        ProducerIdAndEpoch open = init(ongoing);
        assertEquals(Errors.NONE, error(coordinator.addPartitions(ongoing, open.producerId(), open.epoch(),
                Set.of(ORDERS_0))));

        TransactionCoordinator.TenantRemoval removal = coordinator.removeTenant(TENANT);
        ok(removal.durable());

        assertEquals(2, removal.removed());
        assertEquals(0, removal.remaining());
        assertTrue(coordinator.describe(APP).isEmpty());
        assertTrue(coordinator.describe(ongoing).isEmpty());
        assertTrue(coordinator.describe(other).isPresent());
        transactionLog.maybeSnapshot(0);
        restartCleanly();
        assertTrue(coordinator.describe(APP).isEmpty(), "the removal is durable");
        assertTrue(coordinator.describe(other).isPresent());
    }

    @Test
    void initRefusesBadRequests() {
        assertEquals(Errors.INVALID_REQUEST, error(coordinator.initProducerId(new TransactionalIdKey(TENANT, ""),
                TIMEOUT_MS, Optional.empty())));
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT, error(coordinator.initProducerId(APP,
                (int) Duration.ofMinutes(16).toMillis(), Optional.empty())));
        assertEquals(Errors.INVALID_TRANSACTION_TIMEOUT, error(coordinator.initProducerId(APP, 0, Optional.empty())));
        assertTrue(coordinator.describe(APP).isEmpty(), "nothing is written for a refused request");
    }

    @Test
    void aKip360ProducerReinitializesFromItsCurrentEpochOnly() {
        ProducerIdAndEpoch first = init(APP);

        ProducerIdAndEpoch bumped = ok(coordinator.initProducerId(APP, TIMEOUT_MS, Optional.of(first)));
        assertEquals(new ProducerIdAndEpoch(first.producerId(), (short) 1), bumped);
        assertEquals(bumped, ok(coordinator.initProducerId(APP, TIMEOUT_MS, Optional.of(first))),
                "a retry whose answer was lost gets the same epoch");

        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.of(new ProducerIdAndEpoch(first.producerId() + 100, (short) 0)))));
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.of(new ProducerIdAndEpoch(first.producerId(), (short) 7)))));
    }

    @Test
    void anExhaustedEpochMovesToANewProducerId() throws IOException {
        short exhausted = (short) (Short.MAX_VALUE - 1);
        ok(transactionLog.write(APP, new TransactionMetadata(5, -1, exhausted, (short) -1, TIMEOUT_MS,
                TransactionState.COMPLETE_COMMIT, Set.of(), Set.of(), 1, 1)));
        restartCleanly();

        ProducerIdAndEpoch rotated = ok(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.of(new ProducerIdAndEpoch(5, exhausted))));

        assertNotEquals(5, rotated.producerId());
        assertEquals(0, rotated.epoch());
        assertEquals(rotated, ok(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.of(new ProducerIdAndEpoch(5, exhausted)))), "the retry of the rotation gets the same answer");
    }

    @Test
    void theRetryOfABumpToAnExhaustedEpochGetsTheSameAnswerRatherThanANewProducerId() throws IOException {
        short exhausted = (short) (Short.MAX_VALUE - 1);
        ok(transactionLog.write(APP, new TransactionMetadata(5, -1, exhausted, (short) (exhausted - 1), TIMEOUT_MS,
                TransactionState.EMPTY, Set.of(), Set.of(), -1, 1)));
        restartCleanly();

        assertEquals(new ProducerIdAndEpoch(5, exhausted), ok(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.of(new ProducerIdAndEpoch(5, (short) (exhausted - 1))))));
    }

    @Test
    void aNewProducerAbortsTheOngoingTransactionOfTheOldOneAndFencesIt() {
        ProducerIdAndEpoch old = beginWithRecords(ORDERS_0);

        assertEquals(Errors.CONCURRENT_TRANSACTIONS, error(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.empty())), "the producer retries once the abort is done");
        assertEquals(TransactionState.PREPARE_ABORT, metadata().state());
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, error(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.empty())), "while the markers are being written");
        time.runDue();

        assertEquals(TransactionState.COMPLETE_ABORT, metadata().state());
        assertTrue(decidedEverywhere(ORDERS_0));
        assertEquals(List.of(old.producerId()), partitionLogs.get(ORDERS_0).collectAbortedTransactions(0,
                partitionLogs.get(ORDERS_0).logEndOffset()).stream().map(AbortedTransaction::producerId).toList());
        ProducerIdAndEpoch replacement = init(APP);
        assertEquals(2, replacement.epoch(), "one bump fenced the old producer, one more is the new one's");
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.addPartitions(APP, old.producerId(), old.epoch(),
                Set.of(ORDERS_1))));
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.endTransaction(APP, old.producerId(), old.epoch(),
                true)));
    }

    // ---------------------------------------------------------------- AddPartitionsToTxn, AddOffsetsToTxn

    @Test
    void addingPartitionsStartsTheTransactionOnce() {
        ProducerIdAndEpoch producer = init(APP);
        long start = time.nowMs();

        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)));
        time.advance(Duration.ofSeconds(1));
        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(ORDERS_0, ORDERS_1)));
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));

        assertEquals(TransactionState.ONGOING, metadata().state());
        assertEquals(Set.of(ORDERS_0, ORDERS_1), metadata().partitions());
        assertEquals(Set.of("billing"), metadata().groups());
        assertEquals(start, metadata().startTimestamp(), "the time-out counts from the first partition");
    }

    @Test
    void addingPartitionsChecksTheProducer() {
        ProducerIdAndEpoch producer = init(APP);

        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, error(coordinator.addPartitions(
                new TransactionalIdKey(TENANT, "unknown"), producer.producerId(), producer.epoch(),
                Set.of(ORDERS_0))));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, error(coordinator.addPartitions(APP,
                producer.producerId() + 1, producer.epoch(), Set.of(ORDERS_0))));
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.addPartitions(APP, producer.producerId(),
                (short) (producer.epoch() + 1), Set.of(ORDERS_0))));
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.addOffsets(APP, producer.producerId(),
                (short) (producer.epoch() - 1), "billing")));
    }

    @Test
    void verifyingPartitionsWritesNothing() {
        ProducerIdAndEpoch producer = init(APP);
        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)));
        TransactionMetadata before = metadata();

        assertEquals(Map.of(ORDERS_0, Errors.NONE, ORDERS_1, Errors.INVALID_TXN_STATE),
                coordinator.verifyPartitions(APP, producer.producerId(), producer.epoch(), Set.of(ORDERS_0, ORDERS_1)));
        assertEquals(Map.of(ORDERS_0, Errors.PRODUCER_FENCED, ORDERS_1, Errors.PRODUCER_FENCED),
                coordinator.verifyPartitions(APP, producer.producerId(), (short) 9, Set.of(ORDERS_0, ORDERS_1)));
        assertEquals(before, metadata());
    }

    @Test
    void verifyingAGroupWritesNothing() {
        ProducerIdAndEpoch producer = init(APP);
        assertEquals(Errors.INVALID_TXN_STATE, coordinator.verifyGroup(APP, producer.producerId(), producer.epoch(),
                "billing"), "no transaction yet");
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));
        TransactionMetadata before = metadata();

        assertEquals(Errors.NONE, coordinator.verifyGroup(APP, producer.producerId(), producer.epoch(), "billing"));
        assertEquals(Errors.INVALID_TXN_STATE, coordinator.verifyGroup(APP, producer.producerId(), producer.epoch(),
                "shipping"));
        assertEquals(Errors.PRODUCER_FENCED, coordinator.verifyGroup(APP, producer.producerId(), (short) 9,
                "billing"));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, coordinator.verifyGroup(APP, producer.producerId() + 1,
                producer.epoch(), "billing"));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, coordinator.verifyGroup(
                new TransactionalIdKey("tenant-b", "app"), producer.producerId(), producer.epoch(), "billing"));
        assertEquals(before, metadata());

        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, coordinator.verifyGroup(APP, producer.producerId(),
                producer.epoch(), "billing"), "a decided transaction takes no more offsets");
    }

    // ---------------------------------------------------------------- EndTxn

    @Test
    void aCommitIsDecidedThenMarkedOnEveryPartitionThenComplete() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0, ORDERS_1);
        assertFalse(decidedEverywhere(ORDERS_0), "the open transaction holds the last stable offset back");

        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));

        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state(), "answered once decided, before markers");
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, error(coordinator.endTransaction(APP, producer.producerId(),
                producer.epoch(), true)));
        assertEquals(Errors.INVALID_TXN_STATE, error(coordinator.endTransaction(APP, producer.producerId(),
                producer.epoch(), false)));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, error(coordinator.addPartitions(APP, producer.producerId(),
                producer.epoch(), Set.of(ORDERS_0))));

        time.runDue();

        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
        assertEquals(Set.of(), metadata().partitions());
        assertTrue(decidedEverywhere(ORDERS_0));
        assertTrue(decidedEverywhere(ORDERS_1));
        assertEquals(List.of(), partitionLogs.get(ORDERS_0).collectAbortedTransactions(0,
                partitionLogs.get(ORDERS_0).logEndOffset()));
        assertEquals(Errors.NONE, error(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(),
                true)), "a retried commit succeeds");
        assertEquals(Errors.INVALID_TXN_STATE, error(coordinator.endTransaction(APP, producer.producerId(),
                producer.epoch(), false)));
    }

    @Test
    void anAbortIsListedOnItsPartitions() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);

        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), false));
        time.runDue();

        assertEquals(TransactionState.COMPLETE_ABORT, metadata().state());
        assertEquals(producer.epoch(), metadata().producerEpoch(), "the producer's own abort does not fence it");
        PartitionLog log = partitionLogs.get(ORDERS_0);
        assertEquals(List.of(producer.producerId()), log.collectAbortedTransactions(0, log.logEndOffset()).stream()
                .map(AbortedTransaction::producerId).toList());
        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(ORDERS_1)));
        assertEquals(TransactionState.ONGOING, metadata().state(), "the next transaction begins");
    }

    @Test
    void endingWithoutATransactionIsAnInvalidState() {
        ProducerIdAndEpoch producer = init(APP);

        assertEquals(Errors.INVALID_TXN_STATE, error(coordinator.endTransaction(APP, producer.producerId(),
                producer.epoch(), true)));
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, error(coordinator.endTransaction(
                new TransactionalIdKey("tenant-b", "app"), producer.producerId(), producer.epoch(), true)));
    }

    @Test
    void markersRefusedByAnOfflinePartitionAreWrittenAgain() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));

        partitionsOffline = true;
        time.runDue();
        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state());
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, error(coordinator.initProducerId(APP, TIMEOUT_MS,
                Optional.empty())));

        partitionsOffline = false;
        time.advance(SETTINGS.markerRetryBackoff());

        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
        assertTrue(decidedEverywhere(ORDERS_0));
    }

    @Test
    void aPartitionThatNoLongerExistsGetsNoMarker() {
        ProducerIdAndEpoch producer = init(APP);
        TopicPartition deleted = new TopicPartition("deleted", 0);
        ok(coordinator.addPartitions(APP, producer.producerId(), producer.epoch(), Set.of(deleted)));

        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));
        time.runDue();

        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
    }

    @Test
    void aTransactionIsCompleteOnlyOnceEveryGroupHasBeenCompletedDurably() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));
        CompletableFuture<Void> billing = new CompletableFuture<>();
        groupAnswers.add(billing);

        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));
        time.runDue();

        assertEquals(List.of(new GroupCompletion(TENANT, "billing", producer.producerId(), true)), groupCompletions);
        assertTrue(decidedEverywhere(ORDERS_0), "markers and group completions go out together");
        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state(), "the group's completion is not durable yet");

        billing.complete(null);

        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
        assertEquals(Set.of(), metadata().groups());
    }

    @Test
    void aGroupCompletionThatFailsIsAskedAgainAfterTheBackOffAndOnlyIt() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));
        groupAnswers.add(CompletableFuture.failedFuture(new KafkaStorageException("offsets log offline")));
        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), false));
        time.runDue();
        long markersAfterFirstAttempt = partitionLogs.get(ORDERS_0).logEndOffset();
        assertEquals(TransactionState.PREPARE_ABORT, metadata().state());

        time.advance(SETTINGS.markerRetryBackoff());

        GroupCompletion abort = new GroupCompletion(TENANT, "billing", producer.producerId(), false);
        assertEquals(List.of(abort, abort), groupCompletions);
        assertEquals(markersAfterFirstAttempt, partitionLogs.get(ORDERS_0).logEndOffset(),
                "the partition that has its marker gets no second one");
        assertEquals(TransactionState.COMPLETE_ABORT, metadata().state());
    }

    @Test
    void aGroupOfATransactionDecidedBeforeARestartIsCompletedAfterIt() throws IOException {
        ProducerIdAndEpoch producer = init(APP);
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));
        groupAnswers.add(new CompletableFuture<>());
        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));
        time.runDue();
        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state());

        restartCleanly();
        groupCompletions.clear();
        time.runDue();

        assertEquals(List.of(new GroupCompletion(TENANT, "billing", producer.producerId(), true)), groupCompletions);
        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
    }

    // ---------------------------------------------------------------- time-outs

    @Test
    void aTransactionThatOutlivesItsTimeoutIsAbortedAndItsProducerFenced() {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        ok(coordinator.addOffsets(APP, producer.producerId(), producer.epoch(), "billing"));

        time.advance(Duration.ofMillis(TIMEOUT_MS));
        assertEquals(TransactionState.ONGOING, metadata().state(), "not yet past its time-out");
        time.advance(SETTINGS.abortTimedOutCheck());

        assertEquals(TransactionState.COMPLETE_ABORT, metadata().state());
        assertEquals(producer.epoch() + 1, metadata().producerEpoch());
        assertTrue(decidedEverywhere(ORDERS_0));
        assertEquals(List.of(new GroupCompletion(TENANT, "billing", producer.producerId(), false)), groupCompletions,
                "the group's offsets are dropped with the fenced producer's transaction");
        assertEquals(Errors.PRODUCER_FENCED, error(coordinator.endTransaction(APP, producer.producerId(),
                producer.epoch(), true)));
        assertEquals(producer.epoch() + 2, init(APP).epoch());
    }

    @Test
    void aTransactionalIdWithNoTransactionIsForgottenAfterItsExpiration() throws IOException {
        time.advance(Duration.ofMinutes(30));
        ProducerIdAndEpoch idle = init(APP);
        TransactionalIdKey busy = new TransactionalIdKey(TENANT, "busy");
        ProducerIdAndEpoch busyProducer = ok(coordinator.initProducerId(busy, (int) Duration.ofMinutes(15).toMillis(),
                Optional.empty()));

        time.advance(Duration.ofDays(7).minus(Duration.ofMinutes(10)));
        ok(coordinator.addPartitions(busy, busyProducer.producerId(), busyProducer.epoch(), Set.of(ORDERS_0)));
        time.advance(Duration.ofMinutes(10));
        assertTrue(coordinator.describe(APP).isPresent(), "expired, but the hourly check is still to come");
        time.advance(Duration.ofHours(1));

        assertTrue(coordinator.describe(APP).isEmpty());
        assertTrue(coordinator.describe(busy).isPresent(), "an ongoing transaction keeps its transactional id");
        assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING, error(coordinator.addPartitions(APP, idle.producerId(),
                idle.epoch(), Set.of(ORDERS_0))));
        restartCleanly();
        assertTrue(coordinator.describe(APP).isEmpty(), "the removal is durable");
        assertNotEquals(idle.producerId(), init(APP).producerId(), "a forgotten id gets a new producer id");
    }

    // ---------------------------------------------------------------- ListTransactions

    private static TransactionFilter all() {
        return new TransactionFilter(EnumSet.allOf(TransactionState.class), Set.of(), -1, id -> true);
    }

    private List<TransactionCoordinator.Listing> list(TransactionFilter filter) {
        return coordinator.list(TENANT, filter);
    }

    @Test
    void theListingShowsEachTransactionalIdOfTheTenantInItsState() {
        ProducerIdAndEpoch app = beginWithRecords(ORDERS_0);
        TransactionalIdKey idle = new TransactionalIdKey(TENANT, "idle");
        ProducerIdAndEpoch idleProducer = init(idle);
        TransactionalIdKey committing = new TransactionalIdKey(TENANT, "committing");
        ProducerIdAndEpoch committer = init(committing);
        ok(coordinator.addPartitions(committing, committer.producerId(), committer.epoch(), Set.of(ORDERS_1)));
        ok(coordinator.endTransaction(committing, committer.producerId(), committer.epoch(), true));
        init(new TransactionalIdKey("tenant-b", "elsewhere"));

        assertEquals(List.of(
                new TransactionCoordinator.Listing("app", app.producerId(), TransactionState.ONGOING),
                new TransactionCoordinator.Listing("committing", committer.producerId(),
                        TransactionState.PREPARE_COMMIT),
                new TransactionCoordinator.Listing("idle", idleProducer.producerId(), TransactionState.EMPTY)),
                list(all()), "by transactional id, the other tenant's not among them");

        time.runDue();
        assertEquals(TransactionState.COMPLETE_COMMIT, list(all()).get(1).state(), "markers written");
    }

    @Test
    void theFiltersSelectByStateProducerIdAndTransactionalId() {
        ProducerIdAndEpoch app = beginWithRecords(ORDERS_0);
        ProducerIdAndEpoch idle = init(new TransactionalIdKey(TENANT, "idle"));

        assertEquals(List.of("app"), ids(new TransactionFilter(Set.of(TransactionState.ONGOING), Set.of(), -1,
                id -> true)));
        assertEquals(List.of(), ids(new TransactionFilter(Set.of(), Set.of(), -1, id -> true)),
                "only unknown state names: nothing matches");
        assertEquals(List.of("idle"), ids(new TransactionFilter(EnumSet.allOf(TransactionState.class),
                Set.of(idle.producerId(), 999_999L), -1, id -> true)));
        assertEquals(List.of("idle"), ids(new TransactionFilter(EnumSet.allOf(TransactionState.class), Set.of(), -1,
                id -> id.startsWith("i"))));
        assertEquals(List.of(), ids(new TransactionFilter(Set.of(TransactionState.ONGOING),
                Set.of(idle.producerId()), -1, id -> true)), "every filter must hold");
        assertEquals(List.of("app"), ids(new TransactionFilter(Set.of(TransactionState.ONGOING),
                Set.of(app.producerId()), -1, id -> id.equals("app"))));
    }

    @Test
    void theDurationFilterListsTransactionsRunningLongerThanIt() {
        beginWithRecords(ORDERS_0);
        TransactionFilter ongoingForAMinute = new TransactionFilter(Set.of(TransactionState.ONGOING), Set.of(),
                Duration.ofMinutes(1).toMillis(), id -> true);

        time.advance(Duration.ofMinutes(1));
        assertEquals(List.of(), ids(ongoingForAMinute), "exactly a minute is not longer than a minute");
        time.advance(Duration.ofMillis(1));
        assertEquals(List.of("app"), ids(ongoingForAMinute));
    }

    @Test
    void theDurationFilterListsAnIdThatNeverBeganATransactionAsKafkaDoes() {
        init(APP);

        assertEquals(List.of("app"), ids(new TransactionFilter(EnumSet.allOf(TransactionState.class), Set.of(),
                Duration.ofDays(365).toMillis(), id -> true)), "its start time is -1");
    }

    private List<String> ids(TransactionFilter filter) {
        return list(filter).stream().map(TransactionCoordinator.Listing::transactionalId).toList();
    }

    // ---------------------------------------------------------------- restarts

    @Test
    void transactionsSurviveARestart() throws IOException {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        TransactionMetadata before = metadata();

        restartCleanly();

        assertEquals(before, metadata());
        assertEquals(Errors.NONE, error(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(),
                false)));
        time.runDue();
        assertEquals(TransactionState.COMPLETE_ABORT, metadata().state());
        assertTrue(decidedEverywhere(ORDERS_0));
        assertNotEquals(producer.producerId(), init(new TransactionalIdKey(TENANT, "another")).producerId(),
                "producer ids are never handed out twice");
    }

    @Test
    void aTransactionDecidedBeforeARestartGetsItsMarkersAfterIt() throws IOException {
        ProducerIdAndEpoch producer = beginWithRecords(ORDERS_0);
        ok(coordinator.endTransaction(APP, producer.producerId(), producer.epoch(), true));
        partitionsOffline = true;
        time.runDue();
        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state());

        partitionsOffline = false;
        restartCleanly();
        assertEquals(TransactionState.PREPARE_COMMIT, metadata().state());
        time.runDue();

        assertEquals(TransactionState.COMPLETE_COMMIT, metadata().state());
        assertTrue(decidedEverywhere(ORDERS_0));
        assertEquals(List.of(), partitionLogs.get(ORDERS_0).collectAbortedTransactions(0,
                partitionLogs.get(ORDERS_0).logEndOffset()), "a commit is not listed as aborted");
    }
}
