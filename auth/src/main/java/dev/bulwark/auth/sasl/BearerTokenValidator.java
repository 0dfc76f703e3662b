package dev.bulwark.auth.sasl;

import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;

import java.util.Objects;
import java.util.Set;

/**
 * Validates the bearer token of a SASL/OAUTHBEARER login (RFC 7628): the hook through which a JWT validator (Nimbus,
 * in {@code dev.bulwark.auth.jwt}) plugs into {@link SaslMechanisms}. This package never looks inside a token.
 *
 * <p>Contract: implementations are thread-safe (one instance serves every connection) and may block, for example
 * to refresh signing keys, so {@link Authentication#evaluate} is not called on an event loop thread. An implementation
 * checks everything that makes a token acceptable (signature, issuer, audience, expiry, not-before) and maps its
 * claims to a principal: which tenant, which user, which role. {@link SaslMechanisms} then resolves the tenant by
 * name; an unknown or suspended tenant fails the login.
 */
@FunctionalInterface
public interface BearerTokenValidator {

    /**
     * @param token the compact token the client sent, as sent
     * @return who the token says the client is, and until when
     * @throws InvalidTokenException when the token is not acceptable, with a reason safe to show the client
     */
    ValidatedToken validate(String token) throws InvalidTokenException;

    /**
     * What a valid token establishes.
     *
     * @param principal   the user and the tenant (by name) the token is for; its {@link UserName#saslUsername()} is
     *                    the OAUTHBEARER authorization id
     * @param role        the role its claims grant ({@link Role#OPERATOR} only for default-tenant principals, or the
     *                    login fails)
     * @param scope       the token's scope (may be empty)
     * @param issuedAtMs  the token's issue time, ms since the epoch, or -1 when it has none
     * @param expiresAtMs the token's expiry, ms since the epoch: the session ends there (KIP-368 reauthentication)
     */
    record ValidatedToken(UserName principal, Role role, Set<String> scope, long issuedAtMs, long expiresAtMs) {

        public ValidatedToken {
            Objects.requireNonNull(principal, "principal");
            Objects.requireNonNull(role, "role");
            scope = Set.copyOf(scope);
            if (expiresAtMs <= 0) {
                throw new IllegalArgumentException("a bearer token must expire: " + expiresAtMs);
            }
        }

        public ValidatedToken(UserName principal, Role role, long expiresAtMs) {
            this(principal, role, Set.of(), -1, expiresAtMs);
        }
    }
}
