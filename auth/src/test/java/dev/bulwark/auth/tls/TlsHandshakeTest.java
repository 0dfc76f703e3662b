package dev.bulwark.auth.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.bulwark.auth.UserName;

/** Real handshakes between JDK sockets on 127.0.0.1, with the material of a generated development CA. */
@Timeout(60)
class TlsHandshakeTest {

    @TempDir
    Path data;

    private DevCertificateAuthority ca;
    private TlsMaterial server;
    private TlsMaterial clientTrustingCa;

    @BeforeEach
    void devCa() throws Exception {
        Path dir = data.resolve("tls");
        DevTls dev = DevCertificateAuthority.ensure(dir, "broker.test", Clock.systemUTC());
        ca = DevCertificateAuthority.openOrCreate(dir, Clock.systemUTC());
        server = TlsMaterial.load(dev.keySource(), dev.caTrustSource());
        clientTrustingCa = TlsMaterial.load(null, new TrustSource.Pem(dev.caCertificate()));
    }

    @Test
    void aClientTrustingTheDevCaConnectsWithTls13ByNameOrAddress() throws Exception {
        for (String host : new String[] {"localhost", "127.0.0.1", "broker.test"}) {
            try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE)) {
                SSLSession client = tls.connect(clientTrustingCa, host);
                assertEquals("TLSv1.3", client.getProtocol(), host);
                assertTrue(TlsMaterial.CIPHER_SUITES.contains(client.getCipherSuite()), client.getCipherSuite());
                assertEquals("TLSv1.3", tls.session().getProtocol());
            }
        }
    }

    @Test
    void tls12NegotiatesAnAeadSuite() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE)) {
            SSLSession client = tls.connect(clientTrustingCa, "localhost", "TLSv1.2");
            assertEquals("TLSv1.2", client.getProtocol());
            assertEquals("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", client.getCipherSuite(),
                    "the server's order, and its key is EC");
        }
    }

    @Test
    void aHostTheCertificateDoesNotNameIsRefusedByTheClient() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE)) {
            assertThrows(SSLHandshakeException.class, () -> tls.connect(clientTrustingCa, "elsewhere.test"));
        }
    }

    @Test
    void aClientThatDoesNotTrustTheDevCaIsRefused() throws Exception {
        DevCertificateAuthority stranger = DevCertificateAuthority.openOrCreate(data.resolve("stranger"),
                Clock.systemUTC());
        TlsMaterial otherTrust = TlsMaterial.load(null, new TrustSource.Pem(stranger.caCertificateFile()));
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE)) {
            assertThrows(SSLHandshakeException.class, () -> tls.connect(otherTrust, "localhost"));
        }
    }

    /**
     * The JDK will not even offer TLS 1.1 (it is disabled in java.security), so a TLS 1.1 ClientHello is written by
     * hand: the server answers with a fatal protocol_version alert.
     */
    @Test
    void tls11IsRefusedByTheServer() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE);
             Socket raw = new Socket(InetAddress.getLoopbackAddress(), tls.port())) {
            raw.setSoTimeout(TestTlsServer.TIMEOUT_MS);
            OutputStream out = raw.getOutputStream();
            out.write(LegacyClientHello.of(LegacyClientHello.TLS_1_1));
            out.flush();
            DataInputStream in = new DataInputStream(raw.getInputStream());
            byte[] record = new byte[7];
            in.readFully(record);
            assertEquals(21, record[0], "an alert record");
            assertEquals(2, record[5], "fatal");
            assertEquals(70, record[6], "protocol_version");
            Exception refused = assertThrows(SSLHandshakeException.class, tls::session);
            assertTrue(refused.getMessage().contains("TLSv1.1"), refused.getMessage());
        }
    }

    @Test
    void aCbcSuiteIsRefused() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.NONE)) {
            javax.net.ssl.SSLContext context = clientTrustingCa.sslContext();
            try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), tls.port());
                 javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                         .createSocket(plain, "localhost", tls.port(), true)) {
                s.setSoTimeout(TestTlsServer.TIMEOUT_MS);
                s.setEnabledProtocols(new String[] {"TLSv1.2"});
                s.setEnabledCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"});
                assertThrows(SSLHandshakeException.class, s::startHandshake);
            }
            assertThrows(SSLHandshakeException.class, tls::session);
        }
    }

    @Test
    void mtlsRequiredWithAClientCertificateOfTheCaNamesThePrincipal() throws Exception {
        TlsMaterial alice = clientWith(ca.issueClientCertificate(new X500Principal("CN=alice,OU=acme"),
                java.time.Duration.ofDays(1)));
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.REQUIRED)) {
            tls.connect(alice, "localhost");
            SSLSession session = tls.session();
            assertEquals("CN=alice,OU=acme", ((X500Principal) session.getPeerPrincipal()).getName());
            CertificatePrincipals principals = new CertificatePrincipals("RULE:^CN=([^,]+),OU=([^,]+).*$/$1@$2/");
            assertEquals(Optional.of(new UserName("alice", "acme")), principals.userName(session));
        }
    }

    @Test
    void mtlsRequiredWithoutAClientCertificateIsRefused() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.REQUIRED)) {
            // TLS 1.3: the client may finish before the server refuses, and then sees the alert or a reset.
            assertThrows(IOException.class, () -> tls.connect(clientTrustingCa, "localhost"));
            Exception refused = assertThrows(SSLHandshakeException.class, tls::session);
            assertTrue(refused.getMessage().contains("certificate"), refused.getMessage());
        }
    }

    @Test
    void mtlsRequiredWithACertificateOfAnotherCaIsRefused() throws Exception {
        DevCertificateAuthority stranger = DevCertificateAuthority.openOrCreate(data.resolve("stranger"),
                Clock.systemUTC());
        IssuedCertificate mallory = stranger.issueClientCertificate("mallory");
        TlsMaterial client = TlsMaterial.load(mallory.writePem(data.resolve("m.pem"), data.resolve("m-key.pem")),
                new TrustSource.Pem(ca.caCertificateFile()));
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.REQUIRED)) {
            assertThrows(IOException.class, () -> tls.connect(client, "localhost"));
            assertThrows(SSLHandshakeException.class, tls::session);
        }
    }

    @Test
    void mtlsRequestedLetsAClientWithoutACertificateInAnonymously() throws Exception {
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.REQUESTED)) {
            tls.connect(clientTrustingCa, "localhost");
            SSLSession session = tls.session();
            assertThrows(SSLPeerUnverifiedException.class, session::getPeerCertificates);
            assertEquals(Optional.empty(), new CertificatePrincipals(null).userName(session));
        }
        TlsMaterial bob = clientWith(ca.issueClientCertificate("bob"));
        try (TestTlsServer tls = new TestTlsServer(server, ClientAuth.REQUESTED)) {
            tls.connect(bob, "localhost");
            assertEquals(Optional.of(new UserName("CN=bob", "default")),
                    new CertificatePrincipals(null).userName(tls.session()));
        }
    }

    private TlsMaterial clientWith(IssuedCertificate certificate) throws IOException {
        String name = certificate.certificate().getSerialNumber().toString(16);
        KeySource key = certificate.writePem(data.resolve(name + ".pem"), data.resolve(name + "-key.pem"));
        return TlsMaterial.load(key, new TrustSource.Pem(ca.caCertificateFile()));
    }
}
