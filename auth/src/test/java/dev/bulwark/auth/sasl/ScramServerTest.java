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
import org.junit.jupiter.api.Test;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.sasl.SaslException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SCRAM server's final-message nonce check, with a client written out by hand: the RFC's nonce and the one
 * librdkafka before 2.6.1 sends (its client nonce once more in front) are accepted with the right proof; any other
 * nonce is refused before the proof is looked at.
 */
class ScramServerTest {

    private static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_512;
    private static final String PASSWORD = "alice-secret";
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";

    private final ScramFormatter formatter = formatter();
    private final ScramCredential credential = formatter.generateCredential(PASSWORD, 4096);

    @Test
    void theRfcNonceCompletesTheExchangeAndTheServerSignatureVerifies() throws Exception {
        ScramServer server = server();
        ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));

        byte[] answer = server.evaluateResponse(finalMessage(first, serverFirst, serverFirst.nonce()).toBytes());

        assertTrue(server.isComplete());
        assertEquals("alice@acme", server.getAuthorizationID());
        ClientFinalMessage sent = finalMessage(first, serverFirst, serverFirst.nonce());
        assertArrayEquals(formatter.serverSignature(credential.serverKey(), first, serverFirst, sent),
                new ServerFinalMessage(answer).serverSignature());
    }

    @Test
    void librdkafkasDoubledClientNonceIsAcceptedWithTheRightProof() throws Exception {
        ScramServer server = server();
        ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));

        server.evaluateResponse(finalMessage(first, serverFirst, CLIENT_NONCE + serverFirst.nonce()).toBytes());

        assertTrue(server.isComplete());
    }

    @Test
    void anyOtherNonceIsRefused() throws Exception {
        for (String wrong : new String[] {CLIENT_NONCE, "x", "other" }) {
            ScramServer server = server();
            ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
            ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
            String nonce = wrong.equals("other") ? "zz" + serverFirst.nonce() : wrong;

            SaslException refused = assertThrows(SaslException.class, () -> server.evaluateResponse(
                    finalMessage(first, serverFirst, nonce).toBytes()));

            assertTrue(refused.getMessage().contains("nonce"), refused.getMessage());
        }
    }

    @Test
    void aWrongPasswordIsRefusedAtTheProof() throws Exception {
        ScramServer server = server();
        ClientFirstMessage first = new ClientFirstMessage("alice@acme", CLIENT_NONCE, Map.of());
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
        ClientFinalMessage last = new ClientFinalMessage("n,,".getBytes(), serverFirst.nonce());
        last.proof(formatter.clientProof(formatter.saltedPassword("wrong", serverFirst.salt(),
                serverFirst.iterations()), first, serverFirst, last));

        assertThrows(SaslException.class, () -> server.evaluateResponse(last.toBytes()));
        assertThrows(SaslException.class, () -> server.evaluateResponse(last.toBytes()), "the exchange is over");
    }

    private ClientFinalMessage finalMessage(ClientFirstMessage first, ServerFirstMessage serverFirst, String nonce)
            throws Exception {
        ClientFinalMessage last = new ClientFinalMessage("n,,".getBytes(), nonce);
        last.proof(formatter.clientProof(formatter.saltedPassword(PASSWORD, serverFirst.salt(),
                serverFirst.iterations()), first, serverFirst, last));
        return last;
    }

    private ScramServer server() throws Exception {
        CallbackHandler handler = (Callback[] callbacks) -> {
            for (Callback callback : callbacks) {
                if (callback instanceof ScramCredentialCallback c) {
                    c.scramCredential(credential);
                }
            }
        };
        return new ScramServer(new ScramFunctions(MECHANISM, CryptoProvider.jdk()), handler);
    }

    private static ScramFormatter formatter() {
        try {
            return new ScramFormatter(MECHANISM);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
