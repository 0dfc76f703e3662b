package dev.bulwark.auth.sasl;

import dev.bulwark.auth.store.ScramFunctions;
import dev.bulwark.storage.crypto.CryptoProvider;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFirstMessage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.security.auth.callback.Callback;
import javax.security.sasl.SaslException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SCRAM exchange whose server runs on Bouncy Castle's FIPS module in approved-only mode and whose client is Kafka's
 * own derivation on the JDK's providers: the proof verifies, the server's signature is the one the client expects,
 * and a wrong password is refused. The server never sees the password, so its length does not matter here. Runs only
 * in the FIPS build, in a JVM of its own.
 */
class ScramServerFipsTest {

    private static final String PASSWORD = "alice-secret";
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";

    private final CryptoProvider fips = CryptoProvider.fips();

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void kafkasClientAuthenticatesAndVerifiesTheServer(ScramMechanism mechanism) throws Exception {
        ScramFormatter client = new ScramFormatter(mechanism);
        ScramCredential credential = client.generateCredential(PASSWORD, 4096);
        ScramServer server = server(mechanism, credential);
        ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
        ClientFinalMessage last = new ClientFinalMessage("n,,".getBytes(), serverFirst.nonce());
        byte[] salted = client.saltedPassword(PASSWORD, serverFirst.salt(), serverFirst.iterations());
        last.proof(client.clientProof(salted, first, serverFirst, last));

        byte[] answer = server.evaluateResponse(last.toBytes());

        assertTrue(server.isComplete());
        assertArrayEquals(client.serverSignature(client.serverKey(salted), first, serverFirst, last),
                new ServerFinalMessage(answer).serverSignature());
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void aWrongPasswordIsRefused(ScramMechanism mechanism) throws Exception {
        ScramFormatter client = new ScramFormatter(mechanism);
        ScramServer server = server(mechanism, client.generateCredential(PASSWORD, 4096));
        ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
        ClientFinalMessage last = new ClientFinalMessage("n,,".getBytes(), serverFirst.nonce());
        last.proof(client.clientProof(client.saltedPassword("wrong", serverFirst.salt(), serverFirst.iterations()),
                first, serverFirst, last));

        assertThrows(SaslException.class, () -> server.evaluateResponse(last.toBytes()));
    }

    private ScramServer server(ScramMechanism mechanism, ScramCredential credential) {
        return new ScramServer(new ScramFunctions(mechanism, fips), (Callback[] callbacks) -> {
            for (Callback callback : callbacks) {
                if (callback instanceof ScramCredentialCallback c) {
                    c.scramCredential(credential);
                }
            }
        });
    }
}
