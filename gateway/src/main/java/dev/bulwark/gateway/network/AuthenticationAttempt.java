package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;

/**
 * One authentication, as the listeners and the REST API report it to the audit trail: who tried, how, from where,
 * and whether it succeeded.
 *
 * @param listener         the listener (or {@code http}/{@code https} for the REST API)
 * @param clientAddress    the client's address
 * @param mechanism        the SASL mechanism, {@code mTLS}, or the HTTP scheme ({@code Basic}, {@code Bearer})
 * @param attemptedUsername the username tried, as the client sent it ({@code alice@acme}); null when unknown
 * @param principal        the authenticated principal; null when it failed
 * @param reauthentication whether a session was renewed (KIP-368)
 * @param failure          why it failed; null when it succeeded
 */
public record AuthenticationAttempt(String listener, String clientAddress, String mechanism, String attemptedUsername,
                                    AuthenticatedPrincipal principal, boolean reauthentication, String failure) {

    public static AuthenticationAttempt succeeded(String listener, String clientAddress, String mechanism,
                                                  AuthenticatedPrincipal principal, boolean reauthentication) {
        return new AuthenticationAttempt(listener, clientAddress, mechanism, null, principal, reauthentication, null);
    }

    public static AuthenticationAttempt failed(String listener, String clientAddress, String mechanism,
                                               String attemptedUsername, String failure) {
        return new AuthenticationAttempt(listener, clientAddress, mechanism, attemptedUsername, null, false, failure);
    }
}
