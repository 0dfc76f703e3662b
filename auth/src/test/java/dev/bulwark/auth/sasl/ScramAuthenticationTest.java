package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.scram.ScramExtensionsCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static dev.bulwark.auth.sasl.SaslFixture.ALICE_PASSWORD;
import static dev.bulwark.auth.sasl.SaslFixture.ROOT_PASSWORD;
import static dev.bulwark.auth.sasl.SaslFixture.credentials;
import static dev.bulwark.auth.sasl.SaslFixture.exchange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SCRAM-SHA-256 and -512 end to end against kafka-clients' own {@link ScramSaslClient}. */
class ScramAuthenticationTest {

    @TempDir
    Path dir;

    private SaslFixture fixture;
    private SaslMechanisms mechanisms;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new SaslFixture(dir);
        mechanisms = fixture.mechanisms();
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void aTenantUserLogsInAsUserAtTenant(ScramMechanism mechanism) throws Exception {
        ScramSaslClient client = new ScramSaslClient(mechanism, credentials("alice@acme", ALICE_PASSWORD));
        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");

        byte[] serverFinal = exchange(client, auth);

        assertTrue(client.isComplete(), "the client verified the server's signature");
        assertTrue(new String(serverFinal, StandardCharsets.UTF_8).startsWith("v="));
        assertEquals(new AuthenticatedPrincipal("alice", fixture.acme.id(), Role.MEMBER, mechanism.mechanismName(),
                -1), auth.principal());
        assertEquals("alice@acme", auth.attemptedUsername().orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void theOperatorLogsInWithoutATenantSuffix(ScramMechanism mechanism) throws Exception {
        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");
        exchange(new ScramSaslClient(mechanism, credentials("root", ROOT_PASSWORD)), auth);
        assertEquals(Tenant.DEFAULT_ID, auth.principal().tenantId());
        assertTrue(auth.principal().isOperator());
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void wrongPasswordUnknownUserAndUnknownTenantFailAlike(ScramMechanism mechanism) throws Exception {
        AuthenticationFailedException wrong = failure(mechanism, "alice@acme", "not-her-password");
        AuthenticationFailedException unknownUser = failure(mechanism, "mallory@acme", ALICE_PASSWORD);
        AuthenticationFailedException unknownTenant = failure(mechanism, "alice@nowhere", ALICE_PASSWORD);

        assertEquals("Authentication failed: invalid credentials for SASL mechanism " + mechanism.mechanismName(),
                wrong.getMessage());
        assertEquals(wrong.getMessage(), unknownUser.getMessage());
        assertEquals(wrong.getMessage(), unknownTenant.getMessage());
        assertEquals(FailureReason.INVALID_CREDENTIALS, wrong.reason());
        assertEquals(FailureReason.UNKNOWN_USER, unknownUser.reason());
        assertEquals(FailureReason.UNKNOWN_TENANT, unknownTenant.reason());
        assertEquals("mallory@acme", unknownUser.attemptedUsername().orElseThrow());
        assertEquals(wrong.getCause().getMessage(), unknownUser.getCause().getMessage(),
                "both were refused by the server's proof check, at the same step");
        assertTrue(wrong instanceof SaslAuthenticationException, "maps to SASL_AUTHENTICATION_FAILED");
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void anUnknownUserGetsASaltAndIterationsLikeARealOne(ScramMechanism mechanism) throws Exception {
        String real = serverFirst(mechanism, "alice@acme");
        String unknown = serverFirst(mechanism, "mallory@acme");
        assertEquals(shape(real), shape(unknown));
        assertEquals(salt(unknown), salt(serverFirst(mechanism, "mallory@acme")), "the same decoy every time");
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void anAlterUserScramCredentialsUpsertThenLogsIn(ScramMechanism mechanism) throws Exception {
        // What AlterUserScramCredentials carries (KIP-554): the client salts and hashes the password itself.
        ScramFormatter formatter = new ScramFormatter(mechanism);
        byte[] salt = formatter.secureRandomBytes();
        byte[] saltedPassword = formatter.saltedPassword("bob-secret", salt, 8192);
        fixture.users.upsertScramCredential(fixture.acme.id(), "bob", mechanism, salt, saltedPassword, 8192);

        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");
        exchange(new ScramSaslClient(mechanism, credentials("bob@acme", "bob-secret")), auth);
        assertEquals(new AuthenticatedPrincipal("bob", fixture.acme.id(), Role.MEMBER, mechanism.mechanismName(), -1),
                auth.principal());

        ScramMechanism other = mechanism == ScramMechanism.SCRAM_SHA_256 ? ScramMechanism.SCRAM_SHA_512
                : ScramMechanism.SCRAM_SHA_256;
        assertEquals(FailureReason.UNKNOWN_USER, failure(other, "bob@acme", "bob-secret").reason(),
                "only the upserted mechanism has a credential");
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void aSuspendedTenantIsRefusedOnlyAfterTheProof(ScramMechanism mechanism) throws Exception {
        fixture.tenants.setState(fixture.acme.id(), Tenant.State.SUSPENDED);

        AuthenticationFailedException suspended = failure(mechanism, "alice@acme", ALICE_PASSWORD);
        assertEquals(FailureReason.TENANT_SUSPENDED, suspended.reason());
        assertEquals("Authentication failed: the principal's tenant is suspended", suspended.getMessage());
        AuthenticationFailedException guess = failure(mechanism, "alice@acme", "guess");
        assertEquals(FailureReason.INVALID_CREDENTIALS, guess.reason(), "a wrong password learns nothing more");

        fixture.tenants.setState(fixture.acme.id(), Tenant.State.ACTIVE);
        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");
        exchange(new ScramSaslClient(mechanism, credentials("alice@acme", ALICE_PASSWORD)), auth);
        assertTrue(auth.isComplete());
    }

    @Test
    void aTenantSuspendedDuringTheExchangeIsRefused() throws Exception {
        ScramSaslClient client = new ScramSaslClient(ScramMechanism.SCRAM_SHA_512,
                credentials("alice@acme", ALICE_PASSWORD));
        Authentication auth = mechanisms.start("SCRAM-SHA-512", "10.0.0.1");
        byte[] clientFinal = client.evaluateChallenge(auth.evaluate(client.evaluateChallenge(new byte[0])));
        fixture.tenants.setState(fixture.acme.id(), Tenant.State.SUSPENDED);

        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> auth.evaluate(clientFinal));
        assertEquals(FailureReason.TENANT_SUSPENDED, e.reason());
    }

    @Test
    void usernamesWithScramEscapesRoundTrip() throws Exception {
        fixture.users.create(fixture.acme.id(), "o=k,ay", Role.MEMBER, "pw");
        Authentication auth = mechanisms.start("SCRAM-SHA-256", "10.0.0.1");
        exchange(new ScramSaslClient(ScramMechanism.SCRAM_SHA_256, credentials("o=k,ay@acme", "pw")), auth);
        assertEquals("o=k,ay", auth.principal().user());
    }

    @Test
    void delegationTokensAreRefused() throws Exception {
        CallbackHandler withTokenAuth = callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof ScramExtensionsCallback extensions) {
                    extensions.extensions(Map.of("tokenauth", "true"));
                } else if (callback instanceof NameCallback name) {
                    name.setName("alice@acme");
                } else if (callback instanceof PasswordCallback pw) {
                    pw.setPassword(ALICE_PASSWORD.toCharArray());
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        };
        Authentication auth = mechanisms.start("SCRAM-SHA-256", "10.0.0.1");
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> exchange(new ScramSaslClient(ScramMechanism.SCRAM_SHA_256, withTokenAuth), auth));
        assertEquals(FailureReason.MALFORMED, e.reason());
    }

    @Test
    void garbageIsRefusedAndTheExchangeIsOverAfterAFailure() {
        Authentication auth = mechanisms.start("SCRAM-SHA-256", "10.0.0.1");
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> auth.evaluate("not scram".getBytes(StandardCharsets.UTF_8)));
        assertEquals(FailureReason.MALFORMED, e.reason());
        assertFalse(auth.isComplete());
        assertThrows(IllegalStateException.class, auth::principal);
        assertThrows(IllegalSaslStateException.class, () -> auth.evaluate(new byte[0]));
    }

    @Test
    void aCompletedExchangeTakesNoMoreMessages() throws Exception {
        Authentication auth = mechanisms.start("SCRAM-SHA-256", "10.0.0.1");
        exchange(new ScramSaslClient(ScramMechanism.SCRAM_SHA_256, credentials("alice@acme", ALICE_PASSWORD)), auth);
        assertThrows(IllegalSaslStateException.class, () -> auth.evaluate(new byte[0]));
        assertTrue(auth.isComplete());
    }

    private AuthenticationFailedException failure(ScramMechanism mechanism, String username, String password) {
        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> exchange(new ScramSaslClient(mechanism, credentials(username, password)), auth));
        assertFalse(auth.isComplete());
        return e;
    }

    /** The server-first message ({@code r=…,s=…,i=…}) the server answers {@code username} with. */
    private String serverFirst(ScramMechanism mechanism, String username) throws Exception {
        ScramSaslClient client = new ScramSaslClient(mechanism, credentials(username, "x"));
        Authentication auth = mechanisms.start(mechanism.mechanismName(), "10.0.0.1");
        return new String(auth.evaluate(client.evaluateChallenge(new byte[0])), StandardCharsets.UTF_8);
    }

    private static String salt(String serverFirst) {
        return serverFirst.split(",")[1];
    }

    /** What an observer can compare without knowing the password: the salt's length class and the iterations. */
    private static String shape(String serverFirst) {
        String[] fields = serverFirst.split(",");
        byte[] salt = java.util.Base64.getDecoder().decode(fields[1].substring(2));
        String saltText = new String(salt, StandardCharsets.US_ASCII);
        assertTrue(saltText.matches("[0-9a-z]{20,26}"), saltText);
        return "salt of base-36 digits," + fields[2];
    }
}
