package dev.bulwark.gateway.network;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.group.CommittedOffset;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.group.JoinResult;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
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
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.utils.Utils;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * For each API the broker serves, requests a client could send at a given version that make the handler build the
 * responses clients see: successes with every field the handler fills, and the error paths (unknown topics, members,
 * groups). Requests that need prior state (a member id, a committed offset) set it up through the coordinator.
 */
final class RepresentativeRequests {

    static final String STABLE_GROUP = "stable";
    static final String COMMITTED_GROUP = "committed";
    static final long COMMITTED_OFFSET = 42;
    static final String TRANSACTIONAL_ID = "payments";
    /** A transactional id with a transaction open on shipments-0. */
    static final String OPEN_TRANSACTIONAL_ID = "shipper";

    private final BrokerParts broker;
    private final TopicMetadata orders;
    private final Map<ApiKeys, IntFunction<List<ApiMessage>>> byApi = new LinkedHashMap<>();
    private final String stableMember;
    private int transactionalIds;
    private final ProducerIdAndEpoch transactional;
    private final ProducerIdAndEpoch shipper;

    RepresentativeRequests(BrokerParts broker) {
        this.broker = broker;
        this.orders = broker.orders;
        stableMember = joinAndSync(STABLE_GROUP, null);
        transactional = broker.transactions.initProducerId(new TransactionalIdKey(Tenant.DEFAULT_ID, TRANSACTIONAL_ID),
                60_000, Optional.empty()).join();
        broker.groups.commit(new GroupKey(Tenant.DEFAULT_ID, COMMITTED_GROUP), -1, "", null, Map.of(
                new TopicPartition("orders", 0), new CommittedOffset(COMMITTED_OFFSET, 0, "meta", broker.timer.nowMs())))
                .join();
        shipper = openTransaction();

        byApi.put(ApiKeys.API_VERSIONS, this::apiVersions);
        byApi.put(ApiKeys.METADATA, this::metadata);
        byApi.put(ApiKeys.PRODUCE, this::produce);
        byApi.put(ApiKeys.FETCH, this::fetch);
        byApi.put(ApiKeys.LIST_OFFSETS, this::listOffsets);
        byApi.put(ApiKeys.OFFSET_FOR_LEADER_EPOCH, this::offsetForLeaderEpoch);
        byApi.put(ApiKeys.INIT_PRODUCER_ID, this::initProducerId);
        byApi.put(ApiKeys.ADD_PARTITIONS_TO_TXN, this::addPartitionsToTxn);
        byApi.put(ApiKeys.ADD_OFFSETS_TO_TXN, this::addOffsetsToTxn);
        byApi.put(ApiKeys.END_TXN, this::endTxn);
        byApi.put(ApiKeys.CREATE_TOPICS, this::createTopics);
        byApi.put(ApiKeys.DELETE_TOPICS, this::deleteTopics);
        byApi.put(ApiKeys.CREATE_PARTITIONS, this::createPartitions);
        byApi.put(ApiKeys.DELETE_RECORDS, this::deleteRecords);
        byApi.put(ApiKeys.DESCRIBE_CONFIGS, this::describeConfigs);
        byApi.put(ApiKeys.ALTER_CONFIGS, this::alterConfigs);
        byApi.put(ApiKeys.INCREMENTAL_ALTER_CONFIGS, this::incrementalAlterConfigs);
        byApi.put(ApiKeys.DESCRIBE_CLUSTER, this::describeCluster);
        byApi.put(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, this::describeTopicPartitions);
        byApi.put(ApiKeys.FIND_COORDINATOR, this::findCoordinator);
        byApi.put(ApiKeys.JOIN_GROUP, this::joinGroup);
        byApi.put(ApiKeys.SYNC_GROUP, this::syncGroup);
        byApi.put(ApiKeys.HEARTBEAT, this::heartbeat);
        byApi.put(ApiKeys.LEAVE_GROUP, this::leaveGroup);
        byApi.put(ApiKeys.OFFSET_COMMIT, this::offsetCommit);
        byApi.put(ApiKeys.OFFSET_FETCH, this::offsetFetch);
        byApi.put(ApiKeys.OFFSET_DELETE, this::offsetDelete);
        byApi.put(ApiKeys.TXN_OFFSET_COMMIT, this::txnOffsetCommit);
        byApi.put(ApiKeys.LIST_GROUPS, this::listGroups);
        byApi.put(ApiKeys.DESCRIBE_GROUPS, this::describeGroups);
        byApi.put(ApiKeys.DELETE_GROUPS, this::deleteGroups);
        byApi.put(ApiKeys.LIST_TRANSACTIONS, this::listTransactions);
        byApi.put(ApiKeys.DESCRIBE_TRANSACTIONS, this::describeTransactions);
        byApi.put(ApiKeys.DESCRIBE_PRODUCERS, this::describeProducers);
        byApi.put(ApiKeys.SASL_HANDSHAKE, v -> List.of(new SaslHandshakeRequestData().setMechanism("PLAIN")));
        byApi.put(ApiKeys.SASL_AUTHENTICATE, v -> List.of(new SaslAuthenticateRequestData()
                .setAuthBytes("\0admin\0secret".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        byApi.put(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, this::describeUserScramCredentials);
        byApi.put(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, this::alterUserScramCredentials);
        byApi.put(ApiKeys.CREATE_ACLS, this::createAcls);
        byApi.put(ApiKeys.DESCRIBE_ACLS, this::describeAcls);
        byApi.put(ApiKeys.DELETE_ACLS, this::deleteAcls);
        byApi.put(ApiKeys.ALTER_CLIENT_QUOTAS, this::alterClientQuotas);
        byApi.put(ApiKeys.DESCRIBE_CLIENT_QUOTAS, this::describeClientQuotas);
    }

    /** The APIs this class has requests for. */
    java.util.Set<ApiKeys> apis() {
        return byApi.keySet();
    }

    List<ApiMessage> requests(ApiKeys key, short version) {
        return byApi.get(key).apply(version);
    }

    // ---------------------------------------------------------------- transactions

    /** {@link #OPEN_TRANSACTIONAL_ID}'s transaction, begun on shipments-0 with one batch written there. */
    private ProducerIdAndEpoch openTransaction() {
        TopicMetadata shipments = broker.createTopic("shipments", 1);
        TransactionalIdKey key = new TransactionalIdKey(Tenant.DEFAULT_ID, OPEN_TRANSACTIONAL_ID);
        ProducerIdAndEpoch producer = broker.transactions.initProducerId(key, 60_000, Optional.empty()).join();
        broker.transactions.addPartitions(key, producer.producerId(), producer.epoch(),
                Set.of(new TopicPartition("shipments", 0))).join();
        broker.log(shipments, 0).append(MemoryRecords.withTransactionalRecords(Compression.NONE,
                producer.producerId(), producer.epoch(), 0, new SimpleRecord(broker.timer.nowMs(), null,
                        "parcel".getBytes(StandardCharsets.UTF_8))));
        return producer;
    }

    private List<ApiMessage> listTransactions(int v) {
        ListTransactionsRequestData filtered = new ListTransactionsRequestData()
                .setStateFilters(List.of("Ongoing", "NoSuchState"))
                .setProducerIdFilters(List.of(shipper.producerId()));
        if (v >= 1) {
            filtered.setDurationFilter(0);
        }
        if (v >= 2) {
            filtered.setTransactionalIdPattern("ship.*");
        }
        return List.of(new ListTransactionsRequestData(), filtered);
    }

    private List<ApiMessage> describeTransactions(int v) {
        return List.of(new DescribeTransactionsRequestData().setTransactionalIds(List.of(OPEN_TRANSACTIONAL_ID,
                "no-such-transactional-id")));
    }

    private List<ApiMessage> describeProducers(int v) {
        DescribeProducersRequestData data = new DescribeProducersRequestData();
        data.topics().add(new DescribeProducersRequestData.TopicRequest().setName("shipments")
                .setPartitionIndexes(List.of(0, 7)));
        data.topics().add(new DescribeProducersRequestData.TopicRequest().setName("no-such-topic")
                .setPartitionIndexes(List.of(0)));
        return List.of(data);
    }

    // ---------------------------------------------------------------- ACLs

    private List<ApiMessage> createAcls(int v) {
        return List.of(new CreateAclsRequestData().setCreations(List.of(
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.TOPIC.code())
                        .setResourceName("orders").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()),
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.GROUP.code())
                        .setResourceName("etl-").setResourcePatternType(PatternType.PREFIXED.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.READ.code())
                        .setPermissionType(AclPermissionType.DENY.code()),
                new CreateAclsRequestData.AclCreation().setResourceType(ResourceType.USER.code())
                        .setResourceName("alice").setResourcePatternType(PatternType.LITERAL.code())
                        .setPrincipal("User:alice").setHost("*").setOperation(AclOperation.ALTER.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()))));
    }

