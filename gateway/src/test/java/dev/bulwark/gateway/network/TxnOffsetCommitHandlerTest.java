package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TxnOffsetCommit through the request pipeline of the broker's real parts, with OffsetFetch and the transaction
 * coordinator around it: offsets pending until the transaction commits (UNSTABLE_OFFSET_COMMIT meanwhile for
 * read_committed consumers), dropped when it aborts, Kafka's errors per version, and the ACL checks in Kafka's order.
 */
class TxnOffsetCommitHandlerTest {

    private static final String GROUP = "payments";
    private static final TransactionalIdKey APP = new TransactionalIdKey(Tenant.DEFAULT_ID, "app");

    @TempDir
    Path dir;

    private BrokerParts broker;

    @BeforeEach
    void start() throws IOException {
        broker = new BrokerParts(dir);
    }

    @AfterEach
    void stop() throws IOException {
        broker.close();
    }

    @Test
    void offsetsCommittedInATransactionAreVisibleOnceItCommits() {
        ProducerIdAndEpoch producer = beginWithGroup();

        assertEquals(List.of(Errors.NONE), commit((short) 3, producer, 17, ""));

        assertEquals(Errors.UNSTABLE_OFFSET_COMMIT.code(), fetch(true).errorCode(), "a read_committed consumer waits");
        assertEquals(-1, fetch(false).committedOffset(), "a read_uncommitted consumer sees the committed offset");

        broker.transactions.endTransaction(APP, producer.producerId(), producer.epoch(), true).join();
        broker.timer.runDue();

        assertEquals(Errors.NONE.code(), fetch(true).errorCode());
        assertEquals(17, fetch(true).committedOffset());
    }

    @Test
    void offsetsOfAnAbortedTransactionAreNeverVisible() {
        ProducerIdAndEpoch producer = beginWithGroup();
        commit((short) 4, producer, 17, "");

        broker.transactions.endTransaction(APP, producer.producerId(), producer.epoch(), false).join();
        broker.timer.runDue();

        assertEquals(Errors.NONE.code(), fetch(true).errorCode());
        assertEquals(-1, fetch(true).committedOffset());
    }

    @Test
    void aFencedProducerIsToldInvalidProducerEpochAtEveryVersionAsKafkaDoes() {
        ProducerIdAndEpoch producer = beginWithGroup();
        ProducerIdAndEpoch stale = new ProducerIdAndEpoch(producer.producerId(), (short) (producer.epoch() - 1));
        ProducerIdAndEpoch unknown = new ProducerIdAndEpoch(producer.producerId() + 100, producer.epoch());

        for (short v = 0; v <= 4; v++) {
            assertEquals(List.of(Errors.INVALID_PRODUCER_EPOCH), commit(v, stale, 1, ""), "v" + v);
            assertEquals(List.of(Errors.INVALID_PRODUCER_ID_MAPPING), commit(v, unknown, 1, ""), "v" + v);
        }
        assertEquals(-1, fetch(false).committedOffset());
    }

    @Test
    void aGroupTheTransactionDoesNotHoldIsAnInvalidStateThenAbortableFromV4() {
        ProducerIdAndEpoch producer = broker.transactions.initProducerId(APP, 60_000, Optional.empty()).join();

        assertEquals(List.of(Errors.INVALID_TXN_STATE), commit((short) 3, producer, 1, ""));
        assertEquals(List.of(Errors.TRANSACTION_ABORTABLE), commit((short) 4, producer, 1, ""));
    }

    @Test
    void metadataLongerThanTheBrokerKeepsIsRefusedForThatPartitionOnly() {
        ProducerIdAndEpoch producer = beginWithGroup();
        TxnOffsetCommitRequestData data = request(producer, 5, "");
        data.topics().get(0).partitions().add(new TxnOffsetCommitRequestPartition().setPartitionIndex(1)
                .setCommittedOffset(6).setCommittedMetadata("m".repeat(4097)));

        assertEquals(List.of(Errors.NONE, Errors.OFFSET_METADATA_TOO_LARGE), errors(send((short) 3, data,
                BrokerParts.OPERATOR)));
    }

