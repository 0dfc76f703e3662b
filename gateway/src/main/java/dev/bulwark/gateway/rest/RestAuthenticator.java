package dev.bulwark.gateway.rest;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.jwt.JwtValidationException;
import dev.bulwark.auth.jwt.JwtValidator;
import dev.bulwark.auth.jwt.ValidatedToken;
import dev.bulwark.auth.sasl.SaslMechanisms;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;

import java.util.Optional;

/**
 * Decides who sent a REST request from its {@code Authorization} header.
 *
 * <ul>
 *   <li>Basic: the username is a SASL username ({@code alice@acme}); the password is checked as SASL PLAIN checks it,
 *   against the user's SCRAM credential, at the same cost whether or not the tenant and the user exist. The principal
 *   has the stored user's role.</li>
 *   <li>Bearer: the JWT is checked by {@link JwtValidator}; its tenant claim must name a tenant, and an operator
 *   token must belong to the default tenant (an operator of a tenant would be an operator everywhere). The principal
 *   has the token's role.</li>
 * </ul>
 * A suspended tenant's principals are refused, and only once their credentials proved right, so that the refusal
 * tells nothing to someone who does not hold them.
 *
 * <p>Every refusal carries a reason for the server's log and a message for the client; the client's message for a
 * username and password that do not check out is always the same, so it cannot tell an unknown tenant or user from
 * a wrong password.
 *
 * <p>Blocking: a password costs a PBKDF2 derivation (milliseconds of CPU) and a token may wait for a JWKS URL, so
 * never call {@link #authenticate} on an event loop. Thread-safe.
 */
final class RestAuthenticator {

    /** What a client whose username or password did not check out is told, whatever the reason. */
    static final String FAILED = "authentication failed";
    /** What a client whose credentials are right is told when its tenant is suspended: it proved who it is. */
    static final String SUSPENDED = "authentication failed: the principal's tenant is suspended";

    /** No tenant has this id: checking a password against it costs a decoy derivation and fails. */
    private static final String NO_TENANT = "";

    private final TenantStore tenants;
    private final UserStore users;
    private final Optional<JwtValidator> jwt;

    RestAuthenticator(TenantStore tenants, UserStore users, Optional<JwtValidator> jwt) {
        this.tenants = tenants;
        this.users = users;
        this.jwt = jwt;
    }

    sealed interface Result {
    }

    /**
     * @param caller          who sent the request
     * @param claimedUsername the SASL username as the client gave it (Basic), whose failure count a success resets;
     *                        null for tokens, whose failures are not counted by username
     */
    record Authenticated(Caller caller, String claimedUsername) implements Result {
    }

    /**
     * @param claimedUsername the SASL username the client gave (Basic), whose failures are counted; null for tokens
     *                        and malformed headers
     * @param reason          why, for the server's log
     * @param clientMessage   what the client is told
     */
    record Refused(String claimedUsername, String reason, String clientMessage) implements Result {
    }

    /** Checks the value of an {@code Authorization} header. */
    Result authenticate(String authorizationHeader) {
        Credentials credentials;
        try {
            credentials = Credentials.parse(authorizationHeader);
        } catch (IllegalArgumentException e) {
            return new Refused(null, "malformed Authorization header: " + e.getMessage(), e.getMessage());
        }
        if (credentials instanceof Credentials.Basic basic) {
            return password(basic);
        }
        return token(((Credentials.Bearer) credentials).token());
    }

    private Result password(Credentials.Basic basic) {
        String username = basic.username();
        UserName name = UserName.parse(username);
        Optional<Tenant> tenant = tenants.byName(name.tenantName());
        String tenantId = tenant.map(Tenant::id).orElse(NO_TENANT);
        UserStore.PasswordCheck check = users.verifyPassword(tenantId, name.user(), basic.password());
        Optional<User> user = users.get(tenantId, name.user());
        if (tenant.isEmpty()) {
            return new Refused(username, "unknown tenant", FAILED);
        }
        if (check == UserStore.PasswordCheck.UNKNOWN_USER || user.isEmpty()) {
            return new Refused(username, "unknown user", FAILED);
        }
        if (check == UserStore.PasswordCheck.WRONG_PASSWORD) {
            return new Refused(username, "wrong password", FAILED);
        }
        if (tenant.get().state() != Tenant.State.ACTIVE) {
            return new Refused(username, "tenant suspended", SUSPENDED);
        }
        // HTTP Basic carries what SASL PLAIN carries, checked the same way.
        return new Authenticated(new Caller(new AuthenticatedPrincipal(name.user(), tenantId, user.get().role(),
                SaslMechanisms.PLAIN, -1), tenant.get().name()), username);
    }

    private Result token(String compactJwt) {
        if (jwt.isEmpty()) {
            return new Refused(null, "a bearer token, and no JWT key set is configured (bulwark.jwt)",
                    "bearer tokens are not accepted here");
        }
        ValidatedToken token;
        try {
            token = jwt.get().validate(compactJwt);
        } catch (JwtValidationException e) {
            return new Refused(null, "invalid token (" + e.reason() + "): " + e.getMessage(), e.getMessage());
        }
        String who = token.userName().saslUsername();
        Optional<Tenant> tenant = tenants.byName(token.tenantName());
        if (tenant.isEmpty()) {
            return new Refused(null, "token of " + who + " names an unknown tenant", FAILED);
        }
        if (token.role() == Role.OPERATOR && !tenant.get().isDefault()) {
            return new Refused(null, "token of " + who + " grants operator outside the default tenant", FAILED);
        }
        if (tenant.get().state() != Tenant.State.ACTIVE) {
            return new Refused(null, "token of " + who + ": tenant suspended", SUSPENDED);
        }
        return new Authenticated(new Caller(token.principal(tenant.get().id()), tenant.get().name()), null);
    }
}
