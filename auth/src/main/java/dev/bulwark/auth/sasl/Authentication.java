package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.time.Clock;
import java.util.Optional;

/**
 * One SASL exchange on one connection, from SaslHandshake to the SaslAuthenticate that completes or fails it: a
 * kafka-clients {@link SaslServer} answered by Bulwark's callback handlers, plus the checks that come after the
 * credentials (tenant still there and active, token not yet expired).
 *
 * <p>Use: feed each SaslAuthenticate's {@code auth_bytes} to {@link #evaluate} and answer with the bytes it returns;
 * once {@link #isComplete()}, {@link #principal()} is the connection's principal and
 * {@link #sessionLifetimeMs(long, long)} its {@code session_lifetime_ms}. A failure throws
 * {@link AuthenticationFailedException}: answer SASL_AUTHENTICATION_FAILED with its message, after the delay
 * {@link dev.bulwark.auth.AuthenticationFailures} gives, and close the connection.
 *
 * <p>Threads: not thread-safe; one caller at a time, as a connection's requests are. {@link #evaluate} derives keys
 * (PLAIN: PBKDF2, milliseconds of CPU) or calls the {@link BearerTokenValidator} (which may block), so it is never
 * called on an event loop thread.
 */
public final class Authentication {

    private static final Logger LOG = LoggerFactory.getLogger(Authentication.class);

    private enum State { IN_PROGRESS, COMPLETE, FAILED }

    private final String mechanism;
    private final String clientAddress;
    private final SaslServer server;
    private final Attempt attempt;
    private final TenantStore tenants;
    private final Clock clock;
    private State state = State.IN_PROGRESS;
    private int messages;
    private boolean errorChallengeSent;
    private AuthenticatedPrincipal principal;

    Authentication(String mechanism, String clientAddress, SaslServer server, Attempt attempt, TenantStore tenants,
                   Clock clock) {
        this.mechanism = mechanism;
        this.clientAddress = clientAddress;
        this.server = server;
        this.attempt = attempt;
        this.tenants = tenants;
        this.clock = clock;
    }

    public String mechanism() {
        return mechanism;
    }

    public String clientAddress() {
        return clientAddress;
    }

    /** The SASL username the client claimed ({@code alice@acme}), once it said: what failures are counted under. */
    public Optional<String> attemptedUsername() {
        return Optional.ofNullable(attempt.username);
    }

    /**
     * Evaluates one client message and returns the answer to send back (empty when there is nothing to say).
     *
     * @throws AuthenticationFailedException when authentication fails; the exchange is then over
     * @throws IllegalSaslStateException     when called again after the exchange completed or failed
     */
    public byte[] evaluate(byte[] response) {
        if (state != State.IN_PROGRESS) {
            throw new IllegalSaslStateException("the SASL/" + mechanism + " exchange is already "
                    + (state == State.COMPLETE ? "complete" : "failed") + "; a new one starts with SaslHandshake");
        }
        if (errorChallengeSent) {
            // RFC 7628: after the error challenge the exchange can only fail. kafka-clients' server would take a
            // fresh token here; that would let a client try token after token without a counted failure.
            throw fail(attempt.failure, null);
        }
        messages++;
        byte[] challenge;
        try {
            challenge = server.evaluateResponse(response == null ? new byte[0] : response);
        } catch (SaslException | AuthenticationException e) {
            throw fail(reasonAfterServerFailure(), e);
        } catch (RuntimeException e) {
            LOG.warn("SASL/{} from {} failed inside the server", mechanism, clientAddress, e);
            throw fail(FailureReason.INTERNAL_ERROR, e);
        }
        if (!server.isComplete()) {
            // Only OAUTHBEARER answers a refusal with a challenge; a SCRAM decoy runs on to the proof check.
            errorChallengeSent = SaslMechanisms.OAUTHBEARER.equals(mechanism) && attempt.failure != null;
            return challenge == null ? new byte[0] : challenge;
        }
        AuthenticatedPrincipal candidate = attempt.candidate;
        if (candidate == null || attempt.username == null || !attempt.username.equals(server.getAuthorizationID())) {
            LOG.warn("SASL/{} from {} completed without a principal that matches its authorization id", mechanism,
                    clientAddress);
            throw fail(FailureReason.INTERNAL_ERROR, null);
        }
        // The tenant is read again: it may have been suspended while the exchange ran.
        Optional<Tenant> tenant = tenants.byId(candidate.tenantId());
        if (tenant.isEmpty()) {
            throw fail(FailureReason.UNKNOWN_TENANT, null);
        }
        if (tenant.get().state() != Tenant.State.ACTIVE) {
            throw fail(FailureReason.TENANT_SUSPENDED, null);
        }
        if (candidate.expiresAtMs() >= 0 && candidate.expiresAtMs() <= clock.millis()) {
            throw fail(FailureReason.TOKEN_EXPIRED, null);
        }
        principal = candidate;
        state = State.COMPLETE;
        dispose();
        LOG.debug("SASL/{} from {}: authenticated {} of tenant {}", mechanism, clientAddress, candidate.user(),
                candidate.tenantId());
        return challenge == null ? new byte[0] : challenge;
    }

    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    /**
     * The authenticated principal.
     *
     * @throws IllegalStateException before the exchange completed
     */
    public AuthenticatedPrincipal principal() {
        if (state != State.COMPLETE) {
            throw new IllegalStateException("the SASL/" + mechanism + " exchange has not completed");
        }
        return principal;
    }