    private List<ApiMessage> describeAcls(int v) {
        return List.of(new DescribeAclsRequestData().setResourceTypeFilter(ResourceType.ANY.code())
                        .setPatternTypeFilter(PatternType.ANY.code()).setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ANY.code()),
                new DescribeAclsRequestData().setResourceTypeFilter(ResourceType.TOPIC.code())
                        .setResourceNameFilter("orders").setPatternTypeFilter(PatternType.MATCH.code())
                        .setPrincipalFilter("User:alice").setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()));
    }

    private List<ApiMessage> deleteAcls(int v) {
        return List.of(new DeleteAclsRequestData().setFilters(List.of(
                new DeleteAclsRequestData.DeleteAclsFilter().setResourceTypeFilter(ResourceType.GROUP.code())
                        .setPatternTypeFilter(PatternType.ANY.code()).setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ANY.code()),
                new DeleteAclsRequestData.DeleteAclsFilter().setResourceTypeFilter(ResourceType.TOPIC.code())
                        .setResourceNameFilter("no-such-topic").setPatternTypeFilter(PatternType.LITERAL.code())
                        .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code()))));
    }

    // ---------------------------------------------------------------- users

    private List<ApiMessage> describeUserScramCredentials(int v) {
        return List.of(new DescribeUserScramCredentialsRequestData().setUsers(null),
                new DescribeUserScramCredentialsRequestData().setUsers(List.of(
                        new DescribeUserScramCredentialsRequestData.UserName().setName(BrokerParts.OPERATOR.user()),
                        new DescribeUserScramCredentialsRequestData.UserName().setName("nobody"))));
    }

    // ---------------------------------------------------------------- quotas

    private List<ApiMessage> alterClientQuotas(int v) {
        return List.of(new AlterClientQuotasRequestData().setEntries(List.of(
                new AlterClientQuotasRequestData.EntryData()
                        .setEntity(List.of(new AlterClientQuotasRequestData.EntityData().setEntityType("user")
                                .setEntityName("alice")))
                        .setOps(List.of(new AlterClientQuotasRequestData.OpData().setKey("producer_byte_rate")
                                .setValue(1048576))),
                new AlterClientQuotasRequestData.EntryData()
                        .setEntity(List.of(new AlterClientQuotasRequestData.EntityData().setEntityType("client-id")
                                .setEntityName(null)))
                        .setOps(List.of(new AlterClientQuotasRequestData.OpData().setKey("no_such_quota")
                                .setValue(1))))));
    }

    private List<ApiMessage> describeClientQuotas(int v) {
        return List.of(new DescribeClientQuotasRequestData(),
                new DescribeClientQuotasRequestData().setStrict(true).setComponents(List.of(
                        new DescribeClientQuotasRequestData.ComponentData().setEntityType("user")
                                .setMatchType((byte) 0).setMatch("alice"))));
    }

    private List<ApiMessage> alterUserScramCredentials(int v) {
        return List.of(new AlterUserScramCredentialsRequestData()
                .setUpsertions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialUpsertion()
                        .setName("alice").setMechanism((byte) 1).setIterations(4096)
                        .setSalt(new byte[]{1, 2, 3, 4}).setSaltedPassword(new byte[32])))
                .setDeletions(List.of(new AlterUserScramCredentialsRequestData.ScramCredentialDeletion()
                        .setName("nobody").setMechanism((byte) 2))));
    }

    // ---------------------------------------------------------------- cluster and topics

    private List<ApiMessage> apiVersions(int v) {
        ApiVersionsRequestData data = new ApiVersionsRequestData();
        if (v >= 3) {
            data.setClientSoftwareName("bulwark-round-trip").setClientSoftwareVersion("1.0");
        }
        return List.of(data);
    }

    private List<ApiMessage> metadata(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        MetadataRequestData named = new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName("orders"),
                new MetadataRequestData.MetadataRequestTopic().setName("missing")));
        if (v >= 4) {
            named.setAllowAutoTopicCreation(false);
        }
        if (v >= 8) {
            named.setIncludeTopicAuthorizedOperations(true);
        }
        if (v >= 8 && v <= 10) {
            named.setIncludeClusterAuthorizedOperations(true);
        }
        requests.add(named);
        requests.add(new MetadataRequestData().setTopics(v == 0 ? List.of() : null));
        if (v >= 10) {
            requests.add(new MetadataRequestData().setAllowAutoTopicCreation(false).setTopics(List.of(
                    new MetadataRequestData.MetadataRequestTopic().setName(null).setTopicId(orders.id()),
                    new MetadataRequestData.MetadataRequestTopic().setName(null).setTopicId(Uuid.randomUuid()))));
        }
        return requests;
    }

    private List<ApiMessage> createTopics(int v) {
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(1000);
        data.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("created-v" + v).setNumPartitions(2)
                .setReplicationFactor((short) 1));
        data.topics().find("created-v" + v).configs().add(new CreateTopicsRequestData.CreatableTopicConfig()
                .setName("retention.ms").setValue("3600000"));
        data.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("orders").setNumPartitions(1)
                .setReplicationFactor((short) 1));
        data.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("compacted-v" + v).setNumPartitions(1)
                .setReplicationFactor((short) 1));
        data.topics().find("compacted-v" + v).configs().add(new CreateTopicsRequestData.CreatableTopicConfig()
                .setName("cleanup.policy").setValue("compact"));
        return List.of(data);
    }

    private List<ApiMessage> deleteTopics(int v) {
        TopicMetadata doomed = broker.createTopic("doomed-v" + v, 1);
        DeleteTopicsRequestData data = new DeleteTopicsRequestData().setTimeoutMs(1000);
        if (v >= 6) {
            data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName(null).setTopicId(doomed.id()));
            data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName("no-such-topic")
                    .setTopicId(Uuid.ZERO_UUID));
            data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName(null)
                    .setTopicId(Uuid.randomUuid()));
        } else {
            data.setTopicNames(List.of(doomed.name(), "no-such-topic"));
        }
        return List.of(data);
    }

    private List<ApiMessage> createPartitions(int v) {
        broker.createTopic("grow-v" + v, 1);
        CreatePartitionsRequestData data = new CreatePartitionsRequestData().setTimeoutMs(1000);
        data.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("grow-v" + v).setCount(3)
                .setAssignments(null));
        data.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName("no-such-topic")
                .setCount(3).setAssignments(null));
        return List.of(data);
    }

    private List<ApiMessage> describeConfigs(int v) {
        DescribeConfigsRequestData data = new DescribeConfigsRequestData().setIncludeSynonyms(true);
        if (v >= 3) {
            data.setIncludeDocumentation(true);
        }
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                .setResourceName("orders").setConfigurationKeys(null));
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                .setResourceName(Integer.toString(BrokerParts.NODE_ID)).setConfigurationKeys(List.of(
                        "log.retention.ms", "num.io.threads")));
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                .setResourceName("").setConfigurationKeys(null));
        data.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                .setResourceName("missing").setConfigurationKeys(null));
        return List.of(data);
    }

    private List<ApiMessage> alterConfigs(int v) {
        AlterConfigsRequestData data = new AlterConfigsRequestData().setValidateOnly(true);
        AlterConfigsRequestData.AlterConfigsResource topic = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType((byte) 2).setResourceName("orders");
        topic.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("86400000"));
        data.resources().add(topic);
        AlterConfigsRequestData.AlterConfigsResource missing = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType((byte) 2).setResourceName("missing");
        data.resources().add(missing);
        return List.of(data);
    }

    private List<ApiMessage> incrementalAlterConfigs(int v) {
        IncrementalAlterConfigsRequestData data = new IncrementalAlterConfigsRequestData().setValidateOnly(true);
        IncrementalAlterConfigsRequestData.AlterConfigsResource topic =
                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                        .setResourceName("orders");
        topic.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                .setConfigOperation((byte) 0).setValue("86400000"));
        data.resources().add(topic);
        IncrementalAlterConfigsRequestData.AlterConfigsResource brokerResource =
                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 4)
                        .setResourceName(Integer.toString(BrokerParts.NODE_ID));
        brokerResource.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig()
                .setName("log.retention.ms").setConfigOperation((byte) 2).setValue("1"));
        data.resources().add(brokerResource);
        return List.of(data);
    }

    private List<ApiMessage> describeCluster(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        requests.add(new DescribeClusterRequestData().setIncludeClusterAuthorizedOperations(true));
        if (v >= 1) {
            requests.add(new DescribeClusterRequestData().setEndpointType((byte) 2));
        }
        return requests;
    }

    private List<ApiMessage> describeTopicPartitions(int v) {
        DescribeTopicPartitionsRequestData paged = new DescribeTopicPartitionsRequestData()
                .setResponsePartitionLimit(1).setTopics(List.of(
                        new DescribeTopicPartitionsRequestData.TopicRequest().setName("orders"),
                        new DescribeTopicPartitionsRequestData.TopicRequest().setName("missing")));
        return List.of(paged, new DescribeTopicPartitionsRequestData());
    }

    private List<ApiMessage> findCoordinator(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        if (v >= 4) {
            requests.add(new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of("g", "")));
            requests.add(new FindCoordinatorRequestData().setKeyType((byte) 1).setCoordinatorKeys(List.of("tx")));
        } else {
            requests.add(new FindCoordinatorRequestData().setKey("g"));
            if (v >= 1) {
                requests.add(new FindCoordinatorRequestData().setKey("tx").setKeyType((byte) 1));
            }
        }
        return requests;
    }

    // ---------------------------------------------------------------- records

    private List<ApiMessage> produce(int v) {
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData();
        ProduceRequestData.TopicProduceData unknown = new ProduceRequestData.TopicProduceData();
        if (v >= 13) {
            topic.setTopicId(orders.id());
            unknown.setTopicId(Uuid.randomUuid());
        } else {
            topic.setName("orders");
            unknown.setName("missing");
        }
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(1)
                .setRecords(broker.records("produced-v" + v)));
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(7)
                .setRecords(broker.records("no such partition")));
        unknown.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(broker.records("no such topic")));
        data.topicData().add(topic);
        data.topicData().add(unknown);
        return List.of(data);
    }

    private List<ApiMessage> fetch(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        requests.add(fetchRequest(v, -1));
        if (v >= 7) {
            requests.add(fetchRequest(v, 0));
        }
        return requests;
    }

    /** A fetch of orders-0 from its start and of a topic that does not exist; epoch 0 opens a fetch session. */
    private FetchRequestData fetchRequest(int v, int sessionEpoch) {
        FetchRequestData data = new FetchRequestData().setMaxWaitMs(0).setMinBytes(1);
        if (v >= 3) {
            data.setMaxBytes(1 << 20);
        }
        if (v >= 7) {
            data.setSessionId(0).setSessionEpoch(sessionEpoch);
        }
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic();
        FetchRequestData.FetchTopic unknown = new FetchRequestData.FetchTopic();
        if (v >= 13) {
            topic.setTopicId(orders.id());
            unknown.setTopicId(Uuid.randomUuid());
        } else {
            topic.setTopic("orders");
            unknown.setTopic("missing");
        }
        topic.partitions().add(fetchPartition(v, 0));
        unknown.partitions().add(fetchPartition(v, 0));
        data.topics().add(topic);
        data.topics().add(unknown);
        return data;
    }

    private static FetchRequestData.FetchPartition fetchPartition(int v, int partition) {
        FetchRequestData.FetchPartition p = new FetchRequestData.FetchPartition().setPartition(partition)
                .setFetchOffset(0).setPartitionMaxBytes(1 << 20);
        if (v >= 9) {
            p.setCurrentLeaderEpoch(0);
        }
        return p;
    }

    private List<ApiMessage> listOffsets(int v) {
        ListOffsetsRequestData data = new ListOffsetsRequestData().setReplicaId(-1);
        ListOffsetsRequestData.ListOffsetsTopic topic = new ListOffsetsRequestData.ListOffsetsTopic().setName("orders");
        topic.partitions().add(listOffsetsPartition(v, 0, ListOffsetsRequest.EARLIEST_TIMESTAMP));
        topic.partitions().add(listOffsetsPartition(v, 1, v >= 7 ? ListOffsetsRequest.MAX_TIMESTAMP
                : ListOffsetsRequest.LATEST_TIMESTAMP));
        topic.partitions().add(listOffsetsPartition(v, 9, ListOffsetsRequest.LATEST_TIMESTAMP));
        data.topics().add(topic);
        ListOffsetsRequestData latest = new ListOffsetsRequestData().setReplicaId(-1);
        latest.topics().add(new ListOffsetsRequestData.ListOffsetsTopic().setName("orders").setPartitions(List.of(
                listOffsetsPartition(v, 0, ListOffsetsRequest.LATEST_TIMESTAMP),
                listOffsetsPartition(v, 1, broker.timer.nowMs()))));
        return List.of(data, latest);
    }

    private static ListOffsetsRequestData.ListOffsetsPartition listOffsetsPartition(int v, int partition,
                                                                                    long timestamp) {
        ListOffsetsRequestData.ListOffsetsPartition p = new ListOffsetsRequestData.ListOffsetsPartition()
                .setPartitionIndex(partition).setTimestamp(timestamp);
        if (v >= 4) {
            p.setCurrentLeaderEpoch(0);
        }
        return p;
    }

    private List<ApiMessage> offsetForLeaderEpoch(int v) {
        OffsetForLeaderEpochRequestData data = new OffsetForLeaderEpochRequestData();
        if (v >= 3) {
            data.setReplicaId(-1);
        }
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic =
                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("orders");
        topic.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                .setCurrentLeaderEpoch(0).setLeaderEpoch(0));
        data.topics().add(topic);
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopic missing =
                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("missing");
        missing.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                .setLeaderEpoch(0));
        data.topics().add(missing);
        return List.of(data);
    }

    private List<ApiMessage> initProducerId(int v) {
        return List.of(new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000),
                new InitProducerIdRequestData().setTransactionalId("tx-" + v).setTransactionTimeoutMs(60_000));
    }

    private List<ApiMessage> addPartitionsToTxn(int v) {
        AddPartitionsToTxnTopicCollection known = new AddPartitionsToTxnTopicCollection();
        known.add(new AddPartitionsToTxnTopic().setName("orders").setPartitions(List.of(0, 1)));
        AddPartitionsToTxnTopicCollection withMissing = known.duplicate();
        withMissing.add(new AddPartitionsToTxnTopic().setName("missing").setPartitions(List.of(0)));
        if (v < 4) {
            return List.of(new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(TRANSACTIONAL_ID)
                            .setV3AndBelowProducerId(transactional.producerId())
                            .setV3AndBelowProducerEpoch(transactional.epoch()).setV3AndBelowTopics(known),
                    new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(TRANSACTIONAL_ID)
                            .setV3AndBelowProducerId(transactional.producerId())
                            .setV3AndBelowProducerEpoch(transactional.epoch()).setV3AndBelowTopics(withMissing));
        }
        AddPartitionsToTxnTransactionCollection transactions = new AddPartitionsToTxnTransactionCollection();
        transactions.add(new AddPartitionsToTxnTransaction().setTransactionalId(TRANSACTIONAL_ID)
                .setProducerId(transactional.producerId()).setProducerEpoch(transactional.epoch())
                .setVerifyOnly(true).setTopics(known));
        transactions.add(new AddPartitionsToTxnTransaction().setTransactionalId("unknown-id")
                .setProducerId(7).setProducerEpoch((short) 0).setVerifyOnly(true).setTopics(withMissing));
        return List.of(new AddPartitionsToTxnRequestData().setTransactions(transactions));
    }

    private List<ApiMessage> addOffsetsToTxn(int v) {
        return List.of(new AddOffsetsToTxnRequestData().setTransactionalId(TRANSACTIONAL_ID)
                .setProducerId(transactional.producerId()).setProducerEpoch(transactional.epoch())
                .setGroupId(COMMITTED_GROUP));
    }

    private List<ApiMessage> endTxn(int v) {
        return List.of(new EndTxnRequestData().setTransactionalId(TRANSACTIONAL_ID)
                        .setProducerId(transactional.producerId()).setProducerEpoch(transactional.epoch())
                        .setCommitted(false),
                new EndTxnRequestData().setTransactionalId("unknown-id").setProducerId(7)
                        .setProducerEpoch((short) 0).setCommitted(true));
    }

    private List<ApiMessage> deleteRecords(int v) {
        DeleteRecordsRequestData data = new DeleteRecordsRequestData().setTimeoutMs(1000);
        data.topics().add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName("orders").setPartitions(List.of(
                new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(1).setOffset(0),
                new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(1).setOffset(-7))));
        data.topics().add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName("missing").setPartitions(List.of(
                new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(0))));
        return List.of(data);
    }

    // ---------------------------------------------------------------- groups

    private List<ApiMessage> joinGroup(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        String fresh = "join-v" + v;
        if (v >= 4) {
            requests.add(join(v, fresh, ""));
            JoinResult pending = broker.groups.join(coordinatorJoin(fresh + "-known", "", null, true)).join();
            requests.add(join(v, fresh + "-known", pending.memberId()));
        } else {
            requests.add(join(v, fresh, ""));
        }
        // A leader of an older version in a group with a static member that joined with a newer one.
        String mixed = "join-mixed-v" + v;
        JoinResult leader = broker.groups.join(coordinatorJoin(mixed, "", null, false)).join();
        broker.groups.join(coordinatorJoin(mixed, "", "static-instance", false));
        requests.add(join(v, mixed, leader.memberId()));
        requests.add(join(v, "no-such-group", "made-up-member"));
        return requests;
    }

    private JoinGroupRequestData join(int v, String group, String memberId) {
        JoinGroupRequestData data = new JoinGroupRequestData().setGroupId(group).setMemberId(memberId)
                .setSessionTimeoutMs(30_000).setProtocolType("consumer");
        if (v >= 1) {
            data.setRebalanceTimeoutMs(60_000);
        }
        data.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata(subscription()));
        return data;
    }

    private static GroupCoordinator.JoinRequest coordinatorJoin(String group, String memberId, String instanceId,
                                                                boolean requireKnownMemberId) {
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        protocols.put("range", subscription());
        return new GroupCoordinator.JoinRequest(new GroupKey(Tenant.DEFAULT_ID, group), memberId, instanceId, "client", "/127.0.0.1", 30_000, 60_000,
                "consumer", protocols, requireKnownMemberId, true);
    }

    private static byte[] subscription() {
        return Utils.toArray(ConsumerProtocol.serializeSubscription(new Subscription(List.of("orders"))));
    }

    /** A member alone in a stable group. */
    private String joinAndSync(String group, String instanceId) {
        JoinResult joined = broker.groups.join(coordinatorJoin(group, "", instanceId, false)).join();
        broker.groups.sync(new GroupKey(Tenant.DEFAULT_ID, group), joined.generationId(), joined.memberId(), instanceId, "consumer", "range",
                Map.of(joined.memberId(), new byte[] {1, 2, 3})).join();
        return joined.memberId();
    }

    private List<ApiMessage> syncGroup(int v) {
        String group = "sync-v" + v;
        JoinResult leader = broker.groups.join(coordinatorJoin(group, "", null, false)).join();
        SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId(group)
                .setGenerationId(leader.generationId()).setMemberId(leader.memberId());
        if (v >= 5) {
            sync.setProtocolType("consumer").setProtocolName("range");
        }
        sync.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(leader.memberId())
                .setAssignment(new byte[] {7, 7}));
        SyncGroupRequestData unknown = new SyncGroupRequestData().setGroupId(group).setGenerationId(1)
                .setMemberId("made-up-member");
        return List.of(sync, unknown);
    }

    private List<ApiMessage> heartbeat(int v) {
        return List.of(new HeartbeatRequestData().setGroupId(STABLE_GROUP).setGenerationId(1)
                        .setMemberId(stableMember),
                new HeartbeatRequestData().setGroupId(STABLE_GROUP).setGenerationId(1).setMemberId("made-up-member"));
    }

    private List<ApiMessage> leaveGroup(int v) {
        String group = "leave-v" + v;
        String member = joinAndSync(group, null);
        LeaveGroupRequestData data = new LeaveGroupRequestData().setGroupId(group);
        if (v >= 3) {
            data.setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId(member),
                    new LeaveGroupRequestData.MemberIdentity().setMemberId("").setGroupInstanceId("ghost")));
        } else {
            data.setMemberId(member);
        }
        return List.of(data);
    }

    private List<ApiMessage> offsetCommit(int v) {
        OffsetCommitRequestData data = new OffsetCommitRequestData().setGroupId("commit-v" + v)
                .setGenerationIdOrMemberEpoch(-1).setMemberId("");
        OffsetCommitRequestData.OffsetCommitRequestTopic topic = new OffsetCommitRequestData.OffsetCommitRequestTopic();
        OffsetCommitRequestData.OffsetCommitRequestTopic unknown =
                new OffsetCommitRequestData.OffsetCommitRequestTopic();
        if (v >= 10) {
            topic.setTopicId(orders.id());
            unknown.setTopicId(Uuid.randomUuid());
        } else {
            topic.setName("orders");
            unknown.setName("missing");
        }
        topic.partitions().add(commitPartition(v, 0));
        topic.partitions().add(commitPartition(v, 99));
        unknown.partitions().add(commitPartition(v, 0));
        data.topics().add(topic);
        data.topics().add(unknown);
        OffsetCommitRequestData member = new OffsetCommitRequestData().setGroupId(STABLE_GROUP)
                .setGenerationIdOrMemberEpoch(7).setMemberId(stableMember);
        return List.of(data, member);
    }

    private static OffsetCommitRequestData.OffsetCommitRequestPartition commitPartition(int v, int partition) {
        OffsetCommitRequestData.OffsetCommitRequestPartition p =
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(partition)
                        .setCommittedOffset(COMMITTED_OFFSET).setCommittedMetadata("meta");
        if (v >= 6) {
            p.setCommittedLeaderEpoch(0);
        }
        return p;
    }

    private List<ApiMessage> offsetFetch(int v) {
        List<ApiMessage> requests = new ArrayList<>();
        if (v < 8) {
            requests.add(new OffsetFetchRequestData().setGroupId(COMMITTED_GROUP).setTopics(List.of(
                    new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("orders")
                            .setPartitionIndexes(List.of(0, 1)))));
            if (v >= 2) {
                requests.add(new OffsetFetchRequestData().setGroupId(COMMITTED_GROUP).setTopics(null));
            }
            return requests;
        }
        OffsetFetchRequestData.OffsetFetchRequestTopics topic = new OffsetFetchRequestData.OffsetFetchRequestTopics()
                .setPartitionIndexes(List.of(0, 1));
        List<OffsetFetchRequestData.OffsetFetchRequestTopics> topics = new ArrayList<>(List.of(topic));
        if (v >= 10) {
            topic.setTopicId(orders.id());
            topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(Uuid.randomUuid())
                    .setPartitionIndexes(List.of(0)));
        } else {
            topic.setName("orders");
        }
        requests.add(new OffsetFetchRequestData().setGroups(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(COMMITTED_GROUP).setTopics(topics),
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("nothing-committed").setTopics(null),
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(COMMITTED_GROUP).setTopics(null))));
        return requests;
    }

    /**
     * A transactional producer's commit for a group in its transaction (orders-0 pending, orders-99 and an unknown
     * topic refused), and one for a group it never added.
     */
    private List<ApiMessage> txnOffsetCommit(int v) {
        String group = "txn-commit-v" + v;
        // A transactional id of its own each time: asking again for the same id would fence its open transaction.
        TransactionalIdKey transactionalId = new TransactionalIdKey(Tenant.DEFAULT_ID,
                "txn-commit-v" + v + "-" + ++transactionalIds);
        ProducerIdAndEpoch producer = broker.transactions.initProducerId(transactionalId, 60_000, Optional.empty())
                .join();
        broker.transactions.addOffsets(transactionalId, producer.producerId(), producer.epoch(), group).join();
        TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic topic =
                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("orders").setPartitions(List.of(
                        txnCommitPartition(v, 0), txnCommitPartition(v, 99)));
        TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic unknown =
                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("missing").setPartitions(
                        List.of(txnCommitPartition(v, 0)));
        TxnOffsetCommitRequestData inTransaction = new TxnOffsetCommitRequestData()
                .setTransactionalId(transactionalId.transactionalId()).setGroupId(group)
                .setProducerId(producer.producerId()).setProducerEpoch(producer.epoch())
                .setTopics(List.of(topic, unknown));
        TxnOffsetCommitRequestData notAdded = inTransaction.duplicate().setGroupId(group + "-not-added");
        return List.of(inTransaction, notAdded);
    }

    private static TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition txnCommitPartition(int v, int partition) {
        TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p =
                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(partition)
                        .setCommittedOffset(COMMITTED_OFFSET).setCommittedMetadata("meta");
        if (v >= 2) {
            p.setCommittedLeaderEpoch(0);
        }
        return p;
    }

    private List<ApiMessage> offsetDelete(int v) {
        String group = "offset-delete-v" + v;
        broker.groups.commit(new GroupKey(Tenant.DEFAULT_ID, group), -1, "", null, Map.of(new TopicPartition("orders", 0),
                new CommittedOffset(1, 0, "", broker.timer.nowMs()))).join();
        OffsetDeleteRequestData data = new OffsetDeleteRequestData().setGroupId(group);
        data.topics().add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("orders").setPartitions(
                List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))));
        OffsetDeleteRequestData subscribed = new OffsetDeleteRequestData().setGroupId(STABLE_GROUP);
        subscribed.topics().add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("orders")
                .setPartitions(List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition()
                        .setPartitionIndex(0))));
        return List.of(data, subscribed, new OffsetDeleteRequestData().setGroupId("no-such-group"));
    }

    private List<ApiMessage> listGroups(int v) {
        ListGroupsRequestData data = new ListGroupsRequestData();
        if (v >= 4) {
            data.setStatesFilter(List.of("Stable", "Empty"));
        }
        if (v >= 5) {
            data.setTypesFilter(List.of("classic"));
        }
        return List.of(data, new ListGroupsRequestData());
    }

    private List<ApiMessage> describeGroups(int v) {
        DescribeGroupsRequestData data = new DescribeGroupsRequestData().setGroups(List.of(STABLE_GROUP,
                COMMITTED_GROUP, "no-such-group"));
        if (v >= 3) {
            data.setIncludeAuthorizedOperations(true);
        }
        return List.of(data);
    }

    private List<ApiMessage> deleteGroups(int v) {
        String deletable = "deletable-v" + v;
        Errors committed = broker.groups.commit(new GroupKey(Tenant.DEFAULT_ID, deletable), -1, "", null, Map.of(new TopicPartition("orders", 0),
                new CommittedOffset(1, 0, "", broker.timer.nowMs()))).join();
        if (committed != Errors.NONE) {
            throw new IllegalStateException("setting up " + deletable + ": " + committed);
        }
        return List.of(new DeleteGroupsRequestData().setGroupsNames(List.of(deletable, STABLE_GROUP, "no-such-group")));
    }
}
