package dev.bulwark.gateway.quota;

import dev.bulwark.acl.quota.EntityName;
import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.acl.quota.QuotaWindow;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.testing.TestLogs;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the quota stage records and which responses it throttles. */
class QuotaStageTest {

    private static final AuthenticatedPrincipal ALICE = new AuthenticatedPrincipal("alice", "acme", Role.MEMBER,
            "SCRAM-SHA-512", -1);

    @TempDir
    Path dir;

    private QuotaStore store;
    private QuotaStage stage;

    @BeforeEach
    void setUp() throws Exception {
        store = QuotaStore.open(dir, TestLogs.sealedFiles(dir));
        stage = new QuotaStage(new QuotaManager(store, QuotaWindow.KAFKA_DEFAULT, Clock.systemUTC()));
    }

    @Test
    void withoutQuotasTheReplyIsPassedThroughUntouched() {
        Request produce = request(ApiKeys.PRODUCE, produceOf(100_000));
        CompletableFuture<Reply> reply = CompletableFuture.completedFuture(Reply.of(new ProduceResponseData()));
        assertEquals(0, stage.beforeHandling(produce));
        assertSame(reply, stage.afterHandling(produce, reply, 0, 1_000));
    }

    @Test
    void aProducerOverItsByteRateGetsAThrottleTime() throws Exception {
        limit(new QuotaEntity.Client("acme", EntityName.of("alice"), null), QuotaKind.PRODUCER_BYTE_RATE, 1000.0);
        // A window of at least 10 s at 1000 B/s lets 10 000 bytes through; 100 000 bytes earn a throttle.
        Request produce = request(ApiKeys.PRODUCE, produceOf(100_000));
        int throttle = stage.beforeHandling(produce);
        assertTrue(throttle > 0);
        ApiMessage body = answer(produce, new ProduceResponseData(), throttle, 0);
        assertEquals(throttle, ThrottleTimeField.get(body));

        // Another tenant's alice is not limited by acme's quota.
        AuthenticatedPrincipal other = new AuthenticatedPrincipal("alice", "globex", Role.MEMBER, "PLAIN", -1);
        assertEquals(0, stage.beforeHandling(request(ApiKeys.PRODUCE, produceOf(100_000), other)));
    }

    @Test
    void requestTimeIsMeasuredAndApiVersionsIsExempt() throws Exception {
        limit(new QuotaEntity.Client("acme", null, EntityName.DEFAULT), QuotaKind.REQUEST_PERCENTAGE, 1.0);
        long twoSecondsOfThread = TimeUnit.SECONDS.toNanos(2);
        ApiMessage metadata = answer(request(ApiKeys.METADATA, new MetadataRequestData()), new MetadataResponseData(),
                0, twoSecondsOfThread);
        assertTrue(ThrottleTimeField.get(metadata) > 0);
        ApiMessage versions = answer(request(ApiKeys.API_VERSIONS, new ApiVersionsRequestData()),
                new ApiVersionsResponseData(), 0, twoSecondsOfThread);
        assertEquals(0, ThrottleTimeField.get(versions));
    }

    private void limit(QuotaEntity entity, QuotaKind kind, double value) throws Exception {
        store.alter(List.of(new QuotaStore.Alteration(entity, kind, value)));
    }

    private ApiMessage answer(Request request, ApiMessage response, int throttleMs, long handlerNanos) {
        Reply reply = stage.afterHandling(request, CompletableFuture.completedFuture(Reply.of(response)), throttleMs,
                handlerNanos).toCompletableFuture().join();
        return ((Reply.Respond) reply).body();
    }

    private static ProduceRequestData produceOf(int bytes) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(new byte[bytes]));
        ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("orders");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        data.topicData().add(topic);
        return data;
    }

    private static Request request(ApiKeys key, ApiMessage data) {
        return request(key, data, ALICE);
    }

    private static Request request(ApiKeys key, ApiMessage data, AuthenticatedPrincipal principal) {
        short version = key.latestVersion();
        RequestHeader header = new RequestHeader(key, version, "app", 1);
        AbstractRequest body = AbstractRequest.parseRequest(key, version,
                new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(data, version).buffer())).request;
        RequestContext context = new RequestContext(header, "conn-1", InetAddress.getLoopbackAddress(),
                new KafkaPrincipal(KafkaPrincipal.USER_TYPE, principal.user()), ListenerName.normalised("PLAINTEXT"),
                SecurityProtocol.PLAINTEXT, ClientInformation.EMPTY, false);
        return new Request(context, body, new Request.Listener("PLAINTEXT", "127.0.0.1", 9092), principal);
    }
}
