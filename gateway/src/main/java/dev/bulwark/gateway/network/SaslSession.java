package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.sasl.Authentication;
import dev.bulwark.auth.sasl.AuthenticationFailedException;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The SASL state of one connection on a SASL listener, as Kafka's broker keeps it: before authentication only
 * ApiVersions and SaslHandshake are served; SaslHandshake v1 is followed by SaslAuthenticate requests, v0 by raw
 * length-prefixed SASL tokens (kafka-python). A failure is answered with SASL_AUTHENTICATION_FAILED after a delay
 * that grows with the failures of the source and the username, and the connection closes. Once authenticated, a
 * session lasts {@code connections.max.reauth.ms} at most and never beyond its token's expiry (KIP-368): the client
 * re-authenticates with SaslHandshake and SaslAuthenticate, as the same principal, or any later request closes the
 * connection. The first authentication takes the connection's place in its tenant's max-connections
 * ({@link TenantConnections}); when the tenant has no place left, it is answered SASL_AUTHENTICATION_FAILED naming the
 * limit and the connection closes.
 *
 * <p>Threads: called by the connection's requests in arrival order, one at a time ({@link SerialExecutor}); the
 * state is read by the event loop only to tell whether the next frame is a raw token.
 */
final class SaslSession {

    private static final Logger LOG = LoggerFactory.getLogger(SaslSession.class);

    /** What the connection does with a request that arrived in the current state. */
    enum Admission {
        /** An authenticated request: through the pipeline as the session's principal. */
        SERVE,
        /** Part of the SASL exchange: {@link #exchange}. */
        EXCHANGE,
        /** Not allowed now: the connection closes. */
        REFUSE
    }

    private enum State { HANDSHAKE, AUTHENTICATE, RAW_TOKENS, AUTHENTICATED, FAILED }

    private final SaslSessions settings;
    private final String clientHost;
    private final String connectionId;
    private final String listener;
    private volatile State state = State.HANDSHAKE;
    private Authentication exchange;
    private boolean reauthenticating;
    private AuthenticatedPrincipal principal;
    private long sessionExpiresAtMs = Long.MAX_VALUE;
    private String refusal = "";
    /** The connection's place in its tenant's count, from the first authentication; guarded by {@code this}. */
    private TenantConnections.Slot slot;
    private boolean closed;

    SaslSession(SaslSessions settings, String clientHost, String connectionId, String listener) {
        this.settings = settings;
        this.clientHost = clientHost;
        this.connectionId = connectionId;
        this.listener = listener;
    }

    /** Whether the next frame is a raw SASL token rather than a Kafka request (after SaslHandshake v0). */
    boolean expectsRawToken() {
        return state == State.RAW_TOKENS;
    }

    /** The authenticated principal; null before authentication. */
    AuthenticatedPrincipal principal() {
        return principal;
    }

    /** Why the last request was refused, for the log. */
    String refusal() {
        return refusal;
    }

    Admission admit(ApiKeys api, short version) {
        return switch (state) {
            case HANDSHAKE -> api == ApiKeys.API_VERSIONS ? Admission.SERVE
                    : api == ApiKeys.SASL_HANDSHAKE ? Admission.EXCHANGE
                    : refuse(api + " before SASL authentication");
            case AUTHENTICATE -> api == ApiKeys.SASL_AUTHENTICATE ? Admission.EXCHANGE
                    : refuse(api + " during SASL authentication, where SaslAuthenticate was expected");
            case RAW_TOKENS -> refuse("a Kafka request where a SASL token was expected");
            case FAILED -> refuse(api + " after a failed SASL authentication");
            case AUTHENTICATED -> {
                if (api == ApiKeys.SASL_HANDSHAKE && version >= 1) {
                    yield Admission.EXCHANGE;
                }
                if (settings.clock().millis() >= sessionExpiresAtMs) {
                    yield refuse("the SASL session of " + principal.user() + " expired without re-authentication");
                }
                yield Admission.SERVE;
            }
        };
    }

    private Admission refuse(String why) {
        refusal = why;
        return Admission.REFUSE;
    }

    /** Serves a SaslHandshake or SaslAuthenticate that {@link #admit} let through. */
    CompletionStage<Reply> exchange(Request request) {
        if (request.data() instanceof SaslHandshakeRequestData handshake) {
            return CompletableFuture.completedFuture(handshake(handshake.mechanism(), request.version()));
        }
        SaslAuthenticateRequestData authenticate = request.data();
        try {
            byte[] answer = exchange.evaluate(authenticate.authBytes());
            SaslAuthenticateResponseData response = new SaslAuthenticateResponseData().setAuthBytes(answer);
            if (exchange.isComplete()) {
                if (reauthenticating && !isSamePrincipal(exchange.principal())) {
                    state = State.FAILED;
                    LOG.warn("connection {} from {}: re-authentication as {} of tenant {} does not match {} of "
                            + "tenant {}; closing", connectionId, clientHost, exchange.principal().user(),
                            exchange.principal().tenantId(), principal.user(), principal.tenantId());
                    report(exchange.attemptedUsername().orElse(exchange.principal().user()),
                            "re-authentication changed the principal");
                    return CompletableFuture.completedFuture(new Reply.RespondAndClose(
                            new SaslAuthenticateResponseData().setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                                    .setErrorMessage("Re-authentication must not change the principal")));
                }
                if (!takeSlot()) {
                    return CompletableFuture.completedFuture(new Reply.RespondAndClose(new SaslAuthenticateResponseData()
                            .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(refusal)));
                }
                long lifetime = complete();
                if (request.version() >= 1) {
                    response.setSessionLifetimeMs(lifetime);
                }
            }
            return CompletableFuture.completedFuture(Reply.of(response));
        } catch (AuthenticationFailedException e) {
            return failed(e, new Reply.RespondAndClose(new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(e.getMessage())));
        } catch (IllegalSaslStateException e) {
            state = State.FAILED;
            return CompletableFuture.completedFuture(new Reply.RespondAndClose(new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setErrorMessage(e.getMessage())));
        }
    }

