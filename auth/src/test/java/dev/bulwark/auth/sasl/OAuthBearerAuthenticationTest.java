package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.bulwark.auth.sasl.SaslFixture.exchange;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OAUTHBEARER against kafka-clients' own {@link OAuthBearerSaslClient}, with a fake {@link BearerTokenValidator}:
 * a token is {@code user@tenant|role|expiresAtMs} in base64url (kafka-clients accepts only JWT-like characters), or
 * anything else, which it refuses.
 */
class OAuthBearerAuthenticationTest {

    @TempDir
    Path dir;

    private SaslFixture fixture;
    private SaslMechanisms mechanisms;
    private final long inOneHour = MutableClock.START_MS + Duration.ofHours(1).toMillis();

    @BeforeEach
    void setUp() throws Exception {
        fixture = new SaslFixture(dir);
        mechanisms = fixture.mechanisms(token -> {
            String[] parts;
            try {
                parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\\|");
            } catch (IllegalArgumentException e) {
                throw new InvalidTokenException("the signature does not verify");
            }
            if (parts.length != 3) {
                throw new InvalidTokenException("the signature does not verify");
            }
            return new BearerTokenValidator.ValidatedToken(UserName.parse(parts[0]), Role.valueOf(parts[1]),
                    Set.of("kafka"), MutableClock.START_MS, Long.parseLong(parts[2]));
        });
    }

    @Test
    void aValidTokenAuthenticatesItsPrincipalUntilItExpires() throws Exception {
        Authentication auth = mechanisms.start("OAUTHBEARER", "10.0.0.1");

        assertArrayEquals(new byte[0], exchange(client("carol@acme|MEMBER|" + inOneHour), auth));

        assertEquals(new AuthenticatedPrincipal("carol", fixture.acme.id(), Role.MEMBER, "OAUTHBEARER", inOneHour),
                auth.principal());
        assertEquals(Duration.ofHours(1).toMillis(), auth.sessionLifetimeMs(0, MutableClock.START_MS),
                "the session ends with the token");
        assertEquals(Duration.ofMinutes(10).toMillis(),
                auth.sessionLifetimeMs(Duration.ofMinutes(10).toMillis(), MutableClock.START_MS));
    }

    @Test
    void aRefusedTokenGetsTheErrorChallengeThenFailsWithTheValidatorsReason() throws Exception {
        OAuthBearerSaslClient client = client("garbage");
        Authentication auth = mechanisms.start("OAUTHBEARER", "10.0.0.1");

        byte[] challenge = auth.evaluate(client.evaluateChallenge(new byte[0]));
        assertEquals("{\"status\":\"invalid_token\"}", new String(challenge, StandardCharsets.UTF_8));
        assertFalse(auth.isComplete());
        byte[] ack = client.evaluateChallenge(challenge);
        assertArrayEquals(new byte[] {0x01}, ack, "RFC 7628: the client acknowledges the error");

        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class, () -> auth.evaluate(ack));
        assertEquals("Authentication failed: invalid token: the signature does not verify", e.getMessage());
        assertEquals(FailureReason.INVALID_TOKEN, e.reason());
    }

    @Test
    void afterTheErrorChallengeEvenAGoodTokenCannotRescueTheExchange() throws Exception {
        Authentication auth = mechanisms.start("OAUTHBEARER", "10.0.0.1");
        auth.evaluate(client("garbage").evaluateChallenge(new byte[0]));

        byte[] goodToken = client("carol@acme|MEMBER|" + inOneHour).evaluateChallenge(new byte[0]);
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> auth.evaluate(goodToken));
        assertEquals(FailureReason.INVALID_TOKEN, e.reason());
        assertFalse(auth.isComplete());
    }

    @Test
    void aTokenCannotMakeATenantUserAnOperator() {
        AuthenticationFailedException e = failure("carol@acme|OPERATOR|" + inOneHour);
        assertEquals(FailureReason.INVALID_TOKEN, e.reason());
        assertEquals("Authentication failed: invalid token: an operator must belong to the default tenant",
                e.getMessage());
    }

    @Test
    void aTokenForAnUnknownTenantFails() {
        AuthenticationFailedException e = failure("carol@nowhere|MEMBER|" + inOneHour);
        assertEquals(FailureReason.UNKNOWN_TENANT, e.reason());
        assertEquals("Authentication failed: invalid token", e.getMessage());
        assertEquals("carol@nowhere", e.attemptedUsername().orElseThrow());
    }

    @Test
    void aTokenForASuspendedTenantFails() throws Exception {
        fixture.tenants.setState(fixture.acme.id(), Tenant.State.SUSPENDED);
        assertEquals(FailureReason.TENANT_SUSPENDED, failure("carol@acme|MEMBER|" + inOneHour).reason());
    }

    @Test
    void aTokenThatExpiredBeforeTheExchangeEndedFails() {
        AuthenticationFailedException e = failure("carol@acme|MEMBER|" + MutableClock.START_MS);
        assertEquals(FailureReason.TOKEN_EXPIRED, e.reason());
        assertEquals("Authentication failed: the token has expired", e.getMessage());
    }

    @Test
    void theTokenDecidesTheRoleAndDefaultTenantNamesNeedNoSuffix() throws Exception {
        Authentication auth = mechanisms.start("OAUTHBEARER", "10.0.0.1");
        exchange(client("ops|OPERATOR|" + inOneHour), auth);
        assertEquals(new AuthenticatedPrincipal("ops", Tenant.DEFAULT_ID, Role.OPERATOR, "OAUTHBEARER", inOneHour),
                auth.principal());
    }

    private AuthenticationFailedException failure(String token) {
        Authentication auth = mechanisms.start("OAUTHBEARER", "10.0.0.1");
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> exchange(client(token), auth));
        assertFalse(auth.isComplete());
        return e;
    }

    /** kafka-clients' OAUTHBEARER client, handed {@code token} as its login module would hand it. */
    private static OAuthBearerSaslClient client(String claims) {
        String token = claims.equals("garbage") ? claims
                : Base64.getUrlEncoder().withoutPadding().encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        OAuthBearerToken value = new OAuthBearerToken() {
            @Override
            public String value() {
                return token;
            }

            @Override
            public Set<String> scope() {
                return Set.of();
            }

            @Override
            public long lifetimeMs() {
                return Long.MAX_VALUE;
            }

            @Override
            public String principalName() {
                return "whoever";
            }

            @Override
            public Long startTimeMs() {
                return null;
            }
        };
        return new OAuthBearerSaslClient(new AuthenticateCallbackHandler() {
            @Override
            public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {
            }

            @Override
            public void close() {
            }

            @Override
            public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
                for (Callback callback : callbacks) {
                    if (callback instanceof OAuthBearerTokenCallback tokenCallback) {
                        tokenCallback.token(value);
                    } else {
                        throw new UnsupportedCallbackException(callback);
                    }
                }
            }
        });
    }
}
