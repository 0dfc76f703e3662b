package dev.bulwark.auth.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * A JDK TLS server on 127.0.0.1 and a free port that accepts one connection, completes the handshake, echoes one
 * byte and reports the session (or why the handshake failed).
 */
final class TestTlsServer implements AutoCloseable {

    static final int TIMEOUT_MS = 10_000;

    private final SSLServerSocket socket;
    private final CompletableFuture<SSLSession> session = new CompletableFuture<>();
    private final Thread thread;

    TestTlsServer(TlsMaterial material, ClientAuth clientAuth) throws IOException {
        SSLContext context = material.sslContext();
        socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress());
        socket.setSSLParameters(material.serverParameters(context, clientAuth));
        socket.setSoTimeout(TIMEOUT_MS);
        thread = new Thread(this::serveOne, "test-tls-server");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    private void serveOne() {
        try (SSLSocket s = (SSLSocket) socket.accept()) {
            s.setSoTimeout(TIMEOUT_MS);
            s.startHandshake();
            int b = s.getInputStream().read();
            s.getOutputStream().write(b);
            s.getOutputStream().flush();
            session.complete(s.getSession());
        } catch (IOException | RuntimeException e) {
            session.completeExceptionally(e);
        }
    }

    /** The server's session, or the exception that ended its handshake. */
    SSLSession session() throws Exception {
        try {
            return session.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("the server did not finish in time", e);
        }
    }

    /**
     * Connects as a client to {@code host} (what the certificate must name; the socket goes to 127.0.0.1), checks the
     * server's name, and exchanges a byte, so that a TLS 1.3 rejection of the client's certificate surfaces here.
     *
     * @param protocols the protocols the client offers, or null for ours
     */
    SSLSession connect(TlsMaterial client, String host, String... protocols) throws IOException {
        SSLContext context = client.sslContext();
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), TIMEOUT_MS);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port(), true);
        try (s) {
            SSLParameters parameters = TlsMaterial.clientParameters(context);
            if (protocols.length > 0) {
                parameters.setProtocols(protocols);
            }
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(parameters);
            s.setSoTimeout(TIMEOUT_MS);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            out.write(42);
            out.flush();
            InputStream in = s.getInputStream();
            if (in.read() != 42) {
                throw new IOException("the server did not echo");
            }
            return s.getSession();
        }
    }

    @Override
    public void close() throws Exception {
        socket.close();
        thread.join(TIMEOUT_MS);
    }
}
