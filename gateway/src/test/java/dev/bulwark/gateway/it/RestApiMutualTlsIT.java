package dev.bulwark.gateway.it;

import dev.bulwark.auth.tls.DevCertificateAuthority;
import dev.bulwark.auth.tls.DevTls;
import dev.bulwark.auth.tls.IssuedCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The REST API behind HTTPS with required client certificates ({@code bulwark.rest.require-client-certificate}), set
 * up with Quarkus's own {@code quarkus.http.ssl.*} settings and certificates of a development CA.
 */
@Timeout(180)
class RestApiMutualTlsIT {

    private static final String ROOT = "Basic " + Base64.getEncoder().encodeToString(
            "root:root-secret".getBytes(StandardCharsets.UTF_8));
    private static final char[] KEY_PASSWORD = "in-memory-only".toCharArray();

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static DevCertificateAuthority ca;
    static String https;

    @BeforeAll
    static void start() throws Exception {
        ca = DevCertificateAuthority.openOrCreate(dir.resolve("ca"), Clock.systemUTC());
        DevTls tls = ca.ensureServerCertificate(null);
        int httpsPort = freePort();
        https = "https://127.0.0.1:" + httpsPort;
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_OPERATOR", "root:root-secret",
                "BULWARK_REST_REQUIRE_CLIENT_CERTIFICATE", "true",
                "QUARKUS_HTTP_SSL_PORT", Integer.toString(httpsPort),
                "QUARKUS_HTTP_SSL_CERTIFICATE_FILES", tls.serverCertificate().toString(),
                "QUARKUS_HTTP_SSL_CERTIFICATE_KEY_FILES", tls.serverKey().toString(),
                "QUARKUS_HTTP_SSL_CERTIFICATE_TRUST_STORE_FILE", tls.caCertificate().toString()));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aClientCertificateOfTheTrustedCaAndCredentialsAreBothNeeded() throws Exception {
        HttpClient withCertificate = client(ca.issueClientCertificate("ops-script"));
        assertEquals(200, send(withCertificate, https + "/api/v1/tenants", ROOT).statusCode());
        HttpResponse<String> noCredentials = send(withCertificate, https + "/api/v1/tenants", null);
        assertEquals(401, noCredentials.statusCode(), "the certificate does not replace Basic or Bearer");
    }

    @Test
    void withoutAClientCertificateTheApiRefusesAndHealthAnswers() throws Exception {
        HttpResponse<String> plain = send(HttpClient.newHttpClient(), server.http() + "/api/v1/tenants", ROOT);
        assertEquals(403, plain.statusCode());
        assertTrue(plain.body().contains("client certificate"), plain.body());
        HttpResponse<String> noCertificate = send(client(null), https + "/api/v1/tenants", ROOT);
        assertEquals(403, noCertificate.statusCode(), noCertificate.body());

        assertEquals(200, send(client(null), https + "/q/health/ready", null).statusCode());
        assertEquals(200, send(HttpClient.newHttpClient(), server.http() + "/q/health/live", null).statusCode());
    }

    @Test
    void aCertificateOfAnotherCaFailsTheHandshake() throws Exception {
        DevCertificateAuthority stranger = DevCertificateAuthority.openOrCreate(dir.resolve("stranger-ca"),
                Clock.systemUTC());
        IssuedCertificate certificate = stranger.issueClientCertificate("ops-script");
        assertEquals(403, send(client(certificate), https + "/api/v1/tenants", ROOT).statusCode(),
                "the JDK offers no certificate that none of the server's accepted CAs issued");
        HttpClient insistent = HttpClient.newBuilder().sslContext(sslContext(new KeyManager[]{
                new InsistentKeyManager(certificate)})).build();
        assertThrows(IOException.class, () -> send(insistent, https + "/api/v1/tenants", ROOT));
    }

    /** Presents its certificate whatever CAs the server asks for, as curl or OpenSSL clients do. */
    private static final class InsistentKeyManager extends X509ExtendedKeyManager {
        private final IssuedCertificate certificate;

        InsistentKeyManager(IssuedCertificate certificate) {
            this.certificate = certificate;
        }

        @Override
        public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
            return "client";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
            return "client";
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return certificate.chain().toArray(X509Certificate[]::new);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return certificate.privateKey();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[]{"client"};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    /** A client that trusts the development CA and presents {@code certificate} when not null. */
    private static HttpClient client(IssuedCertificate certificate) throws Exception {
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (certificate != null) {
            keys.setKeyEntry("client", certificate.privateKey(), KEY_PASSWORD,
                    certificate.chain().toArray(Certificate[]::new));
        }
        keyManagers.init(keys, KEY_PASSWORD);
        return HttpClient.newBuilder().sslContext(sslContext(keyManagers.getKeyManagers()))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static SSLContext sslContext(KeyManager[] keyManagers) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.caCertificate());
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers, trustManagers.getTrustManagers(), null);
        return context;
    }

    private static HttpResponse<String> send(HttpClient client, String url, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
