package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tenant isolation, probed the way a curious or hostile tenant would: tenant globex's principals send, on the wire,
 * every request that could reach tenant acme's topics (by name and by topic id), groups, members, committed offsets,
 * users and transactional ids, and every listing. Each probe must get Kafka's authorization or unknown-resource
 * error (or, for listings, see only globex's own things), and no response may carry anything of acme's that the
 * probe did not send itself: its tenant name or id, its topic ids and names, its users, members or record contents.
 * Afterwards acme's data, group and users are intact, and a topic of the same name in globex is a separate log.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrossTenantIT {

    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";
    private static final String ACME_TRANSACTIONAL_ID = "acme-payments-tx";

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    /** What belongs to acme, and must never reach globex unless globex itself sent it. */
    static String acmeTenantId;
    static Uuid acmeOrdersId;
    static String acmeMemberId;
    static int acmeGeneration;
    static KafkaConsumer<String, String> acmeConsumer;
    static KafkaProducer<String, String> acmeTransactions;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.startForTenants(dir.resolve("data"), OPERATOR, OPERATOR_PASSWORD);
        // Isolation is what this test proves, apart from ACLs: both tenants let every principal in where no ACL says.
        acmeTenantId = rest("POST", "/api/v1/tenants", Map.of("name", "acme", "allowEveryoneIfNoAcl", true))
                .get("id").asText();
        rest("POST", "/api/v1/tenants", Map.of("name", "globex", "allowEveryoneIfNoAcl", true));
        rest("POST", "/api/v1/tenants/acme/users", Map.of("name", "alice", "password", "alice-secret",
                "role", "member"));
        rest("POST", "/api/v1/tenants/globex/users", Map.of("name", "bob", "password", "bob-secret",
                "role", "member"));
        rest("POST", "/api/v1/tenants/globex/users", Map.of("name", "gadmin", "password", "gadmin-secret",
                "role", "tenant-admin"));

        Map<String, Object> alice = client("alice@acme", "alice-secret");
        try (Admin admin = Admin.create(alice)) {
            admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1), new NewTopic("acme-ledger", 1,
                    (short) 1))).all().get(30, TimeUnit.SECONDS);
            acmeOrdersId = admin.describeTopics(List.of("orders")).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get("orders").topicId();
        }
        produce(alice, "orders", "secret-payment", 6);
        Map<String, Object> consumer = new HashMap<>(alice);
        consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "billing");
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        acmeConsumer = new KafkaConsumer<>(consumer, new StringDeserializer(), new StringDeserializer());
        acmeConsumer.subscribe(List.of("orders"));
        int read = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (read < 6 && System.nanoTime() < deadline) {
            read += acmeConsumer.poll(Duration.ofMillis(200)).count();
        }
        assertEquals(6, read);
        acmeConsumer.commitSync();
        acmeMemberId = acmeConsumer.groupMetadata().memberId();
        acmeGeneration = acmeConsumer.groupMetadata().generationId();
        Map<String, Object> transactional = new HashMap<>(alice);
        transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, ACME_TRANSACTIONAL_ID);
        acmeTransactions = new KafkaProducer<>(transactional, new StringSerializer(), new StringSerializer());
        acmeTransactions.initTransactions();

        Map<String, Object> bob = client("bob@globex", "bob-secret");
        try (Admin admin = Admin.create(bob)) {
            admin.createTopics(List.of(new NewTopic("globex-own", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (acmeConsumer != null) {
            acmeConsumer.close();
        }
        if (acmeTransactions != null) {
            acmeTransactions.close();
        }
        server.close();
    }

    /** A request globex sends, and what it must get back. */
    record Probe(String what, boolean asTenantAdmin, ApiKeys api, int version, ApiMessage request,
                 Predicate<AbstractResponse> expected) {
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> globexReachesNothingOfAcme() {
        List<Probe> probes = probes();
        assertTrue(probes.size() >= 30, "at least thirty probes: " + probes.size());
        return probes.stream().map(probe -> DynamicTest.dynamicTest(probe.what(), () -> run(probe)));
    }

    @Test
    @Order(2)
    void afterAllProbesAcmesDataGroupAndUsersAreIntact() throws Exception {
        Map<String, Object> alice = client("alice@acme", "alice-secret");
        try (Admin admin = Admin.create(alice)) {
            assertEquals(Set.of("orders", "acme-ledger"), admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertEquals(2, admin.describeTopics(List.of("orders")).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get("orders").partitions().size());
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("billing")
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            assertEquals(6, committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum());
        }
        assertEquals(6, readAll(alice, "orders").size(), "acme's records are all there");
        acmeTransactions.beginTransaction();
        acmeTransactions.send(new ProducerRecord<>("acme-ledger", "entry"));
        acmeTransactions.commitTransaction();
    }

    /** Last: globex's own "orders" would answer the probes above. */
    @Test
    @Order(3)
    void theSameTopicNameInGlobexIsASeparateLog() throws Exception {
        Map<String, Object> bob = client("bob@globex", "bob-secret");
        Uuid globexOrdersId;
        try (Admin admin = Admin.create(bob)) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            globexOrdersId = admin.describeTopics(List.of("orders")).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get("orders").topicId();
        }
        produce(bob, "orders", "globex-order", 2);

        assertNotEquals(acmeOrdersId, globexOrdersId);
        List<String> globexRead = readAll(bob, "orders").stream().map(ConsumerRecord::value).toList();
        assertEquals(List.of("globex-order-0", "globex-order-1"), globexRead);
        assertTrue(readAll(client("alice@acme", "alice-secret"), "orders").stream()
                .allMatch(r -> r.value().startsWith("secret-payment")), "acme's orders hold only acme's records");
    }

    // ---------------------------------------------------------------- the probes

    private static List<Probe> probes() {
        List<Probe> p = new ArrayList<>();
        String orders = "orders";
        Set<Errors> unknownTopic = Set.of(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        Set<Errors> unknownTopicId = Set.of(Errors.UNKNOWN_TOPIC_ID);
        Set<Errors> unknownGroup = Set.of(Errors.GROUP_ID_NOT_FOUND);
        Set<Errors> unknownMember = Set.of(Errors.UNKNOWN_MEMBER_ID);
        Set<Errors> notAuthorized = Set.of(Errors.CLUSTER_AUTHORIZATION_FAILED);

        // Topics, by name and by id.
        p.add(probe("Metadata of acme's topic by name", ApiKeys.METADATA, 12, new MetadataRequestData()
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(orders),
                        new MetadataRequestData.MetadataRequestTopic().setName("acme-ledger")))
                .setAllowAutoTopicCreation(false), unknownTopic));
        p.add(probe("Metadata of acme's topic by id", ApiKeys.METADATA, 12, new MetadataRequestData()
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(null)
                        .setTopicId(acmeOrdersId))),
                unknownTopicId));
        p.add(listing("Metadata of all topics lists only globex's", ApiKeys.METADATA, 12,
                new MetadataRequestData().setTopics(null)));
        p.add(probe("Produce to acme's topic by name", ApiKeys.PRODUCE, 12, produce(orders, Uuid.ZERO_UUID),
                unknownTopic));
        p.add(probe("Produce to acme's topic by id", ApiKeys.PRODUCE, 13, produce("", acmeOrdersId),
                unknownTopicId));
        p.add(probe("Fetch from acme's topic by name", ApiKeys.FETCH, 12, fetch(orders, Uuid.ZERO_UUID),
                unknownTopic));
        p.add(probe("Fetch from acme's topic by id", ApiKeys.FETCH, 13, fetch("", acmeOrdersId), unknownTopicId));
        p.add(probe("ListOffsets earliest of acme's topic", ApiKeys.LIST_OFFSETS, 9, listOffsets(orders, -2),
                unknownTopic));
        p.add(probe("ListOffsets latest of acme's topic", ApiKeys.LIST_OFFSETS, 9, listOffsets(orders, -1),
                unknownTopic));
        p.add(probe("OffsetForLeaderEpoch of acme's topic", ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4,
                new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(orders)
                                        .setPartitions(List.of(new OffsetForLeaderEpochRequestData
                                                .OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0))))
                                .iterator())), unknownTopic));
        p.add(probe("DescribeConfigs of acme's topic", ApiKeys.DESCRIBE_CONFIGS, 4, new DescribeConfigsRequestData()
                .setResources(List.of(new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType((byte) 2).setResourceName(orders))), unknownTopic));
        p.add(probe("AlterConfigs of acme's topic", ApiKeys.ALTER_CONFIGS, 2, new AlterConfigsRequestData()
                .setResources(new AlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                .setResourceName(orders).setConfigs(
                                        new AlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                new AlterConfigsRequestData.AlterableConfig()
                                                        .setName("retention.ms").setValue("1")).iterator())))
                        .iterator())), unknownTopic));
        p.add(probe("IncrementalAlterConfigs of acme's topic", ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1,
                incrementalAlter((byte) 2, orders, "retention.ms", "1"), unknownTopic));
        p.add(probe("DeleteTopics of acme's topic by name", ApiKeys.DELETE_TOPICS, 6, new DeleteTopicsRequestData()
                .setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName(orders))), unknownTopic));
        p.add(probe("DeleteTopics of acme's topic by id", ApiKeys.DELETE_TOPICS, 6, new DeleteTopicsRequestData()
                .setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setTopicId(acmeOrdersId))),
                unknownTopicId));
        p.add(probe("CreatePartitions of acme's topic", ApiKeys.CREATE_PARTITIONS, 3,
                new CreatePartitionsRequestData().setTimeoutMs(10_000).setTopics(
                        new CreatePartitionsRequestData.CreatePartitionsTopicCollection(List.of(
                                new CreatePartitionsRequestData.CreatePartitionsTopic().setName(orders).setCount(5)
                                        .setAssignments(null)).iterator())), unknownTopic));
        p.add(probe("DeleteRecords of acme's topic", ApiKeys.DELETE_RECORDS, 2, new DeleteRecordsRequestData()
                .setTimeoutMs(10_000).setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic()
                        .setName(orders).setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition()
                                .setPartitionIndex(0).setOffset(3))))), unknownTopic));
        p.add(probe("DescribeTopicPartitions of acme's topic", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                new DescribeTopicPartitionsRequestData().setTopics(List.of(
                        new DescribeTopicPartitionsRequestData.TopicRequest().setName(orders)))
                        .setResponsePartitionLimit(100), unknownTopic));

        // Groups, members and committed offsets.
        p.add(probe("DescribeGroups of acme's group", ApiKeys.DESCRIBE_GROUPS, 6, new DescribeGroupsRequestData()
                .setGroups(List.of("billing")), unknownGroup));
        p.add(check("OffsetFetch of acme's group and topic has no offsets", ApiKeys.OFFSET_FETCH, 8,
                new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                        .setGroupId("billing").setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics()
                                .setName(orders).setPartitionIndexes(List.of(0, 1)))))),
                r -> ((org.apache.kafka.common.requests.OffsetFetchResponse) r).data().groups().get(0).topics()
                        .stream().flatMap(t -> t.partitions().stream()).allMatch(x -> x.committedOffset() == -1)));
        p.add(check("OffsetFetch of all of acme's group's offsets is empty", ApiKeys.OFFSET_FETCH, 8,
                new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                        .setGroupId("billing").setTopics(null))),
                r -> ((org.apache.kafka.common.requests.OffsetFetchResponse) r).data().groups().get(0).topics()
                        .isEmpty()));
        p.add(probe("OffsetDelete in acme's group", ApiKeys.OFFSET_DELETE, 0, new OffsetDeleteRequestData()
                .setGroupId("billing").setTopics(new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(
                        List.of(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(orders)
                                .setPartitions(List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition()
                                        .setPartitionIndex(0)))).iterator())), unknownGroup));
        p.add(probe("DeleteGroups of acme's group", ApiKeys.DELETE_GROUPS, 2, new DeleteGroupsRequestData()
                .setGroupsNames(List.of("billing")), unknownGroup));
        // A simple commit creates the group in globex's own namespace, so it comes after the deletes.
        p.add(probe("OffsetCommit to acme's group", ApiKeys.OFFSET_COMMIT, 8, new OffsetCommitRequestData()
                .setGroupId("billing").setGenerationIdOrMemberEpoch(-1).setMemberId("")
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(orders)
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(0))))), unknownTopic));
        p.add(probe("Heartbeat as acme's member", ApiKeys.HEARTBEAT, 4, new HeartbeatRequestData()
                .setGroupId("billing").setGenerationId(acmeGeneration).setMemberId(acmeMemberId), unknownMember));
        p.add(probe("SyncGroup as acme's member", ApiKeys.SYNC_GROUP, 5, new SyncGroupRequestData()
                .setGroupId("billing").setGenerationId(acmeGeneration).setMemberId(acmeMemberId)
                .setProtocolType("consumer").setProtocolName("range"), unknownMember));
        p.add(probe("LeaveGroup as acme's member", ApiKeys.LEAVE_GROUP, 5, new LeaveGroupRequestData()
                .setGroupId("billing").setMembers(List.of(new LeaveGroupRequestData.MemberIdentity()
                        .setMemberId(acmeMemberId))), unknownMember));
        p.add(probe("JoinGroup as acme's member", ApiKeys.JOIN_GROUP, 9, new JoinGroupRequestData()
                .setGroupId("billing").setMemberId(acmeMemberId).setSessionTimeoutMs(10_000)
                .setRebalanceTimeoutMs(10_000).setProtocolType("consumer").setProtocols(
                        new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                                new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                        .setMetadata(new byte[0])).iterator())), unknownMember));
        p.add(listing("ListGroups lists only globex's groups", ApiKeys.LIST_GROUPS, 5, new ListGroupsRequestData()));
        p.add(listing("FindCoordinator of acme's group names only this node", ApiKeys.FIND_COORDINATOR, 4,
                new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of("billing"))));

        // Transactional ids are per tenant: the same name in globex is globex's own, and initializing it fences
        // nobody in acme (the test after the probes commits with acme's producer).
        p.add(check("InitProducerId with acme's transactional id initializes globex's own", ApiKeys.INIT_PRODUCER_ID,
                5, new InitProducerIdRequestData().setTransactionalId(ACME_TRANSACTIONAL_ID)
                        .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1),
                r -> r.errorCounts().keySet().equals(Set.of(Errors.NONE))));

        // Users and the cluster.
        p.add(check("DescribeUserScramCredentials of acme's user", ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0,
                new DescribeUserScramCredentialsRequestData().setUsers(List.of(
                        new DescribeUserScramCredentialsRequestData.UserName().setName("alice@acme"))),
                r -> ((org.apache.kafka.common.requests.DescribeUserScramCredentialsResponse) r).data().errorCode()
                        == Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        p.add(new Probe("DescribeUserScramCredentials of acme's user, as globex's tenant-admin", true,
                ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, new DescribeUserScramCredentialsRequestData()
                .setUsers(List.of(new DescribeUserScramCredentialsRequestData.UserName().setName("alice@acme"))),
                refusedWith(notAuthorized)));
        p.add(new Probe("DescribeUserScramCredentials of all users, as globex's tenant-admin, lists globex's", true,
                ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, new DescribeUserScramCredentialsRequestData()
                .setUsers(null), r -> ((org.apache.kafka.common.requests.DescribeUserScramCredentialsResponse) r)
                .data().results().stream().map(u -> u.user()).collect(java.util.stream.Collectors.toSet())
                .equals(Set.of("bob", "gadmin"))));
        p.add(new Probe("AlterUserScramCredentials of acme's user, as globex's tenant-admin", true,
                ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, 0, new AlterUserScramCredentialsRequestData()
                .setUpsertions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                        .setName("alice@acme").setMechanism((byte) 2).setIterations(4096)
                        .setSalt(new byte[] {1, 2, 3}).setSaltedPassword(new byte[64]))), refusedWith(notAuthorized)));
        p.add(probe("IncrementalAlterConfigs of the broker, which every tenant shares",
                ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, incrementalAlter((byte) 4, "", "log.retention.ms", "1"),
                notAuthorized));
        p.add(listing("DescribeCluster shows the node and nothing of acme", ApiKeys.DESCRIBE_CLUSTER, 1,
                new DescribeClusterRequestData()));
        p.add(listing("DescribeTopicPartitions from the first topic lists only globex's",
                ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0, new DescribeTopicPartitionsRequestData().setTopics(List.of())
                        .setResponsePartitionLimit(100)));
        return p;
    }

    private static Probe probe(String what, ApiKeys api, int version, ApiMessage request, Set<Errors> errors) {
        return new Probe(what, false, api, version, request, refusedWith(errors));
    }

    private static Probe check(String what, ApiKeys api, int version, ApiMessage request,
                               Predicate<AbstractResponse> expected) {
        return new Probe(what, false, api, version, request, expected);
    }

    /** A listing: whatever it answers, the leak check below decides. */
    private static Probe listing(String what, ApiKeys api, int version, ApiMessage request) {
        return new Probe(what, false, api, version, request, r -> r.errorCounts().keySet().stream()
                .allMatch(e -> e == Errors.NONE));
    }

    /** Every error in the response is one of {@code errors}, and there is one. */
    private static Predicate<AbstractResponse> refusedWith(Set<Errors> errors) {
        return r -> {
            Set<Errors> seen = new HashSet<>(r.errorCounts().keySet());
            seen.remove(Errors.NONE);
            return !seen.isEmpty() && errors.containsAll(seen);
        };
    }

    private static void run(Probe probe) throws Exception {
        String user = probe.asTenantAdmin() ? "gadmin@globex" : "bob@globex";
        String password = probe.asTenantAdmin() ? "gadmin-secret" : "bob-secret";
        byte[] sent = MessageUtil.toByteBufferAccessor(probe.request(), (short) probe.version()).buffer().array();
        try (KafkaWire wire = KafkaWire.connect(port()).authenticatePlain(user, password)) {
            RequestHeader header = wire.send(probe.api(), (short) probe.version(), probe.request());
            byte[] answer = wire.receiveFrame();
            AbstractResponse response = AbstractResponse.parseResponse(ByteBuffer.wrap(answer), header);
            assertTrue(probe.expected().test(response), probe.what() + ": got " + response.errorCounts() + " in "
                    + response.data());
            for (Map.Entry<String, byte[]> secret : acmeSecrets().entrySet()) {
                if (!contains(sent, secret.getValue())) {
                    assertFalse(contains(answer, secret.getValue()), probe.what() + ": the answer carries acme's "
                            + secret.getKey() + ": " + response.data());
                }
            }
        }
    }

    /** What of acme's may not appear in an answer to globex, as bytes on the wire. */
    private static Map<String, byte[]> acmeSecrets() {
        Map<String, byte[]> secrets = new HashMap<>();
        secrets.put("tenant name", bytes("acme"));
        secrets.put("tenant id", bytes(acmeTenantId));
        secrets.put("other topic", bytes("acme-ledger"));
        secrets.put("records", bytes("secret-payment"));
        secrets.put("user", bytes("alice"));
        secrets.put("member id", bytes(acmeMemberId));
        secrets.put("topic id (binary)", uuidBytes(acmeOrdersId));
        secrets.put("topic id (text)", bytes(acmeOrdersId.toString()));
        return secrets;
    }

    // ---------------------------------------------------------------- request builders

    private static ProduceRequestData produce(String topic, Uuid topicId) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord("k".getBytes(), "globex-was-here".getBytes()));
        return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(
                new ProduceRequestData.TopicProduceDataCollection(List.of(new ProduceRequestData.TopicProduceData()
                        .setName(topic).setTopicId(topicId).setPartitionData(List.of(
                                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))))
                        .iterator()));
    }

    private static FetchRequestData fetch(String topic, Uuid topicId) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                .setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topic)
                        .setTopicId(topicId).setPartitions(List.of(new FetchRequestData.FetchPartition()
                                .setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
    }

    private static ListOffsetsRequestData listOffsets(String topic, long timestamp) {
        return new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                new ListOffsetsRequestData.ListOffsetsTopic().setName(topic).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                                .setTimestamp(timestamp)))));
    }

    private static IncrementalAlterConfigsRequestData incrementalAlter(byte type, String name, String config,
                                                                       String value) {
        return new IncrementalAlterConfigsRequestData().setResources(
                new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(type)
                                .setResourceName(name).setConfigs(
                                        new IncrementalAlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                new IncrementalAlterConfigsRequestData.AlterableConfig()
                                                        .setName(config).setValue(value).setConfigOperation((byte) 0))
                                                .iterator()))).iterator()));
    }

    // ---------------------------------------------------------------- clients and REST

    private static Map<String, Object> client(String user, String password) {
        return ScramClients.config(server, user, password);
    }

    private static void produce(Map<String, Object> client, String topic, String prefix, int count)
            throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(client, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, prefix + "-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<ConsumerRecord<String, String>> readAll(Map<String, Object> client, String topic) {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        records.sort(java.util.Comparator.comparing(ConsumerRecord::value));
        return records;
    }

    /** An operator's call to the REST API, with HTTP Basic; fails unless it succeeds. */
    private static JsonNode rest(String method, String path, Map<String, ?> body) throws Exception {
        return new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD).call(method, path, body);
    }

    private static int port() {
        return Integer.parseInt(server.bootstrap("SASL_PLAINTEXT").split(":")[1]);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] uuidBytes(Uuid id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                .array();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
