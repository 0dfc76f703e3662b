package dev.bulwark.auth.sasl;

/**
 * Why an authentication failed: for the server's log and the audit trail only. The client sees one message for
 * most of these (see {@link AuthenticationFailedException}), so it cannot tell an unknown user from a wrong password.
 */
public enum FailureReason {
    /** The user exists and the password or proof was wrong. */
    INVALID_CREDENTIALS,
    /** No such user in the tenant (or a user without a credential for the mechanism). */
    UNKNOWN_USER,
    /** The username names a tenant that does not exist. */
    UNKNOWN_TENANT,
    /** The credentials were right, and the tenant is suspended. */
    TENANT_SUSPENDED,
    /** The bearer token was refused by the {@link BearerTokenValidator}. */
    INVALID_TOKEN,
    /** The bearer token expired before the exchange completed. */
    TOKEN_EXPIRED,
    /** The client's messages broke the mechanism's protocol (or asked for something unsupported, like delegation tokens). */
    MALFORMED,
    /** A bug or an unavailable algorithm on the server. */
    INTERNAL_ERROR
}
