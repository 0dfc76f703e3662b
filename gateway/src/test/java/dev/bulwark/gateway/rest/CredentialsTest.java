package dev.bulwark.gateway.rest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CredentialsTest {

    private static String basic(String userPass) {
        return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void basicCarriesTheSaslUsernameAndEverythingAfterTheFirstColonAsThePassword() {
        assertEquals(new Credentials.Basic("alice@acme", "pa:ss:"), Credentials.parse(basic("alice@acme:pa:ss:")));
        assertEquals(new Credentials.Basic("alice", ""), Credentials.parse(basic("alice:")));
        assertEquals(new Credentials.Basic("zoë@acme", "pässword"), Credentials.parse(basic("zoë@acme:pässword")),
                "user-pass is UTF-8");
    }

    @Test
    void schemesAreCaseInsensitiveAndSurroundingBlanksDoNotMatter() {
        assertEquals(new Credentials.Basic("bob", "pw"), Credentials.parse("  bAsIc   " + basic("bob:pw").substring(6)
                + " "));
        assertEquals(new Credentials.Bearer("eyJ.x.y"), Credentials.parse("BEARER eyJ.x.y"));
    }

    @Test
    void malformedHeadersAreRefused() {
        for (String header : new String[]{"Basic", "Basic ", "Bearer   ", "Basic !!notbase64!!", basic("no-colon"),
                basic(":password-without-user"), "Digest username=\"alice\"", "eyJhbGciOi"}) {
            assertThrows(IllegalArgumentException.class, () -> Credentials.parse(header), header);
        }
    }

    @Test
    void aRefusalDoesNotRepeatTheCredentials() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Credentials.parse(basic("secret-without-colon")));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }

    @Test
    void toStringNeverShowsASecret() {
        assertEquals("Basic[alice@acme]", new Credentials.Basic("alice@acme", "secret").toString());
        assertEquals("Bearer[...]", new Credentials.Bearer("eyJ.secret.token").toString());
    }
}
