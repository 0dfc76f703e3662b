package dev.bulwark.auth.sasl;

/**
 * A bearer token that {@link BearerTokenValidator} refuses. The message is shown to the client in its
 * SASL_AUTHENTICATION_FAILED answer, so it says what is wrong with the token ("expired", "wrong audience",
 * "signature does not verify") and never anything about keys, configuration or other principals.
 */
public class InvalidTokenException extends Exception {

    private static final long serialVersionUID = 1L;

    public InvalidTokenException(String reason) {
        super(reason);
    }

    public InvalidTokenException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
