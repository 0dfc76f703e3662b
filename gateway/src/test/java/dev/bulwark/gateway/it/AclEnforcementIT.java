package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every API the broker serves, on the wire, from a principal the tenant's ACLs allow and from one they do not: the
 * allowed one gets no authorization error, the denied one gets Kafka's error for that API (or, for a listing, none of
 * the resources). The table must cover every API the broker advertises.
 */
class AclEnforcementIT {

    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";
    private static final String TOPIC = "payments";
    private static final String GROUP = "pay-etl";
    private static final String TRANSACTIONAL_ID = "pay-tx";
    private static final Set<Errors> AUTHORIZATION_ERRORS = EnumSet.of(Errors.TOPIC_AUTHORIZATION_FAILED,
            Errors.GROUP_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED,
            Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    /** Served before and during authentication, as in Kafka. */
    private static final Set<ApiKeys> UNAUTHENTICATED = EnumSet.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE,
            ApiKeys.SASL_AUTHENTICATE);

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    /** Who sends a probe: the member the ACLs allow, the bank's admin (for role-gated APIs), the denied member. */
    enum Sender {
        ALLOWED("payments-api@bank", "payments-secret"),
        ADMIN("badmin@bank", "badmin-secret"),
        DENIED("intruder@bank", "intruder-secret");

        final String user;
        final String password;

        Sender(String user, String password) {
            this.user = user;
            this.password = password;
        }
    }

