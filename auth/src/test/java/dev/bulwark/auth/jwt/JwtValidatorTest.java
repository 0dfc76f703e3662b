package dev.bulwark.auth.jwt;

import dev.bulwark.auth.MutableClock;

import static dev.bulwark.auth.jwt.TestTokens.AUDIENCE;
import static dev.bulwark.auth.jwt.TestTokens.ISSUER;
import static dev.bulwark.auth.jwt.TestTokens.claims;
import static dev.bulwark.auth.jwt.TestTokens.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.jwt.JwtValidationException.Reason;

class JwtValidatorTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private RSAKey rsa;
    private ECKey ec;
    private Path jwks;

    @BeforeEach
    void keys() throws Exception {
        rsa = TestTokens.rsa("rsa-1");
        ec = TestTokens.ec("ec-1");
        jwks = TestTokens.jwksFile(dir.resolve("jwks.json"), rsa, ec);
    }

    private JwtValidatorConfig.Builder config() {
        return JwtValidatorConfig.builder(new JwksSource.File(jwks), ISSUER, AUDIENCE);
    }

    private JwtValidator validator() {
        return validatorAt(T0);
    }

    private JwtValidator validatorAt(Instant now) {
        return new JwtValidator(config().build(), Clock.fixed(now, ZoneOffset.UTC));
    }

    private Reason rejection(JwtValidator validator, String token) {
        return assertThrows(JwtValidationException.class, () -> validator.validate(token)).reason();
    }

    @Test
    void validRs256Token() throws Exception {
        ValidatedToken token = validator().validate(sign(rsa, JWSAlgorithm.RS256, claims(T0).build()));
        assertEquals(new UserName("alice", "acme"), token.userName());
        assertEquals(Role.TENANT_ADMIN, token.role());
        assertEquals(T0.plusSeconds(600), token.expiresAt());
        assertEquals(T0.minusSeconds(60), token.issuedAt());
        assertEquals("alice", token.subject());
        assertEquals("jti-1", token.tokenId());
        assertEquals(Set.of("kafka.produce", "kafka.consume"), token.scopes());
    }

    @Test
    void validEs256Token() throws Exception {
        ValidatedToken token = validator().validate(sign(ec, JWSAlgorithm.ES256, claims(T0).build()));
        assertEquals("alice", token.user());
        assertEquals("acme", token.tenantName());
    }

    @Test
    void otherRsaAndEcAlgorithmsWhenConfigured() throws Exception {
        JwtValidator validator = new JwtValidator(config().algorithms("PS256", "RS512", "ES256").build(),
                Clock.fixed(T0, ZoneOffset.UTC));
        validator.validate(sign(rsa, JWSAlgorithm.PS256, claims(T0).build()));
        validator.validate(sign(rsa, JWSAlgorithm.RS512, claims(T0).build()));
        assertEquals(Reason.ALGORITHM_NOT_ALLOWED,
                rejection(validator, sign(rsa, JWSAlgorithm.RS256, claims(T0).build())));
    }

    @Test
    void aSignatureByAnotherKeyWithTheSameKidIsRefused() {
        RSAKey impostor = TestTokens.rsa("rsa-1");
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validator().validate(sign(impostor, JWSAlgorithm.RS256, claims(T0).build())));
        assertEquals(Reason.BAD_SIGNATURE, e.reason());
        assertEquals("token signature does not verify", e.getMessage());

        ECKey ecImpostor = TestTokens.ec("ec-1");
        assertEquals(Reason.BAD_SIGNATURE,
                rejection(validator(), sign(ecImpostor, JWSAlgorithm.ES256, claims(T0).build())));
    }

    @Test
    void aTamperedPayloadIsRefused() {
        String token = sign(rsa, JWSAlgorithm.RS256, claims(T0).build());
        String[] parts = token.split("\\.");
        String forged = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("tenant-admin", "operator");
        String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(forged.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertEquals(Reason.BAD_SIGNATURE, rejection(validator(), tampered));
    }

    @Test
    void theSignatureIsCheckedBeforeAnyClaim() {
        RSAKey impostor = TestTokens.rsa("rsa-1");
        String expiredAndForged = sign(impostor, JWSAlgorithm.RS256,
                claims(T0).issuer("https://evil.test").expirationTime(Date.from(T0.minusSeconds(3600))).build());
        assertEquals(Reason.BAD_SIGNATURE, rejection(validator(), expiredAndForged));
    }

    @Test
    void anUnknownKeyIdIsRefused() {
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validator().validate(sign(TestTokens.rsa("rsa-9"), JWSAlgorithm.RS256, claims(T0).build())));
        assertEquals(Reason.UNKNOWN_KEY, e.reason());
        assertEquals("no signing key matches the token (kid rsa-9)", e.getMessage());
        assertEquals(Reason.UNKNOWN_KEY, rejection(validator(),
                sign(ec, new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("rsa-1").build(), claims(T0).build())),
                "an EC algorithm with the id of an RSA key");
    }

    /** Keys a token brings along ({@code jwk}, {@code jku}) are never used: only the configured JWK Set's. */
    @Test
    void keysNamedByTheTokenItselfAreIgnored() throws Exception {
        RSAKey attacker = TestTokens.rsa("rsa-1");
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").jwk(attacker.toPublicJWK())
                .jwkURL(java.net.URI.create("https://attacker.test/jwks.json")).build();
        assertEquals(Reason.BAD_SIGNATURE, rejection(validator(), sign(attacker, header, claims(T0).build())));
        JWSHeader otherKid = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("attacker")
                .jwk(TestTokens.rsa("attacker").toPublicJWK()).build();
        assertEquals(Reason.UNKNOWN_KEY, rejection(validator(), sign(attacker, otherKid, claims(T0).build())));
    }

    @Test
    void aDisallowedAlgorithmIsRefused() {
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validator().validate(sign(rsa, JWSAlgorithm.RS384, claims(T0).build())));
        assertEquals(Reason.ALGORITHM_NOT_ALLOWED, e.reason());
        assertEquals("token algorithm RS384 is not allowed", e.getMessage());
    }

    @Test
    void unsignedTokensAreRefused() {
        JWTClaimsSet claims = claims(T0).build();
        assertEquals(Reason.ALGORITHM_NOT_ALLOWED, rejection(validator(), new PlainJWT(claims).serialize()));
        String header = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":\"none\",\"kid\":\"rsa-1\"}".getBytes(StandardCharsets.UTF_8));
        String payload = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
        assertEquals(Reason.ALGORITHM_NOT_ALLOWED, rejection(validator(), header + "." + payload + "."));
        assertEquals(Reason.MALFORMED, rejection(validator(), header + "." + payload + ".c2ln"),
                "alg none with a signature is not even a JWT");
    }

    /** The classic confusion: HS256 keyed with the RSA public key that anyone can fetch. */
    @Test
    void hmacTokensAreRefusedEvenKeyedWithThePublicKey() throws Exception {
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(),
                claims(T0).build());
        hs.sign(new MACSigner(rsa.toRSAPublicKey().getEncoded()));
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validator().validate(hs.serialize()));
        assertEquals(Reason.ALGORITHM_NOT_ALLOWED, e.reason());
        assertEquals("token algorithm HS256 is not allowed", e.getMessage());
    }

    @Test
    void anExpiredTokenIsRefused() {
        String token = sign(rsa, JWSAlgorithm.RS256, claims(T0).build());
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validatorAt(T0.plusSeconds(3600)).validate(token));
        assertEquals(Reason.EXPIRED, e.reason());
        assertEquals("token expired at 2030-01-01T00:10:00Z", e.getMessage());
    }

    @Test
    void expiryHonoursTheClockSkewToTheMillisecond() throws Exception {
        Instant exp = T0.plusSeconds(600);
        String token = sign(rsa, JWSAlgorithm.RS256, claims(T0).build());
        Duration skew = JwtValidatorConfig.DEFAULT_CLOCK_SKEW;
        validatorAt(exp.minusMillis(1)).validate(token);
        validatorAt(exp).validate(token);
        validatorAt(exp.plus(skew).minusMillis(1)).validate(token);
        assertEquals(Reason.EXPIRED, rejection(validatorAt(exp.plus(skew)), token));

        JwtValidator noSkew = new JwtValidator(config().clockSkew(Duration.ZERO).build(),
                Clock.fixed(exp, ZoneOffset.UTC));
        assertEquals(Reason.EXPIRED, rejection(noSkew, token), "RFC 7519: now must be before exp");
    }

    @Test
    void aTokenBeforeItsNotBeforeTimeIsRefusedBeyondTheSkew() throws Exception {
        Instant nbf = T0.plusSeconds(120);
        String token = sign(rsa, JWSAlgorithm.RS256, claims(T0).notBeforeTime(Date.from(nbf)).build());
        Duration skew = JwtValidatorConfig.DEFAULT_CLOCK_SKEW;
        JwtValidationException e = assertThrows(JwtValidationException.class,
                () -> validatorAt(T0).validate(token));
        assertEquals(Reason.NOT_YET_VALID, e.reason());
        assertEquals("token is not valid before 2030-01-01T00:02:00Z", e.getMessage());
        assertEquals(Reason.NOT_YET_VALID, rejection(validatorAt(nbf.minus(skew).minusMillis(1)), token));
        validatorAt(nbf.minus(skew)).validate(token);
        validatorAt(nbf).validate(token);
    }

    @Test
    void wrongOrMissingIssuerIsRefusedWithoutNamingTheExpectedOne() {
        JwtValidationException wrong = assertThrows(JwtValidationException.class, () -> validator().validate(
                sign(rsa, JWSAlgorithm.RS256, claims(T0).issuer("https://idp.test/realms/other").build())));
        assertEquals(Reason.WRONG_ISSUER, wrong.reason());
        assertFalse(wrong.getMessage().contains(ISSUER), wrong.getMessage());
        assertEquals(Reason.MISSING_CLAIM,
                rejection(validator(), sign(rsa, JWSAlgorithm.RS256, claims(T0).issuer(null).build())));
    }

    @Test
    void theAudienceMustIncludeThisService() throws Exception {
        assertEquals(Reason.WRONG_AUDIENCE, rejection(validator(),
                sign(rsa, JWSAlgorithm.RS256, claims(T0).audience("someone-else").build())));
        assertEquals(Reason.MISSING_CLAIM, rejection(validator(),
                sign(rsa, JWSAlgorithm.RS256, claims(T0).audience((String) null).build())));
        validator().validate(sign(rsa, JWSAlgorithm.RS256, claims(T0).audience(AUDIENCE).build()));
    }

    @Test
    void requiredClaimsMustBeThere() {
        JwtValidationException noExp = assertThrows(JwtValidationException.class, () -> validator().validate(
                sign(rsa, JWSAlgorithm.RS256, claims(T0).expirationTime(null).build())));
        assertEquals(Reason.MISSING_CLAIM, noExp.reason());
        assertEquals("token has no expiry (exp)", noExp.getMessage());

        JwtValidationException noSub = assertThrows(JwtValidationException.class, () -> validator().validate(
                sign(rsa, JWSAlgorithm.RS256, claims(T0).subject(null).build())));
        assertEquals(Reason.MISSING_CLAIM, noSub.reason());
        assertEquals("token has no sub claim", noSub.getMessage());

        assertEquals(Reason.INVALID_CLAIM, rejection(validator(),
                sign(rsa, JWSAlgorithm.RS256, claims(T0).claim("tenant", 42).build())));
        assertEquals(Reason.INVALID_CLAIM, rejection(validator(),
                sign(rsa, JWSAlgorithm.RS256, claims(T0).claim("tenant", " ").build())));
    }

    @Test
    void aTokenWithoutTenantBelongsToTheDefaultTenant() throws Exception {
        ValidatedToken token = validator().validate(
                sign(rsa, JWSAlgorithm.RS256, claims(T0).claim("tenant", null).build()));
        assertEquals(Tenant.DEFAULT_NAME, token.tenantName());
        assertEquals("alice", token.userName().saslUsername());
    }

    @Test
    void claimsAreConfigurableAndMayBeNested() throws Exception {
        JwtValidator validator = new JwtValidator(config()
                .principalClaim("preferred_username")
                .tenantClaim("https://bulwark.dev/tenant")
                .rolesClaim("realm_access.roles")
                .build(), Clock.fixed(T0, ZoneOffset.UTC));
        ValidatedToken token = validator.validate(sign(ec, JWSAlgorithm.ES256, claims(T0)
                .subject("0f8c7e52-uuid")
                .claim("preferred_username", "bob")
                .claim("https://bulwark.dev/tenant", "payments")
                .claim("realm_access", Map.of("roles", List.of("default-roles", "auditor")))
                .build()));
        assertEquals(new UserName("bob", "payments"), token.userName());
        assertEquals("0f8c7e52-uuid", token.subject());
        assertEquals(Role.AUDITOR, token.role());
    }

    @Test
    void rolesResolveToOneRoleOrAreRefused() throws Exception {
        assertEquals(Role.OPERATOR, roleOf("operator"));
        assertEquals(Role.OPERATOR, roleOf(List.of("auditor", "operator")));
        assertEquals(Role.TENANT_ADMIN, roleOf(List.of("member", "TENANT_ADMIN")));
        assertEquals(Role.AUDITOR, roleOf("auditor"));
        assertEquals(Role.MEMBER, roleOf(List.of("offline_access", "uma_authorization")));
        assertEquals(Role.MEMBER, roleOf(null));
        assertEquals(Role.MEMBER, roleOf("member"));
        for (Object ambiguous : List.of(List.of("auditor", "member"), List.of("auditor", "tenant-admin"))) {
            JwtValidationException e = assertThrows(JwtValidationException.class, () -> roleOf(ambiguous));
            assertEquals(Reason.INVALID_CLAIM, e.reason());
        }
        assertEquals(Reason.INVALID_CLAIM,
                assertThrows(JwtValidationException.class, () -> roleOf(7)).reason());
        assertEquals(Reason.INVALID_CLAIM,
                assertThrows(JwtValidationException.class, () -> roleOf(List.of("member", 7))).reason());
    }

    private Role roleOf(Object roles) throws JwtValidationException {
        return validator().validate(sign(rsa, JWSAlgorithm.RS256, claims(T0).claim("roles", roles).build())).role();
    }

    @Test
    void malformedTokens() throws Exception {
        JwtValidator validator = validator();
        assertEquals(Reason.MALFORMED, rejection(validator, null));
        assertEquals(Reason.MALFORMED, rejection(validator, ""));
        assertEquals(Reason.MALFORMED, rejection(validator, "not-a-jwt"));
        assertEquals(Reason.MALFORMED, rejection(validator, "a.b.c"));
        assertEquals(Reason.MALFORMED, rejection(validator, "x".repeat(JwtValidator.MAX_TOKEN_LENGTH + 1)));

        EncryptedJWT encrypted = new EncryptedJWT(new JWEHeader(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A128GCM),
                claims(T0).build());
        encrypted.encrypt(new RSAEncrypter(rsa.toRSAPublicKey()));
        assertEquals(Reason.MALFORMED, rejection(validator, encrypted.serialize()));

        String josePlusJson = sign(rsa, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                .type(JOSEObjectType.JOSE_JSON).build(), claims(T0).build());
        assertEquals(Reason.MALFORMED, rejection(validator, josePlusJson));
        validator.validate(sign(rsa, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
                .type(new JOSEObjectType("at+jwt")).build(), claims(T0).build()));
        validator.validate(sign(rsa, new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims(T0).build()));
    }

    @Test
    void theOauthBearerAdapterResolvesTheTenant() throws Exception {
        String token = sign(rsa, JWSAlgorithm.RS256, claims(T0).build());
        AuthenticatedPrincipal principal = validator().authenticate(token,
                name -> name.equals("acme") ? "t-7" : null);
        assertEquals(new AuthenticatedPrincipal("alice", "t-7", Role.TENANT_ADMIN, "OAUTHBEARER",
                T0.plusSeconds(600).toEpochMilli()), principal);

        JwtValidationException unknown = assertThrows(JwtValidationException.class,
                () -> validator().authenticate(token, name -> null));
        assertEquals(Reason.UNKNOWN_TENANT, unknown.reason());
    }

    @Test
    void configurationRefusesWhatWouldBeUnsafe() {
        for (String alg : List.of("none", "HS256", "HS512")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> config().algorithms(alg).build());
            assertTrue(e.getMessage().contains(alg), e.getMessage());
        }
        IllegalArgumentException eddsa = assertThrows(IllegalArgumentException.class,
                () -> config().algorithms("EdDSA").build());
        assertTrue(eddsa.getMessage().contains("Tink"), eddsa.getMessage());
        assertThrows(IllegalArgumentException.class, () -> config().algorithms("RS999").build());
        assertThrows(IllegalArgumentException.class, () -> config().algorithms().build());
        assertThrows(IllegalArgumentException.class,
                () -> JwtValidatorConfig.builder(new JwksSource.File(jwks), " ", AUDIENCE).build());
        assertThrows(IllegalArgumentException.class,
                () -> JwtValidatorConfig.builder(new JwksSource.File(jwks), ISSUER, null).build());
        assertThrows(IllegalArgumentException.class, () -> config().clockSkew(Duration.ofSeconds(-1)).build());
        assertEquals(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), config().build().algorithms());
        assertEquals(Set.of(JWSAlgorithm.ES384), config().algorithms("es384").build().algorithms());
    }

    @Test
    void jwksFileRotationIsPickedUpAfterTheRecheckInterval() throws Exception {
        MutableClock clock = new MutableClock(T0);
        JwtValidator validator = new JwtValidator(
                JwtValidatorConfig.builder(new JwksSource.File(jwks, Duration.ofSeconds(30)), ISSUER, AUDIENCE)
                        .build(), clock);
        RSAKey next = TestTokens.rsa("rsa-2");
        String withNext = sign(next, JWSAlgorithm.RS256, claims(T0).build());
        TestTokens.jwksFile(dir.resolve("jwks.tmp"), rsa, next);
        java.nio.file.Files.move(dir.resolve("jwks.tmp"), jwks, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        clock.advance(Duration.ofSeconds(29));
        assertEquals(Reason.UNKNOWN_KEY, rejection(validator, withNext), "not looked at yet");
        clock.advance(Duration.ofSeconds(1));
        assertEquals("alice", validator.validate(withNext).user());

        java.nio.file.Files.writeString(jwks, "{ broken");
        clock.advance(Duration.ofSeconds(30));
        assertEquals("alice", validator.validate(withNext).user(), "a broken file keeps the keys read before");
    }

    @Test
    void jwksFileProblemsAreConfigurationErrors() throws Exception {
        Path missing = dir.resolve("missing.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JwtValidator(JwtValidatorConfig.builder(new JwksSource.File(missing), ISSUER, AUDIENCE)
                        .build(), Clock.systemUTC()));
        assertTrue(e.getMessage().startsWith("the JWKS file " + missing), e.getMessage());

        Path secretOnly = dir.resolve("secret.json");
        java.nio.file.Files.writeString(secretOnly,
                "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"s\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0\"}]}");
        IllegalArgumentException noPublic = assertThrows(IllegalArgumentException.class,
                () -> new JwtValidator(JwtValidatorConfig.builder(new JwksSource.File(secretOnly), ISSUER, AUDIENCE)
                        .build(), Clock.systemUTC()));
        assertTrue(noPublic.getMessage().endsWith("holds no public key"), noPublic.getMessage());

        Path withPrivate = dir.resolve("private.json");
        java.nio.file.Files.writeString(withPrivate, new com.nimbusds.jose.jwk.JWKSet(rsa).toString(false));
        JwtValidator validator = new JwtValidator(JwtValidatorConfig.builder(new JwksSource.File(withPrivate),
                ISSUER, AUDIENCE).build(), Clock.fixed(T0, ZoneOffset.UTC));
        assertEquals("alice", validator.validate(sign(rsa, JWSAlgorithm.RS256, claims(T0).build())).user(),
                "private members are dropped; the public half verifies");
    }

    @Test
    void jwksLocations() {
        assertEquals(new JwksSource.File(Path.of("/etc/bulwark/jwks.json")),
                JwksSource.parse("/etc/bulwark/jwks.json"));
        assertEquals(new JwksSource.File(Path.of("/etc/jwks.json")), JwksSource.parse("file:///etc/jwks.json"));
        assertTrue(JwksSource.parse("https://idp.example/certs") instanceof JwksSource.Url);
        assertTrue(JwksSource.parse("http://127.0.0.1:8180/certs") instanceof JwksSource.Url);
        assertTrue(JwksSource.parse("http://localhost/certs") instanceof JwksSource.Url);
        assertTrue(JwksSource.parse("http://[::1]:80/certs") instanceof JwksSource.Url);
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> JwksSource.parse("http://idp.example/certs"));
        assertTrue(plain.getMessage().contains("must be https"), plain.getMessage());
        assertNull(((JwksSource.Url) JwksSource.parse("https://idp.example/certs")).sslSocketFactory());
    }
}
