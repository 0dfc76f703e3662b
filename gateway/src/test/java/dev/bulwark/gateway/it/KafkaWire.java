package dev.bulwark.gateway.it;

import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeResponse;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A bare Kafka protocol connection for tests that must send what no client library would: garbage, oversized or
 * truncated frames, unknown APIs. Well-formed requests are written with kafka-clients' generated classes.
 */
public final class KafkaWire implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    private KafkaWire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static KafkaWire connect(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        return new KafkaWire(socket);
    }

    /**
     * Authenticates with SASL/PLAIN (SaslHandshake v1, SaslAuthenticate v2), as a SASL listener requires first.
     *
     * @throws IOException when the server refuses
     */
    public KafkaWire authenticatePlain(String username, String password) throws IOException {
        RequestHeader handshake = send(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("PLAIN"));
        SaslHandshakeResponse handshaken = (SaslHandshakeResponse) receive(handshake);
        if (handshaken.data().errorCode() != 0) {
            throw new IOException("SaslHandshake failed with error " + handshaken.data().errorCode());
        }
        RequestHeader authenticate = send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData()
                .setAuthBytes(("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8)));
        SaslAuthenticateResponse authenticated = (SaslAuthenticateResponse) receive(authenticate);
        if (authenticated.data().errorCode() != 0) {
            throw new IOException("SaslAuthenticate failed: " + authenticated.data().errorMessage());
        }
        return this;
    }

    /** Sends a request; returns its header (to parse the response with). */
    public RequestHeader send(ApiKeys key, short version, ApiMessage body) throws IOException {
        RequestHeader header = new RequestHeader(key, version, "kafka-wire-test", ++correlationId);
        ByteBufferAccessor headerBytes = MessageUtil.toByteBufferAccessor(header.data(), header.headerVersion());
        ByteBufferAccessor bodyBytes = MessageUtil.toByteBufferAccessor(body, version);
        ByteBuffer h = headerBytes.buffer();
        ByteBuffer b = bodyBytes.buffer();
        ByteBuffer frame = ByteBuffer.allocate(4 + h.remaining() + b.remaining());
        frame.putInt(h.remaining() + b.remaining()).put(h).put(b);
        sendRaw(frame.array());
        return header;
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public AbstractResponse receive(RequestHeader header) throws IOException {
        return AbstractResponse.parseResponse(ByteBuffer.wrap(receiveFrame()), header);
    }

    public byte[] receiveFrame() throws IOException {
        int size = in.readInt();
        byte[] frame = new byte[size];
        in.readFully(frame);
        return frame;
    }

    /** Whether the server closes the connection (EOF or reset) within {@code timeout}, reading nothing else. */
    public boolean closedByServer(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            return in.read() < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Whether the server closes the connection within {@code timeout}, whatever it sends first (a TLS alert). */
    public boolean closedByServerAfterAnyAnswer(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        byte[] buffer = new byte[4096];
        long received = 0;
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                received += n;
                if (received > 1 << 20) {
                    return false;
                }
            }
            return true;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Whether response bytes have arrived and wait to be read (does not block). */
    public boolean hasPendingBytes() throws IOException {
        return in.available() > 0;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