    /**
     * The {@code session_lifetime_ms} of SaslAuthenticate v1+ (KIP-368): see
     * {@link #sessionLifetimeMs(long, long, long)}, for this exchange's principal.
     */
    public long sessionLifetimeMs(long connectionsMaxReauthMs, long nowMs) {
        return sessionLifetimeMs(connectionsMaxReauthMs, principal().expiresAtMs(), nowMs);
    }

    /**
     * How long a session may last before the client must reauthenticate (KIP-368): the smaller of
     * {@code connections.max.reauth.ms} (when positive) and the time left until the credential expires (when it
     * does); 0, meaning no limit, when reauthentication is off and the credential does not expire. A credential that
     * expires has at least 1 ms left, so its session is never mistaken for an unlimited one.
     *
     * @param connectionsMaxReauthMs the broker's {@code connections.max.reauth.ms}; 0 or less is off
     * @param expiresAtMs            when the credential expires, ms since the epoch, or -1 when it does not
     */
    public static long sessionLifetimeMs(long connectionsMaxReauthMs, long expiresAtMs, long nowMs) {
        long lifetime = connectionsMaxReauthMs > 0 ? connectionsMaxReauthMs : 0;
        if (expiresAtMs >= 0) {
            long left = Math.max(1, expiresAtMs - nowMs);
            lifetime = lifetime == 0 ? left : Math.min(lifetime, left);
        }
        return lifetime;
    }

    /**
     * Why the kafka-clients server refused, from what the callbacks learned. Lookups that already failed say so. A
     * SCRAM exchange whose user was found and that fails on the client's second message (its proof) had a wrong
     * password. Anything else broke the protocol: nothing was looked up, or the credentials held and the client
     * asked for another authorization id.
     */
    private FailureReason reasonAfterServerFailure() {
        if (attempt.failure != null) {
            return attempt.failure;
        }
        boolean scramProof = !SaslMechanisms.PLAIN.equals(mechanism) && !SaslMechanisms.OAUTHBEARER.equals(mechanism)
                && messages >= 2;
        return attempt.candidate != null && scramProof ? FailureReason.INVALID_CREDENTIALS : FailureReason.MALFORMED;
    }

    private AuthenticationFailedException fail(FailureReason reason, Throwable cause) {
        state = State.FAILED;
        principal = null;
        dispose();
        LOG.debug("SASL/{} from {} as {} failed: {}{}", mechanism, clientAddress, attempt.username, reason,
                cause == null ? "" : " (" + cause.getMessage() + ")");
        return new AuthenticationFailedException(clientMessage(reason), reason, attempt.username, cause);
    }

    /** The kafka-clients server is done with either way; the principal lives on here. */
    private void dispose() {
        try {
            server.dispose();
        } catch (SaslException | RuntimeException e) {
            LOG.debug("Disposing of the SASL/{} server failed", mechanism, e);
        }
    }

    /** What the client is told: the same for an unknown user, an unknown tenant and a wrong password. */
    private String clientMessage(FailureReason reason) {
        return switch (reason) {
            case TENANT_SUSPENDED -> "Authentication failed: the principal's tenant is suspended";
            case TOKEN_EXPIRED -> "Authentication failed: the token has expired";
            case INVALID_TOKEN -> "Authentication failed: invalid token"
                    + (attempt.tokenProblem == null ? "" : ": " + attempt.tokenProblem);
            case UNKNOWN_TENANT, UNKNOWN_USER, INVALID_CREDENTIALS, MALFORMED, INTERNAL_ERROR ->
                    SaslMechanisms.OAUTHBEARER.equals(mechanism) ? "Authentication failed: invalid token"
                            : "Authentication failed: invalid credentials for SASL mechanism " + mechanism;
        };
    }
}
