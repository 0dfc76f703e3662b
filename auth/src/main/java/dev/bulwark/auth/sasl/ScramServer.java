package dev.bulwark.auth.sasl;

import dev.bulwark.auth.store.ScramFunctions;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFirstMessage;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import java.io.IOException;
import java.security.MessageDigest;

/**
 * The server side of SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), on kafka-clients' message parsers and
 * {@link ScramFunctions} (of the provider Bulwark's cryptography comes from). It behaves as Kafka's broker does,
 * with one difference: librdkafka before 2.6.1 (the Debian kcat and confluent-kafka) sends the client nonce twice in
 * its final message ({@code r=<client nonce><server-first nonce>}, librdkafka#4895). Kafka 3.8.1 to 3.9 accepted
 * that, Kafka 4 refuses it. Bulwark accepts exactly that form besides the correct one: the final message still
 * carries the server's fresh nonce, and the proof is checked over the message as the client sent it, so nothing is
 * weaker.
 *
 * <p>The credential comes from the callback handler ({@link NameCallback} then {@link ScramCredentialCallback}), as
 * with Kafka's server. Not thread-safe: one exchange, one thread at a time.
 */
final class ScramServer implements SaslServer {

    private enum State { RECEIVE_CLIENT_FIRST_MESSAGE, RECEIVE_CLIENT_FINAL_MESSAGE, COMPLETE, FAILED }

    private final ScramMechanism mechanism;
    private final ScramFunctions scram;
    private final CallbackHandler callbackHandler;
    private State state = State.RECEIVE_CLIENT_FIRST_MESSAGE;
    private String username;
    private ClientFirstMessage clientFirstMessage;
    private ServerFirstMessage serverFirstMessage;
    private ScramCredential credential;

    ScramServer(ScramFunctions scram, CallbackHandler callbackHandler) {
        this.mechanism = scram.mechanism();
        this.scram = scram;
        this.callbackHandler = callbackHandler;
    }

    @Override
    public byte[] evaluateResponse(byte[] response) throws SaslException {
        try {
            return switch (state) {
                case RECEIVE_CLIENT_FIRST_MESSAGE -> clientFirst(response);
                case RECEIVE_CLIENT_FINAL_MESSAGE -> clientFinal(response);
                case COMPLETE, FAILED -> throw new SaslException("The SCRAM exchange is over (" + state + ")");
            };
        } catch (SaslException | RuntimeException e) {
            state = State.FAILED;
            credential = null;
            throw e;
        }
    }

    private byte[] clientFirst(byte[] response) throws SaslException {
        clientFirstMessage = new ClientFirstMessage(response);
        if (clientFirstMessage.extensions().tokenAuthenticated()) {
            throw new SaslException("Delegation tokens are not supported");
        }
        username = ScramFormatter.username(clientFirstMessage.saslName());
        NameCallback nameCallback = new NameCallback("username", username);
        ScramCredentialCallback credentialCallback = new ScramCredentialCallback();
        try {
            callbackHandler.handle(new Callback[] {nameCallback, credentialCallback});
        } catch (IOException | UnsupportedCallbackException e) {
            throw new SaslException("Authentication failed: credentials could not be obtained", e);
        }
        credential = credentialCallback.scramCredential();
        if (credential == null) {
            throw new SaslException("Authentication failed: invalid user credentials");
        }
        String authorizationId = clientFirstMessage.authorizationId();
        if (!authorizationId.isEmpty() && !authorizationId.equals(username)) {
            throw new SaslAuthenticationException("Authentication failed: the client asked for an authorization id "
                    + "other than its username");
        }
        if (credential.iterations() < mechanism.minIterations()) {
            throw new SaslException("Iterations " + credential.iterations() + " is below the minimum "
                    + mechanism.minIterations());
        }
        serverFirstMessage = new ServerFirstMessage(clientFirstMessage.nonce(), scram.nonce(),
                credential.salt(), credential.iterations());
        state = State.RECEIVE_CLIENT_FINAL_MESSAGE;
        return serverFirstMessage.toBytes();
    }

    private byte[] clientFinal(byte[] response) throws SaslException {
        ClientFinalMessage clientFinalMessage = new ClientFinalMessage(response);
        String nonce = clientFinalMessage.nonce();
        String expected = serverFirstMessage.nonce();
        boolean librdkafkaNonce = nonce.equals(clientFirstMessage.nonce() + expected);
        if (!nonce.equals(expected) && !librdkafkaNonce) {
            throw new SaslException("Invalid client nonce in the final client message.");
        }
        byte[] clientSignature = scram.clientSignature(credential.storedKey(), clientFirstMessage, serverFirstMessage,
                clientFinalMessage);
        byte[] computedStoredKey = scram.storedKey(clientSignature, clientFinalMessage.proof());
        if (!MessageDigest.isEqual(computedStoredKey, credential.storedKey())) {
            throw new SaslException("Invalid client credentials");
        }
        byte[] serverSignature = scram.serverSignature(credential.serverKey(), clientFirstMessage, serverFirstMessage,
                clientFinalMessage);
        credential = null;
        state = State.COMPLETE;
        return new ServerFinalMessage(null, serverSignature).toBytes();
    }

    @Override
    public String getMechanismName() {
        return mechanism.mechanismName();
    }

    @Override
    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    @Override
    public String getAuthorizationID() {
        if (!isComplete()) {
            throw new IllegalStateException("Authentication exchange has not completed");
        }
        return username;
    }

    @Override
    public byte[] unwrap(byte[] incoming, int offset, int len) {
        throw new IllegalStateException("SCRAM offers no integrity or privacy layer");
    }

    @Override
    public byte[] wrap(byte[] outgoing, int offset, int len) {
        throw new IllegalStateException("SCRAM offers no integrity or privacy layer");
    }

    @Override
    public Object getNegotiatedProperty(String propName) {
        if (!isComplete()) {
            throw new IllegalStateException("Authentication exchange has not completed");
        }
        return null;
    }

    @Override
    public void dispose() {
        credential = null;
    }
}
