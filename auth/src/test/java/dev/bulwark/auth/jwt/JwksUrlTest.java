package dev.bulwark.auth.jwt;

import static dev.bulwark.auth.jwt.TestTokens.AUDIENCE;
import static dev.bulwark.auth.jwt.TestTokens.ISSUER;
import static dev.bulwark.auth.jwt.TestTokens.claims;
import static dev.bulwark.auth.jwt.TestTokens.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.bulwark.auth.jwt.JwtValidationException.Reason;

/** The JWK Set served by a JDK HTTP server on 127.0.0.1, as an identity provider's {@code jwks_uri}. */
@Timeout(60)
class JwksUrlTest {

    private final AtomicReference<String> body = new AtomicReference<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;
    private RSAKey rsa;
    private ECKey ec;
    private Instant now;

    @BeforeEach
    void serve() throws IOException {
        rsa = TestTokens.rsa("rsa-1");
        ec = TestTokens.ec("ec-1");
        body.set(TestTokens.jwks(rsa, ec));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/realms/bulwark/certs", this::handle);
        server.start();
        now = Instant.now(); // the cache of Nimbus' JWK source runs on the system clock
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status.get(), bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/realms/bulwark/certs");
    }

    private JwtValidator validator() {
        JwksSource.Url source = new JwksSource.Url(uri(), Duration.ofMinutes(5), Duration.ofSeconds(5), null);
        return new JwtValidator(JwtValidatorConfig.builder(source, ISSUER, AUDIENCE).build(), Clock.systemUTC());
    }

    @Test
    void keysAreFetchedOnceAndCached() throws Exception {
        JwtValidator validator = validator();
        assertEquals(0, requests.get(), "nothing is fetched before the first token");
        assertEquals("alice", validator.validate(sign(rsa, JWSAlgorithm.RS256, claims(now).build())).user());
        assertEquals("alice", validator.validate(sign(ec, JWSAlgorithm.ES256, claims(now).build())).user());
        assertEquals("alice", validator.validate(sign(rsa, JWSAlgorithm.RS256, claims(now).build())).user());
        assertEquals(1, requests.get());
    }

    @Test
    void aNewKeyIdFetchesTheRotatedSet() throws Exception {
        JwtValidator validator = validator();
        validator.validate(sign(rsa, JWSAlgorithm.RS256, claims(now).build()));
        RSAKey next = TestTokens.rsa("rsa-2");
        body.set(TestTokens.jwks(rsa, next));
        assertEquals("alice", validator.validate(sign(next, JWSAlgorithm.RS256, claims(now).build())).user());
        assertEquals(2, requests.get());
    }

    @Test
    void checksStillApplyToFetchedKeys() {
        JwtValidator validator = validator();
        JwtValidationException e = assertThrows(JwtValidationException.class, () -> validator.validate(
                sign(TestTokens.rsa("rsa-1"), JWSAlgorithm.RS256, claims(now).build())));
        assertEquals(Reason.BAD_SIGNATURE, e.reason());
        assertEquals(Reason.WRONG_AUDIENCE, assertThrows(JwtValidationException.class, () -> validator.validate(
                sign(rsa, JWSAlgorithm.RS256, claims(now).audience("nope").build()))).reason());
    }

    @Test
    void aFailingKeyServerMeansKeysUnavailable() {
        status.set(500);
        body.set("{\"error\":\"down\"}");
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validator().validate(sign(rsa, JWSAlgorithm.RS256, claims(now).build())));
        assertEquals(Reason.KEYS_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().contains("try again later"), e.getMessage());
    }

    @Test
    void anUnreachableKeyServerMeansKeysUnavailable() {
        JwtValidator validator = validator();
        server.stop(0);
        assertEquals(Reason.KEYS_UNAVAILABLE, assertThrows(JwtValidationException.class,
                () -> validator.validate(sign(rsa, JWSAlgorithm.RS256, claims(now).build()))).reason());
    }
}
