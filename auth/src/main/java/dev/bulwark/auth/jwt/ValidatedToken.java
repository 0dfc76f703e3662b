package dev.bulwark.auth.jwt;

import java.time.Instant;
import java.util.Set;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;

/**
 * A JWT whose signature and claims checked out.
 *
 * @param user       the principal's name (the configured principal claim, {@code sub} by default)
 * @param tenantName the tenant claim's value, or the default tenant's name when the token has none
 * @param role       the single Bulwark role the roles claim grants; {@link Role#MEMBER} when it grants none
 * @param expiresAt  {@code exp}: the session must end or re-authenticate by then
 * @param issuedAt   {@code iat}, or null
 * @param subject    {@code sub}, or null (differs from {@code user} when the principal claim is another one)
 * @param tokenId    {@code jti}, or null: for the audit trail
 * @param scopes     {@code scope} (space separated) or {@code scp} (a list); empty when absent
 */
public record ValidatedToken(String user, String tenantName, Role role, Instant expiresAt, Instant issuedAt,
                             String subject, String tokenId, Set<String> scopes) {

    /** The mechanism recorded for principals that authenticated with a token. */
    public static final String MECHANISM = "OAUTHBEARER";

    public ValidatedToken {
        scopes = Set.copyOf(scopes);
    }

    public UserName userName() {
        return new UserName(user, tenantName);
    }

    /** The principal of a connection or request, once the tenant name is resolved to its id. */
    public AuthenticatedPrincipal principal(String tenantId) {
        return new AuthenticatedPrincipal(user, tenantId, role, MECHANISM, expiresAt.toEpochMilli());
    }
}
