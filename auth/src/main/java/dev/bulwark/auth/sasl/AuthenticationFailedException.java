package dev.bulwark.auth.sasl;

import org.apache.kafka.common.errors.SaslAuthenticationException;

import java.util.Optional;

/**
 * A failed SASL exchange. It is a kafka-clients {@link SaslAuthenticationException}, so
 * {@code Errors.forException(e)} is SASL_AUTHENTICATION_FAILED, and its message is the one to send to the client:
 * it never says whether the user or the tenant exists. {@link #reason()} and {@link #attemptedUsername()} are for
 * the server's log, the audit trail and {@link dev.bulwark.auth.AuthenticationFailures}.
 */
public final class AuthenticationFailedException extends SaslAuthenticationException {

    private static final long serialVersionUID = 1L;

    private final FailureReason reason;
    private final String attemptedUsername;

    AuthenticationFailedException(String clientMessage, FailureReason reason, String attemptedUsername,
                                  Throwable cause) {
        super(clientMessage, cause);
        this.reason = reason;
        this.attemptedUsername = attemptedUsername;
    }

    public FailureReason reason() {
        return reason;
    }

    /** The SASL username the client claimed ({@code alice@acme}), when it got that far. */
    public Optional<String> attemptedUsername() {
        return Optional.ofNullable(attemptedUsername);
    }
}
