package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.AuthenticationFailures;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.auth.sasl.SaslMechanisms;
import dev.bulwark.auth.sasl.SaslMechanismsConfig;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SASL listener connection's states, driven with PLAIN requests as a client sends them: what is served before
 * authentication, SaslHandshake v1 and v0 (raw tokens), failures, KIP-368 session expiry and re-authentication.
 */
class SaslSessionTest {

    private static final long MAX_REAUTH_MS = 60_000;

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private AuthenticationFailures failures;
    private SaslSession session;
    private TenantStore tenants;
    private TenantConnections connections;
    private SaslSessions sessions;
    private final List<AuthenticationAttempt> attempts = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        SealedFiles sealed = TestLogs.sealedFiles(dir);
        tenants = TenantStore.open(dir, sealed, time.clock());
        UserStore users = UserStore.open(dir, sealed, UserStore.MIN_ITERATIONS, CryptoProvider.jdk(), time.clock());
        users.create(tenants.create("acme").id(), "alice", Role.MEMBER, "alice-secret");
        users.create(tenants.byName("acme").orElseThrow().id(), "bob", Role.MEMBER, "bob-secret");
        failures = new AuthenticationFailures(new AuthenticationFailures.Config(Duration.ofMillis(1),
                Duration.ofMillis(10), Duration.ofMinutes(5), 100), time.clock());
        connections = new TenantConnections(tenants);
        sessions = new SaslSessions(new SaslMechanisms(SaslMechanismsConfig.parse("PLAIN,SCRAM-SHA-512"),
                tenants, users, null, time.clock()), failures, MAX_REAUTH_MS, time.clock(), connections,
                attempts::add);
        session = sessions.open("10.0.0.7", "SASL_SSL-1", "SASL_SSL");
    }

    @Test
    void beforeAuthenticationOnlyApiVersionsAndSaslHandshakeAreTakenIn() {
        assertEquals(SaslSession.Admission.SERVE, session.admit(ApiKeys.API_VERSIONS, (short) 3));
        assertEquals(SaslSession.Admission.EXCHANGE, session.admit(ApiKeys.SASL_HANDSHAKE, (short) 1));
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.METADATA, (short) 12));
        assertTrue(session.refusal().contains("METADATA before SASL authentication"), session.refusal());
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.SASL_AUTHENTICATE, (short) 2));
        assertNull(session.principal());
    }

    @Test
    void handshakeThenAuthenticateMakesTheConnectionThePrincipalForAWhile() {
        handshake("PLAIN", 1);

        SaslAuthenticateResponseData answer = authenticate("alice@acme", "alice-secret");

        assertEquals(Errors.NONE.code(), answer.errorCode());
        assertEquals(MAX_REAUTH_MS, answer.sessionLifetimeMs(), "connections.max.reauth.ms");
        AuthenticatedPrincipal principal = session.principal();
        assertEquals("alice", principal.user());
        assertEquals("PLAIN", principal.mechanism());
        assertEquals(SaslSession.Admission.SERVE, session.admit(ApiKeys.METADATA, (short) 12));
    }

    @Test
    void anUnsupportedMechanismIsAnsweredWithTheEnabledOnesAndTheConnectionCloses() {
        Reply reply = exchange(request(ApiKeys.SASL_HANDSHAKE, 1, new SaslHandshakeRequestData()
                .setMechanism("GSSAPI")));

        SaslHandshakeResponseData answer = (SaslHandshakeResponseData)
                assertInstanceOf(Reply.RespondAndClose.class, reply).body();
        assertEquals(Errors.UNSUPPORTED_SASL_MECHANISM.code(), answer.errorCode());
        assertEquals(List.of("PLAIN", "SCRAM-SHA-512"), answer.mechanisms());
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.SASL_HANDSHAKE, (short) 1));
    }

    @Test
    void aWrongPasswordIsAnsweredWithSaslAuthenticationFailedThenTheConnectionCloses() {
        handshake("PLAIN", 1);

        Reply reply = exchange(plain(2, "alice@acme", "guess"));

        SaslAuthenticateResponseData answer = (SaslAuthenticateResponseData)
                assertInstanceOf(Reply.RespondAndClose.class, reply).body();
        assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), answer.errorCode());
        assertEquals("Authentication failed: invalid credentials for SASL mechanism PLAIN", answer.errorMessage());
        assertEquals(1, failures.sourceFailures("10.0.0.7"));
        assertEquals(1, failures.principalFailures("alice@acme"));
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.API_VERSIONS, (short) 3));
        assertNull(session.principal());
        AuthenticationAttempt reported = attempts.get(0);
        assertEquals("alice@acme", reported.attemptedUsername());
        assertEquals("PLAIN", reported.mechanism());
        assertEquals("10.0.0.7", reported.clientAddress());
        assertNull(reported.principal());
        assertEquals(1, attempts.size());
    }

    @Test
    void everyAuthenticationIsReportedWithItsPrincipal() {
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");
        time.advance(Duration.ofMillis(MAX_REAUTH_MS));
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");

        assertEquals(2, attempts.size());
        assertEquals("alice", attempts.get(0).principal().user());
        assertEquals("SASL_SSL", attempts.get(0).listener());
        assertNull(attempts.get(0).failure());
        assertTrue(attempts.get(1).reauthentication());
    }

    @Test
    void afterHandshakeV0TheNextFrameIsARawTokenAndItsAnswerGoesBackRaw() {
        handshake("PLAIN", 0);
        assertTrue(session.expectsRawToken());

        Reply reply = session.rawToken(ByteBuffer.wrap(plainToken("alice@acme", "alice-secret")))
                .toCompletableFuture().join();

        assertArrayEquals(new byte[0], assertInstanceOf(Reply.RawToken.class, reply).token(),
                "PLAIN's empty answer, which kafka-python waits for");
        assertFalse(session.expectsRawToken());
        assertEquals("alice", session.principal().user());
    }

    @Test
    void aRawTokenWithAWrongPasswordClosesTheConnection() {
        handshake("PLAIN", 0);

        Reply reply = session.rawToken(ByteBuffer.wrap(plainToken("alice@acme", "guess"))).toCompletableFuture()
                .join();

        assertInstanceOf(Reply.Close.class, reply);
        assertFalse(session.expectsRawToken());
    }

    @Test
    void anExpiredSessionIsClosedUnlessTheClientReauthenticatesAsTheSamePrincipal() {
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");

        time.advance(Duration.ofMillis(MAX_REAUTH_MS));

        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.FETCH, (short) 17));
        assertTrue(session.refusal().contains("expired"), session.refusal());
        handshake("PLAIN", 1);
        assertEquals(Errors.NONE.code(), authenticate("alice@acme", "alice-secret").errorCode());
        assertEquals(SaslSession.Admission.SERVE, session.admit(ApiKeys.FETCH, (short) 17));
    }

    @Test
    void reauthenticationAsAnotherPrincipalFailsAndCloses() {
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");

        handshake("PLAIN", 1);
        Reply reply = exchange(plain(2, "bob@acme", "bob-secret"));

        SaslAuthenticateResponseData answer = (SaslAuthenticateResponseData)
                assertInstanceOf(Reply.RespondAndClose.class, reply).body();
        assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), answer.errorCode());
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.FETCH, (short) 17));
    }

    @Test
    void reauthenticationWithAnotherMechanismIsRefused() {
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");

        Reply reply = exchange(request(ApiKeys.SASL_HANDSHAKE, 1, new SaslHandshakeRequestData()
                .setMechanism("SCRAM-SHA-512")));

        assertEquals(Errors.ILLEGAL_SASL_STATE.code(), ((SaslHandshakeResponseData)
                assertInstanceOf(Reply.RespondAndClose.class, reply).body()).errorCode());
    }

    @Test
    void aTenantAtItsMaxConnectionsIsRefusedAfterAuthenticationAndReauthenticationDoesNotCountTwice()
            throws Exception {
        String acme = tenants.byName("acme").orElseThrow().id();
        tenants.setLimits(acme, TenantLimits.of(null, null, null, 1));
        handshake("PLAIN", 1);
        authenticate("alice@acme", "alice-secret");
        assertEquals(1, connections.count(acme));
        time.advance(Duration.ofMillis(MAX_REAUTH_MS));
        handshake("PLAIN", 1);
        assertEquals(Errors.NONE.code(), authenticate("alice@acme", "alice-secret").errorCode());
        assertEquals(1, connections.count(acme), "re-authentication keeps the connection's place");

        SaslSession first = session;
        session = sessions.open("10.0.0.8", "SASL_SSL-2", "SASL_SSL");
        handshake("PLAIN", 1);
        Reply reply = exchange(plain(2, "bob@acme", "bob-secret"));

        SaslAuthenticateResponseData answer = (SaslAuthenticateResponseData)
                assertInstanceOf(Reply.RespondAndClose.class, reply).body();
        assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), answer.errorCode());
        assertEquals("tenant acme may have at most 1 connections (max-connections); it has 1", answer.errorMessage());
        assertEquals(SaslSession.Admission.REFUSE, session.admit(ApiKeys.METADATA, (short) 12));
        assertEquals(0, failures.principalFailures("bob@acme"), "right credentials are no failed guess");
        session.closed();
        assertEquals(1, connections.count(acme), "a refused connection held no place");

        first.closed();
        first.closed();
        assertEquals(0, connections.count(acme), "a closed connection gives its place back once");
        session = sessions.open("10.0.0.8", "SASL_SSL-3", "SASL_SSL");
        handshake("PLAIN", 1);
        assertEquals(Errors.NONE.code(), authenticate("bob@acme", "bob-secret").errorCode());
    }

    // ---------------------------------------------------------------- helpers

    private void handshake(String mechanism, int version) {
        assertEquals(SaslSession.Admission.EXCHANGE, session.admit(ApiKeys.SASL_HANDSHAKE, (short) version));
        Reply reply = exchange(request(ApiKeys.SASL_HANDSHAKE, version, new SaslHandshakeRequestData()
                .setMechanism(mechanism)));
        SaslHandshakeResponseData answer = (SaslHandshakeResponseData)
                assertInstanceOf(Reply.Respond.class, reply).body();
        assertEquals(Errors.NONE.code(), answer.errorCode());
    }

    private SaslAuthenticateResponseData authenticate(String username, String password) {
        assertEquals(SaslSession.Admission.EXCHANGE, session.admit(ApiKeys.SASL_AUTHENTICATE, (short) 2));
        Reply reply = exchange(plain(2, username, password));
        return (SaslAuthenticateResponseData) assertInstanceOf(Reply.Respond.class, reply).body();
    }

    private Request plain(int version, String username, String password) {
        return request(ApiKeys.SASL_AUTHENTICATE, version, new SaslAuthenticateRequestData()
                .setAuthBytes(plainToken(username, password)));
    }

    private static byte[] plainToken(String username, String password) {
        return ("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8);
    }

    private Reply exchange(Request request) {
        return session.exchange(request).toCompletableFuture().join();
    }

    private static Request request(ApiKeys key, int version, ApiMessage data) {
        short v = (short) version;
        RequestHeader header = new RequestHeader(key, v, "sasl-test", 1);
        AbstractRequest body = AbstractRequest.parseRequest(key, v,
                new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(data, v).buffer())).request;
        RequestContext context = new RequestContext(header, "SASL_SSL-1", InetAddress.getLoopbackAddress(),
                KafkaPrincipal.ANONYMOUS, ListenerName.normalised("SASL_SSL"), SecurityProtocol.SASL_SSL,
                ClientInformation.EMPTY, false);
        return new Request(context, body, new Request.Listener("SASL_SSL", "127.0.0.1", 9093),
                AuthenticatedPrincipal.anonymous("SASL"));
    }
}
