package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.AuthorizationCoverage;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.protocol.RequestPipeline;
import dev.bulwark.gateway.quota.QuotaStage;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Authorization fails closed. Every (API, version) the broker advertises has a known authorization rule; one it does
 * not know is refused before any handler runs; and every advertised API at every version, sent by a member that no
 * ACL grants anything, is answered with Kafka's authorization errors or with nothing of anyone's resources.
 */
class FailsClosedTest {

    /** The answers that refuse without revealing: authorization errors, an unknown id, a malformed request. */
    private static final Set<Errors> REFUSALS = Set.of(Errors.TOPIC_AUTHORIZATION_FAILED,
            Errors.GROUP_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED,
            Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, Errors.UNKNOWN_TOPIC_ID, Errors.INVALID_REQUEST,
            Errors.FETCH_SESSION_ID_NOT_FOUND, Errors.UNSUPPORTED_ENDPOINT_TYPE, Errors.COORDINATOR_NOT_AVAILABLE);
    /** Served before and during authentication, as in Kafka. */
    private static final Set<ApiKeys> UNAUTHENTICATED = Set.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE,
            ApiKeys.SASL_AUTHENTICATE);
    /** Names of resources the broker holds; an answer that was not refused must show none of them. */
    private static final List<String> RESOURCES = List.of("orders", RepresentativeRequests.STABLE_GROUP,
            RepresentativeRequests.COMMITTED_GROUP, "alice", BrokerParts.OPERATOR.user(),
            RepresentativeRequests.OPEN_TRANSACTIONAL_ID);

    @TempDir
    static Path dir;

    private static BrokerParts broker;
    private static RepresentativeRequests requests;
    private static AuthenticatedPrincipal mallory;

    @BeforeAll
    static void start() throws IOException {
        broker = new BrokerParts(dir);
        requests = new RepresentativeRequests(broker);
        // The resources live in the default tenant; closing it makes "no ACL" mean "deny" there too.
        broker.security.tenants().setAllowEveryoneIfNoAcl(Tenant.DEFAULT_ID, false);
        mallory = new AuthenticatedPrincipal("mallory", Tenant.DEFAULT_ID, Role.MEMBER, "SCRAM-SHA-512", -1);
    }

    @AfterAll
    static void stop() throws IOException {
        broker.close();
    }

    @Test
    void everyAdvertisedApiAndVersionHasAKnownAuthorizationRule() {
        for (ApiRegistry.Registration api : broker.apis.registrations().values()) {
            for (short v = api.minVersion(); v <= api.maxVersion(); v++) {
                assertTrue(AuthorizationCoverage.covers(api.key(), v), api.key() + " v" + v
                        + " is advertised but its authorization is not known");
            }
        }
    }

    @Test
    void requestsOfATenantBeingDeletedAreRefusedBeforeTheirHandlerRuns() throws IOException {
        AtomicBoolean handled = new AtomicBoolean();
        ApiHandler handler = request -> {
            handled.set(true);
            return Reply.completed(new org.apache.kafka.common.message.InitProducerIdResponseData());
        };
        ApiRegistry registry = new ApiRegistry().register(ApiKeys.INIT_PRODUCER_ID, (short) 0, (short) 4, handler);
        Tenant leaving = broker.security.tenants().create("leaving");
        AuthenticatedPrincipal member = new AuthenticatedPrincipal("app", leaving.id(), Role.MEMBER, "SCRAM-SHA-512",
                -1);
        Request request = broker.request(ApiKeys.INIT_PRODUCER_ID, (short) 4, new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1)
                .setProducerEpoch((short) -1), member);
        RequestPipeline pipeline = broker.pipeline(registry);

        broker.security.tenants().markDeleting(leaving.id());
        Reply reply = pipeline.process(request).toCompletableFuture().join();

        assertEquals(Set.of(Errors.SASL_AUTHENTICATION_FAILED), parse(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                assertInstanceOf(Reply.Respond.class, reply).body()).errorCounts().keySet());
        broker.security.tenants().delete(leaving.id());
        reply = pipeline.process(request).toCompletableFuture().join();
        assertEquals(Set.of(Errors.SASL_AUTHENTICATION_FAILED), parse(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                assertInstanceOf(Reply.Respond.class, reply).body()).errorCounts().keySet());
        assertFalse(handled.get());
    }

    @Test
    void anApiVersionWhoseAuthorizationIsNotKnownIsRefusedBeforeItsHandlerRuns() {
        AtomicBoolean handled = new AtomicBoolean();
        ApiHandler handler = request -> {
            handled.set(true);
            return Reply.completed(new org.apache.kafka.common.message.InitProducerIdResponseData());
        };
        short unknown = (short) (AuthorizationCoverage.rule(ApiKeys.INIT_PRODUCER_ID).orElseThrow().throughVersion()
                + 1);
        ApiRegistry registry = new ApiRegistry().register(ApiKeys.INIT_PRODUCER_ID, (short) 0, unknown, handler);
        Request request = broker.request(ApiKeys.INIT_PRODUCER_ID, unknown, new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
        Reply reply = broker.pipeline(registry).process(request).toCompletableFuture().join();
        ApiMessage body = assertInstanceOf(Reply.Respond.class, reply).body();
        assertEquals(Set.of(Errors.CLUSTER_AUTHORIZATION_FAILED), parse(ApiKeys.INIT_PRODUCER_ID, unknown, body)
                .errorCounts().keySet());
        assertFalse(handled.get(), "the handler never ran");
    }

    @TestFactory
    Stream<DynamicTest> everyAdvertisedApiAndVersionRefusesAMemberNoAclGrantsAnything() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ApiRegistry.Registration api : broker.apis.registrations().values()) {
            if (UNAUTHENTICATED.contains(api.key())) {
                continue;
            }
            for (short v = api.minVersion(); v <= api.maxVersion(); v++) {
                short version = v;
                tests.add(DynamicTest.dynamicTest(api.key() + " v" + v, () -> refused(api.key(), version)));
            }
        }
        return tests.stream();
    }

    private static void refused(ApiKeys key, short version) {
        List<ApiMessage> samples = requests.requests(key, version);
        for (int i = 0; i < samples.size(); i++) {
            String what = key + " v" + version + " request #" + (i + 1);
            Request request = broker.request(key, version, samples.get(i), mallory);
            Reply reply = broker.pipeline().process(request).toCompletableFuture().join();
            Reply.Respond respond = assertInstanceOf(Reply.Respond.class, reply, what);
            try {
                AbstractResponse parsed = parse(key, version, respond.body());
                Set<Errors> errors = new HashSet<>(parsed.errorCounts().keySet());
                errors.remove(Errors.NONE);
                if (!errors.isEmpty()) {
                    assertTrue(REFUSALS.containsAll(errors), what + ": refused with " + errors);
                    continue;
                }
                if (parsed.data() instanceof DescribeClusterResponseData cluster) {
                    assertTrue(cluster.clusterAuthorizedOperations() == 0
                                    || cluster.clusterAuthorizedOperations() == Integer.MIN_VALUE,
                            what + ": no authorized operation on the cluster");
                }
                String shown = new String(serialize(parsed.data(), version), StandardCharsets.ISO_8859_1);
                for (String resource : RESOURCES) {
                    assertFalse(shown.contains(resource), what + ": answered without refusal and shows " + resource
                            + ": " + parsed.data());
                }
            } finally {
                respond.release().run();
            }
        }
    }

    private static AbstractResponse parse(ApiKeys key, short version, ApiMessage body) {
        return AbstractResponse.parseResponse(key, new ByteBufferAccessor(ByteBuffer.wrap(serialize(body, version))),
                version);
    }

    private static byte[] serialize(ApiMessage message, short version) {
        ByteBuffer buffer = MessageUtil.toByteBufferAccessor(message, version).buffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