    /**
     * One API's probe: the request, who is allowed to send it, and what the denied member must get back.
     */
    record Probe(ApiKeys api, int version, ApiMessage request, Sender allowedAs, Predicate<AbstractResponse> denied) {
    }

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.startForTenants(dir.resolve("data"), OPERATOR, OPERATOR_PASSWORD);
        rest("/api/v1/tenants", Map.of("name", "bank"));
        for (Sender sender : Sender.values()) {
            String name = sender.user.substring(0, sender.user.indexOf('@'));
            rest("/api/v1/tenants/bank/users", Map.of("name", name, "password", sender.password,
                    "role", sender == Sender.ADMIN ? "tenant-admin" : "member"));
        }
        try (Admin admin = Admin.create(client(Sender.ADMIN))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            String member = "User:payments-api";
            List<AclBinding> grants = new ArrayList<>();
            grants.add(allow(ResourceType.TOPIC, "payments", PatternType.PREFIXED, member, AclOperation.ALL));
            grants.add(allow(ResourceType.GROUP, "pay", PatternType.PREFIXED, member, AclOperation.ALL));
            grants.add(allow(ResourceType.TRANSACTIONAL_ID, TRANSACTIONAL_ID, PatternType.LITERAL, member,
                    AclOperation.ALL));
            for (AclOperation op : List.of(AclOperation.DESCRIBE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS)) {
                grants.add(allow(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, member, op));
            }
            admin.createAcls(grants).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(client(Sender.ALLOWED),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, "k", "payment")).get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void theTableCoversEveryAdvertisedApi() throws Exception {
        Set<ApiKeys> advertised = EnumSet.noneOf(ApiKeys.class);
        try (KafkaWire wire = KafkaWire.connect(port())) {
            RequestHeader header = wire.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("acl-enforcement-it").setClientSoftwareVersion("1"));
            ApiVersionsResponseData versions = (ApiVersionsResponseData) AbstractResponse.parseResponse(
                    ByteBuffer.wrap(wire.receiveFrame()), header).data();
            versions.apiKeys().forEach(k -> advertised.add(ApiKeys.forId(k.apiKey())));
        }
        advertised.removeAll(UNAUTHENTICATED);
        Set<ApiKeys> probed = EnumSet.noneOf(ApiKeys.class);
        probes().forEach(p -> probed.add(p.api()));
        assertEquals(advertised, probed, "every advertised API has an allowed and a denied probe here");
    }

    @TestFactory
    Stream<DynamicTest> everyApiAllowsThePrincipalTheAclsAllowAndRefusesTheOther() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Probe probe : probes()) {
            String name = probe.api() + " v" + probe.version();
            tests.add(DynamicTest.dynamicTest(name + " allowed", () -> {
                AbstractResponse response = send(probe, probe.allowedAs());
                Set<Errors> errors = new HashSet<>(response.errorCounts().keySet());
                errors.retainAll(AUTHORIZATION_ERRORS);
                assertTrue(errors.isEmpty(), name + " as " + probe.allowedAs() + ": " + response.data());
            }));
            tests.add(DynamicTest.dynamicTest(name + " denied", () -> {
                AbstractResponse response = send(probe, Sender.DENIED);
                assertTrue(probe.denied().test(response), name + " as the denied member: " + response.data());
            }));
        }
        return tests.stream();
    }

    // ---------------------------------------------------------------- the table

    private static List<Probe> probes() {
        List<Probe> p = new ArrayList<>();
        Predicate<AbstractResponse> topic = refusedWith(Errors.TOPIC_AUTHORIZATION_FAILED);
        Predicate<AbstractResponse> group = refusedWith(Errors.GROUP_AUTHORIZATION_FAILED);
        Predicate<AbstractResponse> cluster = refusedWith(Errors.CLUSTER_AUTHORIZATION_FAILED);

        p.add(probe(ApiKeys.METADATA, 12, new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC))), topic));
        p.add(probe(ApiKeys.PRODUCE, 12, new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000)
                .setTopicData(new ProduceRequestData.TopicProduceDataCollection(List.of(
                        new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(
                                        MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(
                                                "k".getBytes(), "probe".getBytes())))))).iterator())), topic));
        p.add(probe(ApiKeys.FETCH, 12, new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic()
                        .setTopic(TOPIC).setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                .setFetchOffset(0).setPartitionMaxBytes(1 << 20))))), topic));
        p.add(probe(ApiKeys.LIST_OFFSETS, 9, new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1))))),
                topic));
        p.add(probe(ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4, new OffsetForLeaderEpochRequestData().setReplicaId(-1)
                .setTopics(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(
                                List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                                        .setLeaderEpoch(0)))).iterator())), topic));
        p.add(probe(ApiKeys.INIT_PRODUCER_ID, 5, new InitProducerIdRequestData().setTransactionalId(TRANSACTIONAL_ID)
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1),
                refusedWith(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
        p.add(probe(ApiKeys.INIT_PRODUCER_ID, 5, new InitProducerIdRequestData().setTransactionalId(null)
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), cluster));
        Predicate<AbstractResponse> transactionalId = refusedWith(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        AddPartitionsToTxnTopicCollection paymentsPartition = new AddPartitionsToTxnTopicCollection(List.of(
                new AddPartitionsToTxnTopic().setName(TOPIC).setPartitions(List.of(0))).iterator());
        p.add(probe(ApiKeys.ADD_PARTITIONS_TO_TXN, 3, new AddPartitionsToTxnRequestData()
                .setV3AndBelowTransactionalId(TRANSACTIONAL_ID).setV3AndBelowProducerId(7)
                .setV3AndBelowProducerEpoch((short) 0).setV3AndBelowTopics(paymentsPartition.duplicate()),
                transactionalId));
        // The batched form is how brokers verify a transaction: it needs CLUSTER_ACTION, which a tenant-admin holds.
        p.add(new Probe(ApiKeys.ADD_PARTITIONS_TO_TXN, 4, new AddPartitionsToTxnRequestData().setTransactions(
                new AddPartitionsToTxnTransactionCollection(List.of(new AddPartitionsToTxnTransaction()
                        .setTransactionalId(TRANSACTIONAL_ID).setProducerId(7).setProducerEpoch((short) 0)
                        .setVerifyOnly(true).setTopics(paymentsPartition.duplicate())).iterator())),
                Sender.ADMIN, cluster));
        p.add(probe(ApiKeys.ADD_OFFSETS_TO_TXN, 4, new AddOffsetsToTxnRequestData().setTransactionalId(TRANSACTIONAL_ID)
                .setProducerId(7).setProducerEpoch((short) 0).setGroupId(GROUP), transactionalId));
        p.add(probe(ApiKeys.END_TXN, 4, new EndTxnRequestData().setTransactionalId(TRANSACTIONAL_ID).setProducerId(7)
                .setProducerEpoch((short) 0).setCommitted(true), transactionalId));
        p.add(probe(ApiKeys.TXN_OFFSET_COMMIT, 3, new TxnOffsetCommitRequestData().setTransactionalId(TRANSACTIONAL_ID)
                .setGroupId(GROUP).setProducerId(7).setProducerEpoch((short) 0).setGenerationIdOrMemberEpoch(-1).setMemberId("")
                .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC)
                        .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(0))))), transactionalId));
        p.add(probe(ApiKeys.DESCRIBE_TRANSACTIONS, 0, new DescribeTransactionsRequestData()
                .setTransactionalIds(List.of(TRANSACTIONAL_ID)), transactionalId));
        p.add(probe(ApiKeys.LIST_TRANSACTIONS, 1, new ListTransactionsRequestData(),
                r -> r.errorCounts().keySet().equals(Set.of(Errors.NONE)) && !shows(r, TRANSACTIONAL_ID)));
        p.add(probe(ApiKeys.DESCRIBE_PRODUCERS, 0, new DescribeProducersRequestData().setTopics(
                new DescribeProducersRequestData.TopicRequestCollection(List.of(
                        new DescribeProducersRequestData.TopicRequest().setName(TOPIC).setPartitionIndexes(List.of(0)))
                        .iterator())), topic));
        p.add(probe(ApiKeys.CREATE_TOPICS, 7, new CreateTopicsRequestData().setValidateOnly(true).setTimeoutMs(10_000)
                .setTopics(new CreateTopicsRequestData.CreatableTopicCollection(List.of(
                        new CreateTopicsRequestData.CreatableTopic().setName("payments-new").setNumPartitions(1)
                                .setReplicationFactor((short) 1)).iterator())), topic));
        p.add(probe(ApiKeys.DELETE_TOPICS, 6, new DeleteTopicsRequestData().setTimeoutMs(10_000).setTopics(List.of(
                new DeleteTopicsRequestData.DeleteTopicState().setName("payments-gone"))), topic));
        p.add(probe(ApiKeys.CREATE_PARTITIONS, 3, new CreatePartitionsRequestData().setTimeoutMs(10_000)
                .setValidateOnly(true).setTopics(new CreatePartitionsRequestData.CreatePartitionsTopicCollection(
                        List.of(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(TOPIC).setCount(2)
                                .setAssignments(null)).iterator())), topic));
        p.add(probe(ApiKeys.DELETE_RECORDS, 2, new DeleteRecordsRequestData().setTimeoutMs(10_000).setTopics(List.of(
                new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC).setPartitions(List.of(
                        new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(0))))),
                topic));
        p.add(probe(ApiKeys.DESCRIBE_CONFIGS, 4, new DescribeConfigsRequestData().setResources(List.of(
                new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                        .setResourceName(TOPIC))), topic));
        p.add(probe(ApiKeys.DESCRIBE_CONFIGS, 4, new DescribeConfigsRequestData().setResources(List.of(
                new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                        .setResourceName(""))), cluster));
        p.add(probe(ApiKeys.ALTER_CONFIGS, 2, new AlterConfigsRequestData().setValidateOnly(true).setResources(
                new AlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                .setResourceName(TOPIC).setConfigs(new AlterConfigsRequestData.AlterableConfigCollection(
                                        List.of(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                                                .setValue("86400000")).iterator()))).iterator())), topic));
        p.add(probe(ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, new IncrementalAlterConfigsRequestData().setValidateOnly(true)
                .setResources(new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                .setResourceName(TOPIC).setConfigs(
                                        new IncrementalAlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                new IncrementalAlterConfigsRequestData.AlterableConfig()
                                                        .setName("retention.ms").setValue("86400000")
                                                        .setConfigOperation((byte) 0)).iterator()))).iterator())),
                topic));
        p.add(probe(ApiKeys.DESCRIBE_CLUSTER, 1, new DescribeClusterRequestData()
                .setIncludeClusterAuthorizedOperations(true), r -> r.errorCounts().keySet().equals(Set.of(Errors.NONE))
                && ((DescribeClusterResponseData) r.data()).clusterAuthorizedOperations() == 0));
        p.add(probe(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0, new DescribeTopicPartitionsRequestData()
                .setResponsePartitionLimit(100).setTopics(List.of(
                        new DescribeTopicPartitionsRequestData.TopicRequest().setName(TOPIC))), topic));
        p.add(probe(ApiKeys.FIND_COORDINATOR, 4, new FindCoordinatorRequestData().setKeyType((byte) 0)
                .setCoordinatorKeys(List.of(GROUP)), group));
        p.add(probe(ApiKeys.FIND_COORDINATOR, 4, new FindCoordinatorRequestData().setKeyType((byte) 1)
                .setCoordinatorKeys(List.of(TRANSACTIONAL_ID)),
                refusedWith(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
        p.add(probe(ApiKeys.OFFSET_COMMIT, 9, new OffsetCommitRequestData().setGroupId(GROUP)
                .setGenerationIdOrMemberEpoch(-1).setMemberId("").setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(0))))), group));
        p.add(probe(ApiKeys.OFFSET_FETCH, 9, new OffsetFetchRequestData().setGroups(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP).setTopics(null))), group));
        p.add(probe(ApiKeys.JOIN_GROUP, 9, new JoinGroupRequestData().setGroupId(GROUP).setMemberId("")
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setProtocolType("consumer").setProtocols(
                        new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                                new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                        .setMetadata(new byte[0])).iterator())), group));
        p.add(probe(ApiKeys.SYNC_GROUP, 5, new SyncGroupRequestData().setGroupId(GROUP).setGenerationId(1)
                .setMemberId("nobody").setProtocolType("consumer").setProtocolName("range"), group));
        p.add(probe(ApiKeys.HEARTBEAT, 4, new HeartbeatRequestData().setGroupId(GROUP).setGenerationId(1)
                .setMemberId("nobody"), group));
        p.add(probe(ApiKeys.LEAVE_GROUP, 5, new LeaveGroupRequestData().setGroupId(GROUP).setMembers(List.of(
                new LeaveGroupRequestData.MemberIdentity().setMemberId("nobody"))), group));
        p.add(probe(ApiKeys.DESCRIBE_GROUPS, 5, new DescribeGroupsRequestData().setGroups(List.of(GROUP)), group));
        p.add(probe(ApiKeys.LIST_GROUPS, 5, new ListGroupsRequestData(),
                r -> r.errorCounts().keySet().equals(Set.of(Errors.NONE)) && !shows(r, GROUP)));
        p.add(probe(ApiKeys.OFFSET_DELETE, 0, new OffsetDeleteRequestData().setGroupId(GROUP).setTopics(
                new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(List.of(
                        new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))))
                        .iterator())), group));
        p.add(probe(ApiKeys.DELETE_GROUPS, 2, new DeleteGroupsRequestData().setGroupsNames(List.of("pay-none")),
                group));
        p.add(new Probe(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, new DescribeUserScramCredentialsRequestData()
                .setUsers(null), Sender.ADMIN, r -> ((DescribeUserScramCredentialsResponseData) r.data()).errorCode()
                == Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        p.add(new Probe(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, 0, new AlterUserScramCredentialsRequestData()
                .setDeletions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialDeletion()
                        .setName("nobody").setMechanism((byte) 1))), Sender.ADMIN, cluster));
        p.add(new Probe(ApiKeys.DESCRIBE_CLIENT_QUOTAS, 1, new DescribeClientQuotasRequestData().setStrict(false)
                .setComponents(List.of(new DescribeClientQuotasRequestData.ComponentData().setEntityType("user")
                        .setMatchType((byte) 2))), Sender.ADMIN, cluster));
        p.add(new Probe(ApiKeys.ALTER_CLIENT_QUOTAS, 1, new AlterClientQuotasRequestData().setValidateOnly(true)
                .setEntries(List.of(new AlterClientQuotasRequestData.EntryData().setEntity(List.of(
                        new AlterClientQuotasRequestData.EntityData().setEntityType("user")
                                .setEntityName("payments-api"))).setOps(List.of(
                        new AlterClientQuotasRequestData.OpData().setKey("producer_byte_rate").setValue(1048576)
                                .setRemove(false))))), Sender.ADMIN, cluster));
        p.add(probe(ApiKeys.CREATE_ACLS, 3, new CreateAclsRequestData().setCreations(List.of(
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.TOPIC.code())
                        .setResourceName("payments-audit").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("User:auditor").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()))), cluster));
        p.add(probe(ApiKeys.DESCRIBE_ACLS, 3, new DescribeAclsRequestData()
                .setResourceTypeFilter(ResourceType.ANY.code()).setPatternTypeFilter(PatternType.ANY.code())
                .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code()), cluster));
        p.add(probe(ApiKeys.DELETE_ACLS, 3, new DeleteAclsRequestData().setFilters(List.of(
                new DeleteAclsRequestData.DeleteAclsFilter().setResourceTypeFilter(ResourceType.TOPIC.code())
                        .setResourceNameFilter("payments-audit").setPatternTypeFilter(PatternType.LITERAL.code())
                        .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code()))),
                cluster));
        return p;
    }

    private static Probe probe(ApiKeys api, int version, ApiMessage request, Predicate<AbstractResponse> denied) {
        return new Probe(api, version, request, Sender.ALLOWED, denied);
    }

    /** Every error in the response is {@code error}, and there is one. */
    private static Predicate<AbstractResponse> refusedWith(Errors error) {
        return r -> {
            Set<Errors> seen = new HashSet<>(r.errorCounts().keySet());
            seen.remove(Errors.NONE);
            return seen.equals(Set.of(error));
        };
    }

    private static boolean shows(AbstractResponse response, String name) {
        return response.data().toString().contains(name);
    }

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, String principal,
                                    AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, "*",
                operation, AclPermissionType.ALLOW));
    }

    // ---------------------------------------------------------------- the wire, clients and REST

    private static AbstractResponse send(Probe probe, Sender sender) throws Exception {
        try (KafkaWire wire = KafkaWire.connect(port()).authenticatePlain(sender.user, sender.password)) {
            RequestHeader header = wire.send(probe.api(), (short) probe.version(), probe.request());
            return AbstractResponse.parseResponse(ByteBuffer.wrap(wire.receiveFrame()), header);
        }
    }

    private static int port() {
        String bootstrap = server.bootstrap("SASL_PLAINTEXT");
        return Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    private static Map<String, Object> client(Sender sender) {
        return ScramClients.config(server, sender.user, sender.password);
    }

    private static void rest(String path, Map<String, ?> body) throws Exception {
        new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD).post(path, body);
    }
}
