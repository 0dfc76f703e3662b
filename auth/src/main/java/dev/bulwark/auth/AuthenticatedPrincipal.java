package dev.bulwark.auth;

/**
 * Who a connection or an HTTP request is, once authenticated.
 *
 * @param user        the principal's name inside its tenant (ACLs read it as {@code User:<user>})
 * @param tenantId    the id of the tenant it belongs to
 * @param role        its role
 * @param mechanism   how it authenticated: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, SSL, or ANONYMOUS
 * @param expiresAtMs when the credential stops being valid (a token's expiry), or -1
 */
public record AuthenticatedPrincipal(String user, String tenantId, Role role, String mechanism, long expiresAtMs) {

    public static final String ANONYMOUS_USER = "ANONYMOUS";

    /** The principal of a connection that did not authenticate (PLAINTEXT, or SSL without a client certificate). */
    public static AuthenticatedPrincipal anonymous(String mechanism) {
        return new AuthenticatedPrincipal(ANONYMOUS_USER, Tenant.DEFAULT_ID, Role.MEMBER, mechanism, -1);
    }

    public boolean isOperator() {
        return role == Role.OPERATOR;
    }
}