    @Test
    void theTransactionalIdThenTheGroupThenEachTopicMustBeGranted() throws IOException {
        broker.security.tenants().setAllowEveryoneIfNoAcl(Tenant.DEFAULT_ID, false);
        AuthenticatedPrincipal mallory = new AuthenticatedPrincipal("mallory", Tenant.DEFAULT_ID, Role.MEMBER,
                "SCRAM-SHA-512", -1);
        ProducerIdAndEpoch producer = beginWithGroup();
        TxnOffsetCommitRequestData data = request(producer, 5, "");

        assertEquals(List.of(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED), errors(send((short) 3, data, mallory)));
        allow(ResourceType.TRANSACTIONAL_ID, APP.transactionalId(), AclOperation.WRITE);
        assertEquals(List.of(Errors.GROUP_AUTHORIZATION_FAILED), errors(send((short) 3, data, mallory)));
        allow(ResourceType.GROUP, GROUP, AclOperation.READ);
        assertEquals(List.of(Errors.TOPIC_AUTHORIZATION_FAILED), errors(send((short) 3, data, mallory)));
        allow(ResourceType.TOPIC, "orders", AclOperation.READ);
        assertEquals(List.of(Errors.NONE), errors(send((short) 3, data, mallory)));
    }

    // ---------------------------------------------------------------- helpers

    private ProducerIdAndEpoch beginWithGroup() {
        ProducerIdAndEpoch producer = broker.transactions.initProducerId(APP, 60_000, Optional.empty()).join();
        broker.transactions.addOffsets(APP, producer.producerId(), producer.epoch(), GROUP).join();
        return producer;
    }

    private static TxnOffsetCommitRequestData request(ProducerIdAndEpoch producer, long offset, String metadata) {
        List<TxnOffsetCommitRequestPartition> partitions = new ArrayList<>();
        partitions.add(new TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(offset)
                .setCommittedMetadata(metadata));
        return new TxnOffsetCommitRequestData().setTransactionalId(APP.transactionalId()).setGroupId(GROUP)
                .setProducerId(producer.producerId()).setProducerEpoch(producer.epoch())
                .setTopics(new ArrayList<>(List.of(new TxnOffsetCommitRequestTopic().setName("orders")
                        .setPartitions(partitions))));
    }

    private List<Errors> commit(short version, ProducerIdAndEpoch producer, long offset, String metadata) {
        return errors(send(version, request(producer, offset, metadata), BrokerParts.OPERATOR));
    }

    private TxnOffsetCommitResponseData send(short version, TxnOffsetCommitRequestData data,
                                             AuthenticatedPrincipal sender) {
        return (TxnOffsetCommitResponseData) answer(ApiKeys.TXN_OFFSET_COMMIT, version, data, sender);
    }

    private ApiMessage answer(ApiKeys key, short version, ApiMessage data, AuthenticatedPrincipal sender) {
        Reply reply = broker.pipeline().process(broker.request(key, version, data, sender)).toCompletableFuture()
                .join();
        return assertInstanceOf(Reply.Respond.class, reply).body();
    }

    /** The error of each partition answered, in request order, without repeats of the same error in a row. */
    private static List<Errors> errors(TxnOffsetCommitResponseData response) {
        List<Errors> errors = new ArrayList<>();
        response.topics().forEach(t -> t.partitions().forEach(p -> {
            Errors error = Errors.forCode(p.errorCode());
            if (errors.isEmpty() || errors.get(errors.size() - 1) != error) {
                errors.add(error);
            }
        }));
        return errors;
    }

    /** The group's orders-0 as OffsetFetch v7 answers it, asking for stable offsets or not. */
    private OffsetFetchResponseData.OffsetFetchResponsePartition fetch(boolean requireStable) {
        OffsetFetchResponseData response = (OffsetFetchResponseData) answer(ApiKeys.OFFSET_FETCH, (short) 7,
                new OffsetFetchRequestData().setGroupId(GROUP).setRequireStable(requireStable).setTopics(List.of(
                        new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("orders")
                                .setPartitionIndexes(List.of(0)))), BrokerParts.OPERATOR);
        return response.topics().get(0).partitions().get(0);
    }

    private void allow(ResourceType type, String name, AclOperation operation) {
        CreateAclsResponseData created = (CreateAclsResponseData) answer(ApiKeys.CREATE_ACLS, (short) 3,
                new CreateAclsRequestData().setCreations(List.of(new CreateAclsRequestData.AclCreation()
                        .setResourceType(type.code()).setResourceName(name)
                        .setResourcePatternType(PatternType.LITERAL.code()).setPrincipal("User:mallory")
                        .setHost("*").setOperation(operation.code())
                        .setPermissionType(AclPermissionType.ALLOW.code()))), BrokerParts.OPERATOR);
        assertTrue(created.results().stream().allMatch(r -> r.errorCode() == 0), created.toString());
    }
}
