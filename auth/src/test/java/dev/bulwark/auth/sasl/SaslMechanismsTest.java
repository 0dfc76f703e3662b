package dev.bulwark.auth.sasl;

import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SaslMechanismsTest {

    @TempDir
    Path dir;

    @Test
    void offersExactlyTheConfiguredMechanismsInOrder() throws Exception {
        SaslFixture fixture = new SaslFixture(dir);
        SaslMechanisms mechanisms = new SaslMechanisms(SaslMechanismsConfig.parse(" SCRAM-SHA-512 , PLAIN "),
                fixture.tenants, fixture.users, null, fixture.clock);

        assertEquals(List.of("SCRAM-SHA-512", "PLAIN"), mechanisms.enabled());
        assertTrue(mechanisms.isEnabled("PLAIN"));
        assertFalse(mechanisms.isEnabled("SCRAM-SHA-256"));
        UnsupportedSaslMechanismException e = assertThrows(UnsupportedSaslMechanismException.class,
                () -> mechanisms.start("SCRAM-SHA-256", "10.0.0.1"));
        assertTrue(e.getMessage().contains("[SCRAM-SHA-512, PLAIN]"), e.getMessage());
        assertThrows(UnsupportedSaslMechanismException.class, () -> mechanisms.start("GSSAPI", "10.0.0.1"));
        assertEquals("SCRAM-SHA-512", mechanisms.start("SCRAM-SHA-512", "10.0.0.1").mechanism());
    }

    @Test
    void oauthBearerNeedsAValidator() throws Exception {
        SaslFixture fixture = new SaslFixture(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SaslMechanisms(
                SaslMechanismsConfig.parse("OAUTHBEARER"), fixture.tenants, fixture.users, null, fixture.clock));
        assertTrue(e.getMessage().contains("validator"), e.getMessage());
    }

    @Test
    void theConfigValidatesItself() {
        assertThrows(IllegalArgumentException.class, () -> SaslMechanismsConfig.parse(""));
        assertThrows(IllegalArgumentException.class, () -> SaslMechanismsConfig.parse("PLAIN,GSSAPI"));
        assertThrows(IllegalArgumentException.class, () -> SaslMechanismsConfig.parse("PLAIN,PLAIN"));
        assertThrows(IllegalArgumentException.class, () -> SaslMechanismsConfig.parse("plain"));
        assertEquals(List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"), SaslMechanismsConfig.defaults().enabled());
    }

    @Test
    void theSessionLifetimeIsTheSoonerOfReauthAndExpiry() {
        long now = 1_000_000;
        assertEquals(0, Authentication.sessionLifetimeMs(0, -1, now), "no reauth, no expiry: unlimited");
        assertEquals(0, Authentication.sessionLifetimeMs(-1, -1, now));
        assertEquals(60_000, Authentication.sessionLifetimeMs(60_000, -1, now));
        assertEquals(5_000, Authentication.sessionLifetimeMs(0, now + 5_000, now));
        assertEquals(5_000, Authentication.sessionLifetimeMs(60_000, now + 5_000, now));
        assertEquals(60_000, Authentication.sessionLifetimeMs(60_000, now + 500_000, now));
        assertEquals(1, Authentication.sessionLifetimeMs(0, now - 10, now), "an expiring credential is never unlimited");
    }

    @Test
    void aPasswordLoginHasOnlyTheReauthLimit() throws Exception {
        SaslFixture fixture = new SaslFixture(dir);
        Authentication auth = fixture.mechanisms().start("PLAIN", "10.0.0.1");
        auth.evaluate(("\u0000root\u0000" + SaslFixture.ROOT_PASSWORD).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(0, auth.sessionLifetimeMs(0, fixture.clock.millis()));
        assertEquals(3_600_000, auth.sessionLifetimeMs(3_600_000, fixture.clock.millis()));
    }
}
