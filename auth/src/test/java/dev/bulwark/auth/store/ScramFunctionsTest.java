package dev.bulwark.auth.store;

import dev.bulwark.storage.crypto.CryptoProvider;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bulwark's SCRAM functions against Kafka's own, which every Kafka client computes with. */
class ScramFunctionsTest {

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void deriveWhatKafkaDerivesFromAnyPassword(ScramMechanism mechanism) throws Exception {
        ScramFunctions scram = new ScramFunctions(mechanism, CryptoProvider.jdk());
        ScramFormatter kafka = new ScramFormatter(mechanism);
        byte[] salt = kafka.secureRandomBytes();

        for (String password : new String[] {"p", "pässwörd ✓ with spaces", "x".repeat(200)}) {
            byte[] salted = scram.saltedPassword(password, salt, 4096);
            assertArrayEquals(kafka.saltedPassword(password, salt, 4096), salted, password);
            ScramCredential ours = scram.credential(salt, salted, 4096);
            ScramCredential theirs = kafka.generateCredential(salt, salted, 4096);
            assertArrayEquals(theirs.storedKey(), ours.storedKey());
            assertArrayEquals(theirs.serverKey(), ours.serverKey());
        }
        assertEquals(kafka.hash(new byte[0]).length, scram.hashLength());
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void saltsAndNoncesHaveKafkasForm(ScramMechanism mechanism) {
        ScramFunctions scram = new ScramFunctions(mechanism, CryptoProvider.jdk());

        String nonce = scram.nonce();
        assertTrue(nonce.matches("[0-9a-z]{20,26}"), nonce);
        ScramCredential credential = scram.credential("secret", 4096);
        assertTrue(new String(credential.salt(), StandardCharsets.US_ASCII).matches("[0-9a-z]{20,26}"));
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void anEmptyPasswordOrSaltAndAProofOfTheWrongLengthAreRefused(ScramMechanism mechanism) {
        ScramFunctions scram = new ScramFunctions(mechanism, CryptoProvider.jdk());

        assertThrows(UnacceptableCredentialException.class, () -> scram.saltedPassword("", new byte[16], 4096));
        assertThrows(UnacceptableCredentialException.class, () -> scram.saltedPassword("p", new byte[0], 4096));
        byte[] signature = new byte[scram.hashLength()];
        assertThrows(IllegalArgumentException.class, () -> scram.storedKey(signature, new byte[signature.length - 1]));
    }
}
