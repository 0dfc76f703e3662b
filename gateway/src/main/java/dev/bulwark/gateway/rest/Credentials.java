package dev.bulwark.gateway.rest;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * What an {@code Authorization} header carries: HTTP Basic (RFC 7617), a SASL username ({@code alice@acme}) and its
 * password, or a bearer token (RFC 6750). Neither record's {@code toString} shows the secret, so a credential that
 * reaches a log by mistake reveals nothing.
 */
sealed interface Credentials {

    /** @param username the SASL username as sent, {@code alice@acme} or, in the default tenant, {@code alice} */
    record Basic(String username, String password) implements Credentials {
        @Override
        public String toString() {
            return "Basic[" + username + "]";
        }
    }

    record Bearer(String token) implements Credentials {
        @Override
        public String toString() {
            return "Bearer[...]";
        }
    }

    /**
     * Reads an {@code Authorization} header: the scheme is case-insensitive; Basic's user-pass is base64 of UTF-8
     * text whose first ':' ends the username (RFC 7617, so a password may contain ':' and a username may not).
     *
     * @throws IllegalArgumentException when the header is malformed or names another scheme; the message may be sent
     *                                  to the client (it never contains the header)
     */
    static Credentials parse(String header) {
        String value = header.strip();
        int space = value.indexOf(' ');
        if (space < 0) {
            throw new IllegalArgumentException("the Authorization header has no credentials after its scheme");
        }
        String scheme = value.substring(0, space).toLowerCase(Locale.ROOT);
        String rest = value.substring(space + 1).strip();
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("the Authorization header has no credentials after its scheme");
        }
        return switch (scheme) {
            case "basic" -> basic(rest);
            case "bearer" -> new Bearer(rest);
            default -> throw new IllegalArgumentException("unsupported authentication scheme; use Basic or Bearer");
        };
    }

    private static Basic basic(String encoded) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the Basic credentials are not base64");
        }
        String userPass = new String(decoded, StandardCharsets.UTF_8);
        int colon = userPass.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("the Basic credentials are not username:password");
        }
        return new Basic(userPass.substring(0, colon), userPass.substring(colon + 1));
    }
}
