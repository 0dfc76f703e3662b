package dev.bulwark.auth.store;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.TestSealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.apache.kafka.common.security.scram.internals.ScramMechanism.SCRAM_SHA_512;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SCRAM and PLAIN credentials on Bouncy Castle's FIPS module in approved-only mode: the same values as Kafka's own
 * derivation (computed here with the JDK's providers), and the lengths FIPS requires of passwords and salts refused
 * with a clear reason, never with the module's error. Runs only in the FIPS build, in a JVM of its own.
 */
class UserStoreFipsTest {

    private static final String ACME = "acme-id";
    /** 14 bytes of UTF-8: the shortest password approved-only mode derives from. */
    private static final String PASSWORD = "correct-horse!";

    private final CryptoProvider fips = CryptoProvider.fips();
    private final MutableClock clock = new MutableClock();

    @TempDir
    Path dir;

    private UserStore open() throws Exception {
        return UserStore.open(dir, TestSealedFiles.in(dir), 4096, fips, clock);
    }

    @Test
    void credentialsAreKafkasDerivationOfThePassword() throws Exception {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, PASSWORD);

        for (ScramMechanism mechanism : ScramMechanism.values()) {
            ScramCredential credential = store.scramCredential(ACME, "alice", mechanism).orElseThrow();
            ScramFormatter kafka = new ScramFormatter(mechanism);
            byte[] salted = kafka.saltedPassword(PASSWORD, credential.salt(), credential.iterations());
            assertArrayEquals(kafka.storedKey(kafka.clientKey(salted)), credential.storedKey(), mechanism.toString());
            assertArrayEquals(kafka.serverKey(salted), credential.serverKey(), mechanism.toString());
        }
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "alice", PASSWORD));
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD, store.verifyPassword(ACME, "alice", PASSWORD + "?"));
        assertEquals(UserStore.PasswordCheck.UNKNOWN_USER, store.verifyPassword(ACME, "bob", PASSWORD));
    }

    @Test
    void aPasswordShorterThan112BitsIsRefusedWhereItWouldBeDerived() throws Exception {
        UserStore store = open();
        String short13 = PASSWORD.substring(1);

        UnacceptableCredentialException refused = assertThrows(UnacceptableCredentialException.class,
                () -> store.create(ACME, "alice", Role.MEMBER, short13));
        assertTrue(refused.getMessage().contains("FIPS mode"), refused.getMessage());
        IllegalArgumentException operator = assertThrows(IllegalArgumentException.class,
                () -> store.bootstrapOperator("admin:" + short13));
        assertTrue(operator.getMessage().contains("at least 14 bytes"), operator.getMessage());

        store.create(ACME, "alice", Role.MEMBER, PASSWORD);
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD, store.verifyPassword(ACME, "alice", short13),
                "a PLAIN login with a short password matches nothing");
        assertEquals(UserStore.PasswordCheck.UNKNOWN_USER, store.verifyPassword(ACME, "bob", short13));
    }

    @Test
    void anUpsertedSaltShorterThan128BitsIsRefused() throws Exception {
        UserStore store = open();
        ScramFormatter kafka = new ScramFormatter(SCRAM_SHA_512);
        byte[] salt = new byte[CryptoProvider.FIPS_MINIMUM_SALT_BYTES - 1];
        byte[] salted = kafka.saltedPassword(PASSWORD, salt, 4096);

        UnacceptableCredentialException refused = assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "bob", SCRAM_SHA_512, salt, salted, 4096));

        assertTrue(refused.getMessage().contains("salt"), refused.getMessage());
        byte[] longSalt = kafka.secureRandomBytes();
        store.upsertScramCredential(ACME, "bob", SCRAM_SHA_512, longSalt,
                kafka.saltedPassword(PASSWORD, longSalt, 4096), 4096);
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "bob", PASSWORD));
    }
}
