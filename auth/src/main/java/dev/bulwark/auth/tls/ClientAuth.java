package dev.bulwark.auth.tls;

import java.util.Locale;

/** Whether a TLS listener asks for client certificates (mTLS), with Kafka's {@code ssl.client.auth} values. */
public enum ClientAuth {
    /** No client certificate is asked for. */
    NONE,
    /** A client certificate is asked for; a client without one connects anonymously. A presented one must verify. */
    REQUESTED,
    /** A client without a certificate that verifies against the trusted CAs is refused in the handshake. */
    REQUIRED;

    /** Reads {@code none}, {@code requested} or {@code required}, as Kafka's {@code ssl.client.auth} does. */
    public static ClientAuth parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "none":
            case "":
                return NONE;
            case "requested":
                return REQUESTED;
            case "required":
                return REQUIRED;
            default:
                throw new IllegalArgumentException(
                        "ssl.client.auth must be none, requested or required, not '" + value + "'");
        }
    }
}
