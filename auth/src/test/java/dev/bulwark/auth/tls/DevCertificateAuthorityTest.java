package dev.bulwark.auth.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.security.auth.x500.X500Principal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevCertificateAuthorityTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path data;

    private Path tls() {
        return data.resolve("tls");
    }

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    @Test
    void firstStartCreatesTheCaAndAServerCertificateForTheLocalNamesAndTheExtraHost() throws Exception {
        DevTls dev = DevCertificateAuthority.ensure(tls(), "broker.example", at(T0));
        assertTrue(dev.caCreated());
        assertTrue(dev.serverIssued());
        assertEquals(tls().resolve("ca.pem"), dev.caCertificate());
        assertEquals(Set.of("ca.pem", "ca-key.pem", "server.pem", "server-key.pem"), fileNames(tls()));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls())));
        assertEquals("rw-------", permissions(tls().resolve("ca-key.pem")));
        assertEquals("rw-------", permissions(tls().resolve("server-key.pem")));
        assertEquals("rw-r--r--", permissions(tls().resolve("ca.pem")));

        X509Certificate ca = PemFiles.readCertificates(dev.caCertificate()).get(0);
        assertEquals(0, ca.getBasicConstraints(), "a CA that signs end-entity certificates only");
        assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
        assertEquals(T0.plus(DevCertificateAuthority.CA_VALIDITY), ca.getNotAfter().toInstant());
        assertEquals("EC", ca.getPublicKey().getAlgorithm());

        List<X509Certificate> chain = PemFiles.readCertificates(dev.serverCertificate());
        assertEquals(List.of(chain.get(0), ca), chain, "the server certificate, then the CA's");
        X509Certificate server = chain.get(0);
        server.verify(ca.getPublicKey());
        assertEquals(-1, server.getBasicConstraints());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), server.getExtendedKeyUsage(), "serverAuth");
        assertEquals(T0.plus(DevCertificateAuthority.SERVER_VALIDITY), server.getNotAfter().toInstant());
        assertEquals(T0.minus(Duration.ofHours(1)), server.getNotBefore().toInstant());
        assertEquals(Set.of("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", "broker.example"), sans(server));
        assertEquals("CN=broker.example", server.getSubjectX500Principal().getName());

        TlsMaterial material = TlsMaterial.load(dev.keySource(), dev.caTrustSource());
        assertEquals(chain, material.certificateChain());
    }

    @Test
    void laterStartsReuseTheFiles() throws Exception {
        DevCertificateAuthority.ensure(tls(), "broker.example", at(T0));
        byte[] caBefore = Files.readAllBytes(tls().resolve("ca.pem"));
        byte[] serverBefore = Files.readAllBytes(tls().resolve("server.pem"));
        byte[] keyBefore = Files.readAllBytes(tls().resolve("server-key.pem"));

        DevTls again = DevCertificateAuthority.ensure(tls(), "BROKER.example", at(T0.plus(Duration.ofDays(100))));
        assertFalse(again.caCreated());
        assertFalse(again.serverIssued());
        assertArrayEquals(caBefore, Files.readAllBytes(tls().resolve("ca.pem")));
        assertArrayEquals(serverBefore, Files.readAllBytes(tls().resolve("server.pem")));
        assertArrayEquals(keyBefore, Files.readAllBytes(tls().resolve("server-key.pem")));

        DevTls localOnly = DevCertificateAuthority.ensure(tls(), null, at(T0));
        assertFalse(localOnly.serverIssued(), "the kept certificate names the local hosts too");
    }

    @Test
    void aNewHostGetsANewServerCertificateFromTheSameCa() throws Exception {
        DevCertificateAuthority.ensure(tls(), "broker.example", at(T0));
        byte[] caBefore = Files.readAllBytes(tls().resolve("ca.pem"));
        DevTls moved = DevCertificateAuthority.ensure(tls(), "10.1.2.3", at(T0));
        assertFalse(moved.caCreated());
        assertTrue(moved.serverIssued());
        assertArrayEquals(caBefore, Files.readAllBytes(tls().resolve("ca.pem")));
        X509Certificate server = PemFiles.readCertificates(moved.serverCertificate()).get(0);
        assertEquals(Set.of("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", "10.1.2.3"), sans(server));

        DevTls v6 = DevCertificateAuthority.ensure(tls(), "[fe80::1]", at(T0));
        assertTrue(sans(PemFiles.readCertificates(v6.serverCertificate()).get(0)).contains("fe80:0:0:0:0:0:0:1"));
        assertFalse(DevCertificateAuthority.ensure(tls(), "fe80:0::1", at(T0)).serverIssued(), "the same address");
        assertFalse(DevCertificateAuthority.ensure(tls(), "0.0.0.0", at(T0)).serverIssued(),
                "a bind-all address is no name to verify");
    }

    @Test
    void theServerCertificateIsRenewedThirtyDaysBeforeItExpires() throws Exception {
        DevCertificateAuthority.ensure(tls(), null, at(T0));
        Instant notAfter = T0.plus(DevCertificateAuthority.SERVER_VALIDITY);
        Instant renewAt = notAfter.minus(DevCertificateAuthority.RENEW_BEFORE);
        assertFalse(DevCertificateAuthority.ensure(tls(), null, at(renewAt.minusMillis(1))).serverIssued());
        DevTls renewed = DevCertificateAuthority.ensure(tls(), null, at(renewAt));
        assertTrue(renewed.serverIssued());
        assertFalse(renewed.caCreated());
        assertEquals(renewAt.plus(DevCertificateAuthority.SERVER_VALIDITY),
                PemFiles.readCertificates(renewed.serverCertificate()).get(0).getNotAfter().toInstant());
    }

    @Test
    void aCaCloseToItsEndIsReplacedAndTheServerCertificateWithIt() throws Exception {
        DevCertificateAuthority.ensure(tls(), null, at(T0));
        byte[] caBefore = Files.readAllBytes(tls().resolve("ca.pem"));
        Instant late = T0.plus(DevCertificateAuthority.CA_VALIDITY).minus(Duration.ofDays(29));
        DevTls renewed = DevCertificateAuthority.ensure(tls(), null, at(late));
        assertTrue(renewed.caCreated());
        assertTrue(renewed.serverIssued());
        assertFalse(java.util.Arrays.equals(caBefore, Files.readAllBytes(tls().resolve("ca.pem"))));
        X509Certificate ca = PemFiles.readCertificates(renewed.caCertificate()).get(0);
        PemFiles.readCertificates(renewed.serverCertificate()).get(0).verify(ca.getPublicKey());
    }

    @Test
    void aCaCertificateWithoutItsKeyIsAnErrorNeverAQuietNewCa() throws Exception {
        DevCertificateAuthority.ensure(tls(), null, at(T0));
        Files.delete(tls().resolve("ca-key.pem"));
        TlsMaterialException e = assertThrows(TlsMaterialException.class,
                () -> DevCertificateAuthority.ensure(tls(), null, at(T0)));
        assertTrue(e.getMessage().startsWith(tls().resolve("ca.pem") + " exists without its key ca-key.pem"),
                e.getMessage());
    }

    @Test
    void aCaKeyWithoutItsCertificateIsAnInterruptedStartAndIsReplaced() throws Exception {
        DevCertificateAuthority.ensure(tls(), null, at(T0));
        Files.delete(tls().resolve("ca.pem"));
        DevTls again = DevCertificateAuthority.ensure(tls(), null, at(T0));
        assertTrue(again.caCreated());
        assertTrue(again.serverIssued(), "the old server certificate was signed by a CA that is gone");
        TlsMaterial.load(again.keySource(), again.caTrustSource());
    }

    @Test
    void unusableOrForeignServerFilesAreReplaced() throws Exception {
        DevCertificateAuthority.ensure(tls(), null, at(T0));
        Files.writeString(tls().resolve("server-key.pem"), "garbage");
        assertTrue(DevCertificateAuthority.ensure(tls(), null, at(T0)).serverIssued());

        Path other = data.resolve("other");
        DevCertificateAuthority.ensure(other, null, at(T0));
        Files.copy(other.resolve("server.pem"), tls().resolve("server.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(other.resolve("server-key.pem"), tls().resolve("server-key.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        DevTls fixed = DevCertificateAuthority.ensure(tls(), null, at(T0));
        assertTrue(fixed.serverIssued(), "a certificate of another CA is replaced");
        TlsMaterial.load(fixed.keySource(), fixed.caTrustSource());
    }

    @Test
    void clientCertificatesForMtls() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.openOrCreate(tls(), at(T0));
        IssuedCertificate alice = ca.issueClientCertificate("alice");
        assertEquals("CN=alice", alice.certificate().getSubjectX500Principal().getName());
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), alice.certificate().getExtendedKeyUsage(), "clientAuth");
        assertEquals(List.of(alice.certificate(), ca.caCertificate()), alice.chain());
        alice.certificate().verify(ca.caCertificate().getPublicKey());

        IssuedCertificate acme = ca.issueClientCertificate(new X500Principal("CN=bob,OU=acme,O=Example"),
                Duration.ofDays(7));
        assertEquals("CN=bob,OU=acme,O=Example", acme.certificate().getSubjectX500Principal().getName());
        assertEquals(T0.plus(Duration.ofDays(7)), acme.certificate().getNotAfter().toInstant());

        KeySource.Pem written = acme.writePem(data.resolve("bob.pem"), data.resolve("bob-key.pem"));
        assertEquals("rw-------", permissions(data.resolve("bob-key.pem")));
        assertTrue(Files.readString(data.resolve("bob-key.pem")).startsWith("-----BEGIN PRIVATE KEY-----"),
                "PKCS#8, the form Kafka clients read");
        assertEquals(acme.chain(), TlsMaterial.load(written, null).certificateChain());
        assertNotEquals(alice.privateKey(), acme.privateKey());
    }

    private static Set<String> sans(X509Certificate cert) throws Exception {
        Set<String> names = new HashSet<>();
        for (List<?> san : cert.getSubjectAlternativeNames()) {
            names.add((String) san.get(1));
        }
        return names;
    }

    private static Set<String> fileNames(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        }
    }

    private static String permissions(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }
}
