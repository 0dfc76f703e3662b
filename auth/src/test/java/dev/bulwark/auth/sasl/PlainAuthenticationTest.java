package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static dev.bulwark.auth.sasl.SaslFixture.ALICE_PASSWORD;
import static dev.bulwark.auth.sasl.SaslFixture.BOSS_PASSWORD;
import static dev.bulwark.auth.sasl.SaslFixture.ROOT_PASSWORD;
import static dev.bulwark.auth.sasl.SaslFixture.credentials;
import static dev.bulwark.auth.sasl.SaslFixture.exchange;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PLAIN with the JDK's own PLAIN client (what the Java client uses) and with hand-built RFC 4616 messages. */
class PlainAuthenticationTest {

    @TempDir
    Path dir;

    private SaslFixture fixture;
    private SaslMechanisms mechanisms;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new SaslFixture(dir);
        mechanisms = fixture.mechanisms();
    }

    @Test
    void theJdkPlainClientLogsIn() throws Exception {
        SaslClient client = Sasl.createSaslClient(new String[] {"PLAIN"}, null, "kafka", "localhost", Map.of(),
                credentials("boss@acme", BOSS_PASSWORD));
        Authentication auth = mechanisms.start("PLAIN", "10.0.0.1");

        assertArrayEquals(new byte[0], exchange(client, auth));
        assertEquals(new AuthenticatedPrincipal("boss", fixture.acme.id(), Role.TENANT_ADMIN, "PLAIN", -1),
                auth.principal());
    }

    @Test
    void handBuiltMessagesWithAndWithoutAuthorizationId() {
        Authentication plain = mechanisms.start("PLAIN", "10.0.0.1");
        plain.evaluate(message("", "root", ROOT_PASSWORD));
        assertEquals(new AuthenticatedPrincipal("root", Tenant.DEFAULT_ID, Role.OPERATOR, "PLAIN", -1), plain.principal());

        Authentication withAuthzid = mechanisms.start("PLAIN", "10.0.0.1");
        withAuthzid.evaluate(message("alice@acme", "alice@acme", ALICE_PASSWORD));
        assertEquals("alice", withAuthzid.principal().user());
    }

    @Test
    void wrongPasswordUnknownUserAndUnknownTenantFailAlike() {
        AuthenticationFailedException wrong = failure(message("", "alice@acme", "nope"));
        AuthenticationFailedException unknownUser = failure(message("", "mallory@acme", ALICE_PASSWORD));
        AuthenticationFailedException unknownTenant = failure(message("", "alice@nowhere", ALICE_PASSWORD));

        assertEquals("Authentication failed: invalid credentials for SASL mechanism PLAIN", wrong.getMessage());
        assertEquals(wrong.getMessage(), unknownUser.getMessage());
        assertEquals(wrong.getMessage(), unknownTenant.getMessage());
        assertEquals(FailureReason.INVALID_CREDENTIALS, wrong.reason());
        assertEquals(FailureReason.UNKNOWN_USER, unknownUser.reason());
        assertEquals(FailureReason.UNKNOWN_TENANT, unknownTenant.reason());
        assertEquals("alice@nowhere", unknownTenant.attemptedUsername().orElseThrow());
    }

    @Test
    void aTenantUserIsNotTheDefaultTenantUserOfTheSameName() {
        assertEquals(FailureReason.UNKNOWN_USER, failure(message("", "alice", ALICE_PASSWORD)).reason());
    }

    @Test
    void plainWorksFromEitherScramCredential() throws Exception {
        fixture.users.deleteScramCredential(fixture.acme.id(), "alice", ScramMechanism.SCRAM_SHA_512);
        Authentication auth = mechanisms.start("PLAIN", "10.0.0.1");
        auth.evaluate(message("", "alice@acme", ALICE_PASSWORD));
        assertTrue(auth.isComplete());

        fixture.users.deleteScramCredential(fixture.acme.id(), "alice", ScramMechanism.SCRAM_SHA_256);
        assertEquals(FailureReason.UNKNOWN_USER, failure(message("", "alice@acme", ALICE_PASSWORD)).reason());
    }

    @Test
    void malformedMessagesAndForeignAuthorizationIdsAreRefused() {
        assertEquals(FailureReason.MALFORMED, failure("no separators".getBytes(StandardCharsets.UTF_8)).reason());
        assertEquals(FailureReason.MALFORMED, failure(message("", "", "x")).reason());
        assertEquals(FailureReason.MALFORMED, failure(message("", "alice@acme", "")).reason());
        AuthenticationFailedException impersonation = failure(message("boss@acme", "alice@acme", ALICE_PASSWORD));
        assertEquals("Authentication failed: invalid credentials for SASL mechanism PLAIN", impersonation.getMessage());
        assertEquals(FailureReason.MALFORMED, impersonation.reason(), "the password was right; the request was not");
    }

    @Test
    void aSuspendedTenantIsRefusedAfterTheRightPassword() throws Exception {
        fixture.tenants.setState(fixture.acme.id(), Tenant.State.SUSPENDED);
        assertEquals(FailureReason.TENANT_SUSPENDED, failure(message("", "alice@acme", ALICE_PASSWORD)).reason());
        assertEquals(FailureReason.INVALID_CREDENTIALS, failure(message("", "alice@acme", "guess")).reason());
    }

    private AuthenticationFailedException failure(byte[] message) {
        Authentication auth = mechanisms.start("PLAIN", "10.0.0.1");
        return assertThrows(AuthenticationFailedException.class, () -> auth.evaluate(message));
    }

    /** RFC 4616: {@code [authzid] NUL authcid NUL passwd}. */
    private static byte[] message(String authzid, String username, String password) {
        return (authzid + "\u0000" + username + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }
}
