package dev.bulwark.gateway.rest;

import com.nimbusds.jose.jwk.RSAKey;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.jwt.JwksSource;
import dev.bulwark.auth.jwt.JwtValidator;
import dev.bulwark.auth.jwt.JwtValidatorConfig;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.auth.jwt.TestTokens;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RestAuthenticatorTest {

    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    Path dir;
    TenantStore tenants;
    UserStore users;
    Tenant acme;
    RSAKey key;
    RestAuthenticator authenticator;

    @BeforeEach
    void stores() throws Exception {
        SealedFiles sealed = TestLogs.sealedFiles(dir);
        tenants = TenantStore.open(dir.resolve("security"), sealed, CLOCK);
        users = UserStore.open(dir.resolve("security"), sealed, UserStore.MIN_ITERATIONS, CryptoProvider.jdk(),
                CLOCK);
        users.bootstrapOperator("root:root-secret");
        acme = tenants.create("acme");
        users.create(acme.id(), "alice", Role.MEMBER, "alice-secret");
        users.create(acme.id(), "bob", Role.TENANT_ADMIN, "bob-secret");
        key = TestTokens.rsa("k1");
        JwtValidator jwt = new JwtValidator(JwtValidatorConfig.builder(
                new JwksSource.File(TestTokens.jwksFile(dir.resolve("jwks.json"), key)), TestTokens.ISSUER,
                TestTokens.AUDIENCE).build(), CLOCK);
        authenticator = new RestAuthenticator(tenants, users, Optional.of(jwt));
    }

    private static String basic(String username, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    private Caller authenticated(String header) {
        return assertInstanceOf(RestAuthenticator.Authenticated.class, authenticator.authenticate(header)).caller();
    }

    private RestAuthenticator.Refused refused(String header) {
        return assertInstanceOf(RestAuthenticator.Refused.class, authenticator.authenticate(header));
    }

    @Test
    void aPasswordAuthenticatesTheStoredUserWithItsRoleInTheTenantItsUsernameNames() {
        Caller alice = authenticated(basic("alice@acme", "alice-secret"));
        assertEquals("alice", alice.user());
        assertEquals(acme.id(), alice.tenantId());
        assertEquals("acme", alice.tenantName());
        assertEquals(Role.MEMBER, alice.role());
        assertEquals("alice@acme", alice.getName());
        assertEquals(Role.TENANT_ADMIN, authenticated(basic("bob@acme", "bob-secret")).role());

        assertEquals("alice@acme", assertInstanceOf(RestAuthenticator.Authenticated.class,
                authenticator.authenticate(basic("alice@acme", "alice-secret"))).claimedUsername());
        Caller root = authenticated(basic("root", "root-secret"));
        assertTrue(root.isOperator());
        assertEquals(Tenant.DEFAULT_NAME, root.tenantName());
    }

    @Test
    void theClientCannotTellAnUnknownTenantOrUserFromAWrongPasswordButTheLogCan() {
        RestAuthenticator.Refused wrongPassword = refused(basic("alice@acme", "guess"));
        RestAuthenticator.Refused unknownUser = refused(basic("mallory@acme", "guess"));
        RestAuthenticator.Refused unknownTenant = refused(basic("alice@nowhere", "guess"));
        RestAuthenticator.Refused otherTenant = refused(basic("alice", "alice-secret"));
        for (RestAuthenticator.Refused refused : new RestAuthenticator.Refused[]{wrongPassword, unknownUser,
                unknownTenant, otherTenant}) {
            assertEquals(RestAuthenticator.FAILED, refused.clientMessage());
        }
        assertEquals("wrong password", wrongPassword.reason());
        assertEquals("unknown user", unknownUser.reason());
        assertEquals("unknown tenant", unknownTenant.reason());
        assertEquals("unknown user", otherTenant.reason(), "alice without @acme is a user of the default tenant");
        assertEquals("mallory@acme", unknownUser.claimedUsername(), "failures are counted by the username given");
    }

    @Test
    void aSuspendedTenantIsRefusedOnlyToThoseWhoseCredentialsAreRight() throws Exception {
        tenants.setState(acme.id(), Tenant.State.SUSPENDED);
        assertEquals("tenant suspended", refused(basic("alice@acme", "alice-secret")).reason());
        assertEquals("wrong password", refused(basic("alice@acme", "guess")).reason());
        assertEquals(RestAuthenticator.SUSPENDED, refused(basic("alice@acme", "alice-secret")).clientMessage());
        assertEquals(RestAuthenticator.FAILED, refused(basic("alice@acme", "guess")).clientMessage());
        String token = TestTokens.sign(key, TestTokens.claims(NOW, "carol", "acme", "tenant-admin").build());
        assertTrue(refused("Bearer " + token).reason().contains("tenant suspended"));

        tenants.setState(acme.id(), Tenant.State.ACTIVE);
        authenticated(basic("alice@acme", "alice-secret"));
    }

    @Test
    void aTokenAuthenticatesItsPrincipalWithItsRoleEvenWithoutAStoredUser() {
        Caller carol = authenticated("Bearer " + TestTokens.sign(key,
                TestTokens.claims(NOW, "carol", "acme", "tenant-admin").build()));
        assertEquals("carol", carol.user());
        assertEquals(acme.id(), carol.tenantId());
        assertEquals(Role.TENANT_ADMIN, carol.role());
        assertEquals("OAUTHBEARER", carol.principal().mechanism());

        Caller ops = authenticated("Bearer " + TestTokens.sign(key, TestTokens.claims(NOW, "ops", null, "operator")
                .build()));
        assertTrue(ops.isOperator());
        assertEquals(Tenant.DEFAULT_NAME, ops.tenantName());
    }

    @Test
    void anInvalidTokenIsRefusedWithTheValidatorsReason() {
        RestAuthenticator.Refused expired = refused("Bearer " + TestTokens.sign(key,
                TestTokens.claims(NOW.minusSeconds(3600), "ops", null, "operator").build()));
        assertTrue(expired.clientMessage().startsWith("token expired"), expired.clientMessage());
        assertTrue(expired.reason().contains("EXPIRED"), expired.reason());
        assertNull(expired.claimedUsername());

        RestAuthenticator.Refused stranger = refused("Bearer " + TestTokens.sign(TestTokens.rsa("k1"),
                TestTokens.claims(NOW, "ops", null, "operator").build()));
        assertEquals("token signature does not verify", stranger.clientMessage());

        RestAuthenticator.Refused audience = refused("Bearer " + TestTokens.sign(key,
                TestTokens.claims(NOW, "ops", null, "operator").audience("another-service").build()));
        assertTrue(audience.reason().contains("WRONG_AUDIENCE"), audience.reason());
        assertTrue(refused("Bearer not-a-jwt").reason().contains("MALFORMED"));
    }

    @Test
    void aTokenForAnUnknownTenantOrAnOperatorOfATenantIsRefused() {
        RestAuthenticator.Refused unknown = refused("Bearer " + TestTokens.sign(key,
                TestTokens.claims(NOW, "carol", "nowhere", "tenant-admin").build()));
        assertEquals(RestAuthenticator.FAILED, unknown.clientMessage());
        assertTrue(unknown.reason().contains("unknown tenant"), unknown.reason());

        RestAuthenticator.Refused tenantOperator = refused("Bearer " + TestTokens.sign(key,
                TestTokens.claims(NOW, "carol", "acme", "operator").build()));
        assertTrue(tenantOperator.reason().contains("operator outside the default tenant"), tenantOperator.reason());
    }

    @Test
    void withoutAKeySetBearerTokensAreRefusedAndPasswordsStillWork() {
        RestAuthenticator passwordsOnly = new RestAuthenticator(tenants, users, Optional.empty());
        RestAuthenticator.Refused refused = assertInstanceOf(RestAuthenticator.Refused.class,
                passwordsOnly.authenticate("Bearer " + TestTokens.sign(key, TestTokens.claims(NOW, "ops", null,
                        "operator").build())));
        assertEquals("bearer tokens are not accepted here", refused.clientMessage());
        assertInstanceOf(RestAuthenticator.Authenticated.class, passwordsOnly.authenticate(basic("root",
                "root-secret")));
    }

    @Test
    void aMalformedHeaderIsRefusedWithoutAUsernameToCount() {
        RestAuthenticator.Refused refused = refused("Digest username=\"alice\"");
        assertNull(refused.claimedUsername());
        assertTrue(refused.reason().startsWith("malformed Authorization header"), refused.reason());
    }
}
