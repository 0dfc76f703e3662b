package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticationFailures;
import dev.bulwark.auth.sasl.SaslMechanisms;

import java.time.Clock;
import java.util.function.Consumer;

/**
 * What every connection of a SASL listener authenticates with: the enabled mechanisms, the failure counts shared by
 * all connections, and the longest a session lasts before re-authentication.
 *
 * @param mechanisms  the enabled SASL mechanisms, answered from the tenant and user stores
 * @param failures    failed authentications per source and username, and the delay they earn
 * @param maxReauthMs {@code connections.max.reauth.ms}; 0 for no limit but a token's expiry
 * @param connections each tenant's authenticated connections, which a first authentication joins
 * @param attempts    where each authentication, and each failure, is reported (the audit trail)
 */
public record SaslSessions(SaslMechanisms mechanisms, AuthenticationFailures failures, long maxReauthMs,
                           Clock clock, TenantConnections connections, Consumer<AuthenticationAttempt> attempts) {

    SaslSession open(String clientHost, String connectionId, String listener) {
        return new SaslSession(this, clientHost, connectionId, listener);
    }
}
