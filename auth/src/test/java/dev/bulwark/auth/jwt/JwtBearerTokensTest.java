package dev.bulwark.auth.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.sasl.BearerTokenValidator;
import dev.bulwark.auth.sasl.InvalidTokenException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static dev.bulwark.auth.jwt.TestTokens.AUDIENCE;
import static dev.bulwark.auth.jwt.TestTokens.ISSUER;
import static dev.bulwark.auth.jwt.TestTokens.claims;
import static dev.bulwark.auth.jwt.TestTokens.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OAUTHBEARER view of a JWT: who, which role, until when; a refusal carries the validator's reason. */
class JwtBearerTokensTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aValidTokenNamesTheUserTheTenantTheRoleAndTheExpiry() throws Exception {
        RSAKey key = TestTokens.rsa("k1");
        BearerTokenValidator tokens = tokens(key);

        BearerTokenValidator.ValidatedToken token = tokens.validate(sign(key, JWSAlgorithm.RS256,
                claims(T0).build()));

        assertEquals(new UserName("alice", "acme"), token.principal());
        assertEquals(Role.TENANT_ADMIN, token.role());
        assertEquals(T0.plusSeconds(600).toEpochMilli(), token.expiresAtMs());
        assertEquals(T0.minusSeconds(60).toEpochMilli(), token.issuedAtMs());
    }

    @Test
    void aTokenSignedByAnotherKeyIsRefusedWithTheValidatorsReason() throws Exception {
        RSAKey trusted = TestTokens.rsa("k1");
        RSAKey stranger = TestTokens.rsa("k1");

        InvalidTokenException refused = assertThrows(InvalidTokenException.class,
                () -> tokens(trusted).validate(sign(stranger, JWSAlgorithm.RS256, claims(T0).build())));

        assertTrue(refused.getMessage().contains("signature"), refused.getMessage());
    }

    private BearerTokenValidator tokens(RSAKey key) throws Exception {
        Path jwks = TestTokens.jwksFile(dir.resolve("jwks.json"), key);
        return new JwtBearerTokens(new JwtValidator(JwtValidatorConfig.builder(new JwksSource.File(jwks), ISSUER,
                AUDIENCE).build(), Clock.fixed(T0, ZoneOffset.UTC)));
    }
}
