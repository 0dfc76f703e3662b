package dev.bulwark.gateway.network;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.Authorizer;
import dev.bulwark.acl.TenantAcl;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.kafka.AccessControl;
import dev.bulwark.gateway.kafka.DescribeProducersHandler;
import dev.bulwark.gateway.kafka.DescribeTransactionsHandler;
import dev.bulwark.gateway.kafka.ListTransactionsHandler;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ListTransactions, DescribeTransactions and DescribeProducers over the broker's real parts, as an operator and as a
 * member whose ACLs let it see some transactional ids and topics and not others.
 */
class TransactionAdminHandlersTest {

    private static final int TIMEOUT_MS = 60_000;

    @TempDir
    Path dir;

    private BrokerParts broker;
    private AclStore acls;
    private ListTransactionsHandler list;
    private DescribeTransactionsHandler describe;
    private DescribeProducersHandler producers;
    private final AuthenticatedPrincipal alice = new AuthenticatedPrincipal("alice", Tenant.DEFAULT_ID, Role.MEMBER,
            "SCRAM-SHA-512", -1);
    private TopicMetadata secrets;

    @BeforeEach
    void start() throws IOException {
        broker = new BrokerParts(dir);
        acls = AclStore.open(dir.resolve("acls"), TestLogs.sealedFiles(dir));
        AccessControl access = new AccessControl(new Authorizer(acls::index, tenant -> false), "",
                broker.security.tenants());
        list = new ListTransactionsHandler(broker.transactions, access);
        describe = new DescribeTransactionsHandler(broker.transactions, access);
        producers = new DescribeProducersHandler(broker.catalog, access);
        secrets = broker.createTopic("secrets", 1);
        allow(ResourceType.TRANSACTIONAL_ID, "billing", AclOperation.DESCRIBE);
        allow(ResourceType.TRANSACTIONAL_ID, "idle", AclOperation.DESCRIBE);
        allow(ResourceType.TOPIC, "orders", AclOperation.READ);
    }

    @AfterEach
    void stop() throws IOException {
        broker.close();
    }

