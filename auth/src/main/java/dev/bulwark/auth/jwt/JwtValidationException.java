package dev.bulwark.auth.jwt;

/**
 * A token that does not authenticate, with the check that failed. The message says what failed without echoing the
 * token or the configuration, so it may be sent to the client (SASL error message, HTTP 401 body) and audited.
 */
public class JwtValidationException extends Exception {

    /** The check that failed. */
    public enum Reason {
        /** Not a compact JWS, not JSON, or an encrypted JWT. */
        MALFORMED,
        /** {@code alg} is not allowed ({@code none}, HMAC, or not configured). */
        ALGORITHM_NOT_ALLOWED,
        /** No key of the JWK Set fits the token's {@code kid} and algorithm. */
        UNKNOWN_KEY,
        /** The signature does not verify. */
        BAD_SIGNATURE,
        /** {@code exp} has passed (beyond the clock skew). */
        EXPIRED,
        /** {@code nbf} is still ahead (beyond the clock skew). */
        NOT_YET_VALID,
        WRONG_ISSUER,
        WRONG_AUDIENCE,
        /** A required claim ({@code exp}, the principal claim) is absent. */
        MISSING_CLAIM,
        /** A claim has the wrong type, or the roles claim grants no single role. */
        INVALID_CLAIM,
        /** The tenant the token names is not known. */
        UNKNOWN_TENANT,
        /** The JWK Set could not be fetched; the client may try again. */
        KEYS_UNAVAILABLE
    }

    private final Reason reason;

    public JwtValidationException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public JwtValidationException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