    /** Serves a raw SASL token (after SaslHandshake v0): the answer goes back raw; a failure closes the connection. */
    CompletionStage<Reply> rawToken(ByteBuffer token) {
        byte[] bytes = new byte[token.remaining()];
        token.get(bytes);
        try {
            byte[] answer = exchange.evaluate(bytes);
            if (exchange.isComplete()) {
                if (!takeSlot()) {
                    return CompletableFuture.completedFuture(new Reply.Close(refusal));
                }
                complete();
            }
            return CompletableFuture.completedFuture(new Reply.RawToken(answer));
        } catch (AuthenticationFailedException e) {
            return failed(e, new Reply.Close("SASL authentication failed"));
        }
    }

    private Reply handshake(String mechanism, short version) {
        if (!settings.mechanisms().isEnabled(mechanism)) {
            LOG.warn("connection {} from {}: SASL mechanism {} is not enabled (offered: {}); closing", connectionId,
                    clientHost, mechanism, settings.mechanisms().enabled());
            state = State.FAILED;
            return new Reply.RespondAndClose(new SaslHandshakeResponseData()
                    .setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code())
                    .setMechanisms(settings.mechanisms().enabled()));
        }
        reauthenticating = state == State.AUTHENTICATED;
        if (reauthenticating && !exchange.mechanism().equals(mechanism)) {
            LOG.warn("connection {} from {}: re-authentication of {} switched from {} to {}; closing", connectionId,
                    clientHost, principal.user(), exchange.mechanism(), mechanism);
            state = State.FAILED;
            return new Reply.RespondAndClose(new SaslHandshakeResponseData()
                    .setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setMechanisms(settings.mechanisms().enabled()));
        }
        exchange = settings.mechanisms().start(mechanism, clientHost);
        state = version == 0 ? State.RAW_TOKENS : State.AUTHENTICATE;
        return Reply.of(new SaslHandshakeResponseData().setErrorCode(Errors.NONE.code())
                .setMechanisms(settings.mechanisms().enabled()));
    }

    private boolean isSamePrincipal(AuthenticatedPrincipal authenticated) {
        return authenticated.user().equals(principal.user()) && authenticated.tenantId().equals(principal.tenantId());
    }

    /**
     * Takes the connection's place among its tenant's connections at the first authentication (a re-authentication
     * keeps it); when the tenant is at its max-connections, fails the session with the reason in {@link #refusal}.
     */
    private boolean takeSlot() {
        synchronized (this) {
            if (slot != null) {
                return true;
            }
        }
        AuthenticatedPrincipal authenticated = exchange.principal();
        TenantConnections.Slot taken;
        try {
            taken = settings.connections().acquire(authenticated.tenantId());
        } catch (TenantConnections.LimitReachedException e) {
            state = State.FAILED;
            refusal = e.getMessage();
            LOG.warn("connection {} from {}: {} of tenant {} authenticated, but {}; closing", connectionId, clientHost,
                    authenticated.user(), authenticated.tenantId(), e.getMessage());
            report(exchange.attemptedUsername().orElse(authenticated.user()), e.getMessage());
            return false;
        }
        synchronized (this) {
            if (!closed) {
                slot = taken;
                return true;
            }
        }
        taken.release();
        return true;
    }

    /** The connection closed: its place among its tenant's connections is free again. Any thread. */
    synchronized void closed() {
        closed = true;
        if (slot != null) {
            slot.release();
        }
    }

    /** Authenticated: the principal is set (or renewed, when re-authenticating); returns the session lifetime. */
    private long complete() {
        AuthenticatedPrincipal authenticated = exchange.principal();
        long now = settings.clock().millis();
        long lifetime = exchange.sessionLifetimeMs(settings.maxReauthMs(), now);
        principal = authenticated;
        sessionExpiresAtMs = lifetime > 0 ? now + lifetime : Long.MAX_VALUE;
        settings.failures().recordSuccess(exchange.attemptedUsername().orElse(authenticated.user()));
        LOG.debug("connection {} from {}: {} of tenant {} authenticated with SASL/{}{}", connectionId, clientHost,
                authenticated.user(), authenticated.tenantId(), exchange.mechanism(),
                reauthenticating ? " again" : "");
        state = State.AUTHENTICATED;
        settings.attempts().accept(AuthenticationAttempt.succeeded(listener, clientHost, exchange.mechanism(),
                authenticated, reauthenticating));
        return lifetime;
    }

    private void report(String username, String failure) {
        settings.attempts().accept(AuthenticationAttempt.failed(listener, clientHost, exchange.mechanism(), username,
                failure));
    }

    /** Answers a failure after the delay its source and username have earned, then the connection closes. */
    private CompletionStage<Reply> failed(AuthenticationFailedException e, Reply reply) {
        state = State.FAILED;
        String username = e.attemptedUsername().orElse(null);
        Duration delay = settings.failures().recordFailure(clientHost, username);
        LOG.warn("connection {} from {}: SASL/{} authentication{} of '{}' failed: {}; answering in {} ms and closing",
                connectionId, clientHost, exchange.mechanism(), reauthenticating ? " (re-authentication)" : "",
                username == null ? "" : username, e.reason(), delay.toMillis());
        report(username, e.reason().toString());
        return CompletableFuture.supplyAsync(() -> reply,
                CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS));
    }
}