    private void allow(ResourceType type, String name, AclOperation operation) throws IOException {
        acls.add(List.of(new TenantAcl(Tenant.DEFAULT_ID, new AclBinding(
                new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:alice", "*", operation, AclPermissionType.ALLOW)))));
    }

    private ProducerIdAndEpoch init(String tenantId, String transactionalId) {
        return broker.transactions.initProducerId(new TransactionalIdKey(tenantId, transactionalId), TIMEOUT_MS,
                Optional.empty()).join();
    }

    /** Begins a transaction of {@code transactionalId} on the partitions, with a batch written to the first. */
    private ProducerIdAndEpoch begin(String transactionalId, TopicMetadata topic, int... partitions) {
        ProducerIdAndEpoch producer = init(Tenant.DEFAULT_ID, transactionalId);
        Set<TopicPartition> added = new HashSet<>();
        for (int p : partitions) {
            added.add(new TopicPartition(topic.name(), p));
        }
        broker.transactions.addPartitions(new TransactionalIdKey(Tenant.DEFAULT_ID, transactionalId),
                producer.producerId(), producer.epoch(), added).join();
        broker.log(topic, partitions[0]).append(MemoryRecords.withTransactionalRecords(Compression.NONE,
                producer.producerId(), producer.epoch(), 0, new SimpleRecord(broker.timer.nowMs(), null,
                        "v".getBytes(StandardCharsets.UTF_8))));
        return producer;
    }

    @SuppressWarnings("unchecked")
    private <T extends ApiMessage> T answer(ApiHandler handler, ApiKeys key, short version, ApiMessage data,
                                            AuthenticatedPrincipal sender) {
        Reply reply = handler.handle(broker.request(key, version, data, sender)).toCompletableFuture().join();
        return (T) ((Reply.Respond) reply).body();
    }

    // ---------------------------------------------------------------- ListTransactions

    private ListTransactionsResponseData list(ListTransactionsRequestData data, AuthenticatedPrincipal sender) {
        return answer(list, ApiKeys.LIST_TRANSACTIONS, (short) 2, data, sender);
    }

    private static List<String> listed(ListTransactionsResponseData response) {
        return response.transactionStates().stream()
                .map(s -> s.transactionalId() + ":" + s.transactionState()).toList();
    }

    @Test
    void aListingShowsOnlyTheTransactionalIdsTheSenderMayDescribeInItsTenant() throws IOException {
        begin("billing", broker.orders, 0);
        begin("payroll", broker.orders, 1);
        init(Tenant.DEFAULT_ID, "idle");
        init(broker.security.tenants().create("acme").id(), "acme-app");

        assertEquals(List.of("billing:Ongoing", "idle:Empty", "payroll:Ongoing"),
                listed(list(new ListTransactionsRequestData(), BrokerParts.OPERATOR)));
        assertEquals(List.of("billing:Ongoing", "idle:Empty"), listed(list(new ListTransactionsRequestData(), alice)),
                "payroll is left out silently");
    }

    @Test
    void theFiltersAreAppliedAndUnknownStateNamesReported() {
        ProducerIdAndEpoch billing = begin("billing", broker.orders, 0);
        ProducerIdAndEpoch payroll = begin("payroll", broker.orders, 1);
        init(Tenant.DEFAULT_ID, "idle");

        ListTransactionsResponseData byState = list(new ListTransactionsRequestData()
                .setStateFilters(List.of("Ongoing", "Stuck", "ongoing")), BrokerParts.OPERATOR);
        assertEquals(List.of("billing:Ongoing", "payroll:Ongoing"), listed(byState));
        assertEquals(List.of("Stuck", "ongoing"), byState.unknownStateFilters(), "Kafka's names, matched exactly");
        assertEquals(List.of(), listed(list(new ListTransactionsRequestData().setStateFilters(List.of("Stuck")),
                BrokerParts.OPERATOR)), "a filter of unknown states only matches nothing");

        assertEquals(List.of("payroll:Ongoing"), listed(list(new ListTransactionsRequestData()
                .setProducerIdFilters(List.of(payroll.producerId())), BrokerParts.OPERATOR)));
        assertEquals(List.of("billing:Ongoing", "payroll:Ongoing"), listed(list(new ListTransactionsRequestData()
                .setTransactionalIdPattern(".*l+.*").setStateFilters(List.of("Ongoing")), BrokerParts.OPERATOR)));
        assertEquals(List.of("billing:Ongoing"), listed(list(new ListTransactionsRequestData()
                .setTransactionalIdPattern("bill.*").setProducerIdFilters(List.of(billing.producerId())),
                BrokerParts.OPERATOR)));
        assertEquals(List.of(), listed(list(new ListTransactionsRequestData().setTransactionalIdPattern("bill"),
                BrokerParts.OPERATOR)), "the pattern must match the whole id");
    }

    @Test
    void theDurationFilterListsTransactionsRunningLongerThanIt() {
        begin("billing", broker.orders, 0);
        broker.timer.advance(Duration.ofMinutes(2));
        begin("payroll", broker.orders, 1);
        broker.timer.advance(Duration.ofSeconds(30));

        assertEquals(List.of("billing:Ongoing"), listed(list(new ListTransactionsRequestData()
                .setStateFilters(List.of("Ongoing")).setDurationFilter(Duration.ofMinutes(1).toMillis()),
                BrokerParts.OPERATOR)));
    }

    @Test
    void anInvalidPatternIsAnInvalidRegularExpression() {
        begin("billing", broker.orders, 0);

        ListTransactionsResponseData response = list(new ListTransactionsRequestData().setTransactionalIdPattern("(("),
                BrokerParts.OPERATOR);
        assertEquals(Errors.INVALID_REGULAR_EXPRESSION.code(), response.errorCode());
        assertEquals(List.of(), response.transactionStates());
    }

    @Test
    void olderVersionsWithoutTheNewerFiltersListEverything() {
        begin("billing", broker.orders, 0);

        ListTransactionsResponseData v0 = answer(list, ApiKeys.LIST_TRANSACTIONS, (short) 0,
                new ListTransactionsRequestData(), BrokerParts.OPERATOR);
        assertEquals(List.of("billing:Ongoing"), listed(v0));
    }

    // ---------------------------------------------------------------- DescribeTransactions

    private List<DescribeTransactionsResponseData.TransactionState> describe(AuthenticatedPrincipal sender,
                                                                               String... transactionalIds) {
        DescribeTransactionsResponseData response = answer(describe, ApiKeys.DESCRIBE_TRANSACTIONS, (short) 0,
                new DescribeTransactionsRequestData().setTransactionalIds(List.of(transactionalIds)), sender);
        return response.transactionStates();
    }

    @Test
    void anOngoingTransactionIsDescribedWithItsPartitions() {
        long started = broker.timer.nowMs();
        ProducerIdAndEpoch billing = begin("billing", broker.orders, 1, 0);
        broker.timer.advance(Duration.ofSeconds(5));

        DescribeTransactionsResponseData.TransactionState state = describe(BrokerParts.OPERATOR, "billing").get(0);
        assertEquals(Errors.NONE.code(), state.errorCode());
        assertEquals("billing", state.transactionalId());
        assertEquals("Ongoing", state.transactionState());
        assertEquals(TIMEOUT_MS, state.transactionTimeoutMs());
        assertEquals(started, state.transactionStartTimeMs());
        assertEquals(billing.producerId(), state.producerId());
        assertEquals(billing.epoch(), state.producerEpoch());
        assertEquals(1, state.topics().size());
        assertEquals("orders", state.topics().iterator().next().topic());
        assertEquals(List.of(0, 1), state.topics().iterator().next().partitions());
    }

    @Test
    void anIdleTransactionalIdHasNoStartTimeAndNoPartitions() {
        ProducerIdAndEpoch idle = init(Tenant.DEFAULT_ID, "idle");

        DescribeTransactionsResponseData.TransactionState state = describe(alice, "idle").get(0);
        assertEquals("Empty", state.transactionState());
        assertEquals(-1, state.transactionStartTimeMs());
        assertEquals(idle.producerId(), state.producerId());
        assertEquals(0, state.topics().size());
    }

    @Test
    void describeNeedsDescribeOnTheIdAndShowsOnlyTheTopicsTheSenderMayDescribe() {
        begin("billing", secrets, 0);
        ProducerIdAndEpoch billing = broker.transactions.describe(new TransactionalIdKey(Tenant.DEFAULT_ID,
                "billing")).map(m -> new ProducerIdAndEpoch(m.producerId(), m.producerEpoch())).orElseThrow();
        broker.transactions.addPartitions(new TransactionalIdKey(Tenant.DEFAULT_ID, "billing"), billing.producerId(),
                billing.epoch(), Set.of(new TopicPartition("orders", 1))).join();
        begin("payroll", broker.orders, 0);

        List<DescribeTransactionsResponseData.TransactionState> states = describe(alice, "billing", "payroll",
                "never-initialized", "");
        assertEquals(List.of(Errors.NONE, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                        Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
                states.stream().map(s -> Errors.forCode(s.errorCode())).toList());
        assertEquals(List.of("orders"), states.get(0).topics().stream()
                .map(DescribeTransactionsResponseData.TopicData::topic).toList(), "secrets is hidden from alice");
        assertEquals(List.of("orders", "secrets"), describe(BrokerParts.OPERATOR, "billing").get(0).topics()
                .stream().map(DescribeTransactionsResponseData.TopicData::topic).toList());

        assertEquals(List.of(Errors.TRANSACTIONAL_ID_NOT_FOUND, Errors.INVALID_REQUEST),
                describe(BrokerParts.OPERATOR, "never-initialized", "").stream()
                        .map(s -> Errors.forCode(s.errorCode())).toList());
    }

    @Test
    void anotherTenantsTransactionalIdIsNotFound() throws IOException {
        init(broker.security.tenants().create("acme").id(), "billing");

        assertEquals(Errors.TRANSACTIONAL_ID_NOT_FOUND.code(),
                describe(BrokerParts.OPERATOR, "billing").get(0).errorCode());
    }

    // ---------------------------------------------------------------- DescribeProducers

    private DescribeProducersResponseData producers(AuthenticatedPrincipal sender,
                                                    Map<String, List<Integer>> partitions) {
        DescribeProducersRequestData data = new DescribeProducersRequestData();
        partitions.forEach((topic, indexes) -> data.topics().add(new DescribeProducersRequestData.TopicRequest()
                .setName(topic).setPartitionIndexes(indexes)));
        return answer(producers, ApiKeys.DESCRIBE_PRODUCERS, (short) 0, data, sender);
    }

    private static PartitionResponse partition(DescribeProducersResponseData response, String topic, int index) {
        return response.topics().stream().filter(t -> t.name().equals(topic)).findFirst().orElseThrow()
                .partitions().stream().filter(p -> p.partitionIndex() == index).findFirst().orElseThrow();
    }

    @Test
    void theActiveProducersOfAPartitionAreDescribed() {
        long firstOffset = broker.log(broker.orders, 0).logEndOffset();
        ProducerIdAndEpoch billing = begin("billing", broker.orders, 0);

        PartitionResponse orders0 = partition(producers(alice, Map.of("orders", List.of(0, 1))), "orders", 0);
        assertEquals(Errors.NONE.code(), orders0.errorCode());
        assertEquals(1, orders0.activeProducers().size());
        DescribeProducersResponseData.ProducerState state = orders0.activeProducers().get(0);
        assertEquals(billing.producerId(), state.producerId());
        assertEquals(billing.epoch(), state.producerEpoch());
        assertEquals(0, state.lastSequence());
        assertEquals(broker.timer.nowMs(), state.lastTimestamp());
        assertEquals(-1, state.coordinatorEpoch());
        assertEquals(firstOffset, state.currentTxnStartOffset());
        assertEquals(List.of(), partition(producers(alice, Map.of("orders", List.of(1))), "orders", 1)
                .activeProducers(), "no producer wrote to orders-1");
    }

    @Test
    void describeProducersNeedsReadOnTheTopicBeforeItsExistenceIsTold() {
        DescribeProducersResponseData asAlice = producers(alice, Map.of("secrets", List.of(0),
                "no-such-topic", List.of(0), "orders", List.of(9)));
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), partition(asAlice, "secrets", 0).errorCode());
        assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), partition(asAlice, "no-such-topic", 0).errorCode());
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), partition(asAlice, "orders", 9).errorCode());

        DescribeProducersResponseData asOperator = producers(BrokerParts.OPERATOR, Map.of("no-such-topic",
                List.of(0, 1), "bad/name", List.of(0)));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), partition(asOperator, "no-such-topic", 1).errorCode());
        assertEquals(Errors.INVALID_TOPIC_EXCEPTION.code(), partition(asOperator, "bad/name", 0).errorCode());
    }
}
