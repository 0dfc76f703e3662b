package dev.bulwark.auth.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.security.auth.x500.X500Principal;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class CertificateReloaderTest {

    @TempDir
    Path dir;

    private DevCertificateAuthority ca;
    private Path cert;
    private Path key;
    private Path trust;
    private final List<TlsMaterial> reloaded = new ArrayList<>();

    @BeforeEach
    void files() throws Exception {
        ca = DevCertificateAuthority.openOrCreate(dir.resolve("ca"), Clock.systemUTC());
        cert = dir.resolve("server.pem");
        key = dir.resolve("server-key.pem");
        trust = dir.resolve("clients-ca.pem");
        issue("CN=first").writePem(cert, key);
        TestKeys.write(trust, TestKeys.certificates(ca.caCertificate()));
    }

    private IssuedCertificate issue(String subject) {
        return ca.issueClientCertificate(new X500Principal(subject), Duration.ofDays(30));
    }

    private CertificateReloader open() {
        return CertificateReloader.open(new TlsSources(new KeySource.Pem(cert, key), new TrustSource.Pem(trust)),
                reloaded::add);
    }

    private static String subject(TlsMaterial material) {
        return material.certificateChain().get(0).getSubjectX500Principal().getName();
    }

    @Test
    void nothingChangedNothingReloaded() {
        CertificateReloader reloader = open();
        assertFalse(reloader.checkNow());
        assertFalse(reloader.checkNow());
        assertEquals("CN=first", subject(reloader.current()));
        assertTrue(reloaded.isEmpty());
    }

    @Test
    void aRenewedCertificateIsLoadedAndHandedToTheListener() throws Exception {
        CertificateReloader reloader = open();
        issue("CN=second").writePem(cert, key);
        assertTrue(reloader.checkNow());
        assertEquals("CN=second", subject(reloader.current()));
        assertEquals(1, reloaded.size());
        assertSame(reloader.current(), reloaded.get(0));
        assertFalse(reloader.checkNow(), "once");
        assertTrue(reloader.lastFailure().isEmpty());
    }

    @Test
    void anInPlaceRewriteIsSeenByItsModificationTime() throws Exception {
        CertificateReloader reloader = open();
        Path otherCert = dir.resolve("other.pem");
        Path otherKey = dir.resolve("other-key.pem");
        issue("CN=third").writePem(otherCert, otherKey);
        FileTime before = Files.getLastModifiedTime(cert);
        Files.write(cert, Files.readAllBytes(otherCert)); // same inode
        Files.write(key, Files.readAllBytes(otherKey));
        Files.setLastModifiedTime(cert, FileTime.fromMillis(before.toMillis() + 1000));
        assertTrue(reloader.checkNow());
        assertEquals("CN=third", subject(reloader.current()));
    }

    @Test
    void aBrokenFileKeepsTheOldMaterialUntilItIsFixed() throws Exception {
        CertificateReloader reloader = open();
        TlsMaterial first = reloader.current();
        TestKeys.write(cert, "-----BEGIN CERTIFICATE-----\ntruncat");
        assertFalse(reloader.checkNow());
        assertSame(first, reloader.current());
        assertTrue(reloader.lastFailure().orElseThrow().startsWith(cert.toString()), reloader.lastFailure().get());
        assertFalse(reloader.checkNow(), "not tried again until the files change again");
        assertTrue(reloaded.isEmpty());

        issue("CN=fixed").writePem(cert, key);
        assertTrue(reloader.checkNow());
        assertEquals("CN=fixed", subject(reloader.current()));
        assertTrue(reloader.lastFailure().isEmpty());
    }

    @Test
    void aCertificateRenewedBeforeItsKeyLoadsOnceBothAreWritten() throws Exception {
        CertificateReloader reloader = open();
        IssuedCertificate next = issue("CN=next");
        Path stagedCert = dir.resolve("staged.pem");
        Path stagedKey = dir.resolve("staged-key.pem");
        next.writePem(stagedCert, stagedKey);

        Files.copy(stagedCert, cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertFalse(reloader.checkNow(), "the new certificate with the old key");
        assertTrue(reloader.lastFailure().orElseThrow().contains("does not belong"), reloader.lastFailure().get());
        assertEquals("CN=first", subject(reloader.current()));

        Files.copy(stagedKey, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(reloader.checkNow());
        assertEquals("CN=next", subject(reloader.current()));
    }

    @Test
    void aDeletedFileKeepsTheOldMaterial() throws Exception {
        CertificateReloader reloader = open();
        Files.delete(key);
        assertFalse(reloader.checkNow());
        assertEquals(key + " does not exist", reloader.lastFailure().orElseThrow());
        assertEquals("CN=first", subject(reloader.current()));
    }

    @Test
    void aChangedTrustFileIsReloadedToo() throws Exception {
        CertificateReloader reloader = open();
        DevCertificateAuthority second = DevCertificateAuthority.openOrCreate(dir.resolve("ca2"), Clock.systemUTC());
        PemFiles.writeAtomically(trust, TestKeys.certificates(ca.caCertificate(), second.caCertificate()), false);
        assertTrue(reloader.checkNow());
        assertEquals(List.of(ca.caCertificate(), second.caCertificate()), reloader.current().trustedCertificates());
    }

    @Test
    void aFailingListenerDoesNotStopTheReload() throws Exception {
        CertificateReloader reloader = CertificateReloader.open(new TlsSources(new KeySource.Pem(cert, key), null),
                m -> {
                    throw new IllegalStateException("listener bug");
                });
        issue("CN=second").writePem(cert, key);
        assertTrue(reloader.checkNow());
        assertEquals("CN=second", subject(reloader.current()));
    }

    @Test
    void newConnectionsSeeTheReloadedCertificate() throws Exception {
        DevTls dev = DevCertificateAuthority.ensure(dir.resolve("dev"), null, Clock.systemUTC());
        CertificateReloader reloader = CertificateReloader.open(new TlsSources(dev.keySource(), null), m -> { });
        TlsMaterial client = TlsMaterial.load(null, dev.caTrustSource());
        X509Certificate before;
        try (TestTlsServer tls = new TestTlsServer(reloader.current(), ClientAuth.NONE)) {
            before = (X509Certificate) tls.connect(client, "localhost").getPeerCertificates()[0];
        }
        Files.delete(dev.serverCertificate()); // as a renewal by hand would: the next ensure issues a new one
        DevCertificateAuthority.ensure(dir.resolve("dev"), null, Clock.systemUTC());
        assertTrue(reloader.checkNow());
        try (TestTlsServer tls = new TestTlsServer(reloader.current(), ClientAuth.NONE)) {
            X509Certificate after = (X509Certificate) tls.connect(client, "localhost").getPeerCertificates()[0];
            assertFalse(before.getSerialNumber().equals(after.getSerialNumber()));
        }
    }

    @Test
    void scheduledChecksRunUntilClosed() throws Exception {
        CountDownLatch seen = new CountDownLatch(1);
        CertificateReloader reloader = CertificateReloader.open(new TlsSources(new KeySource.Pem(cert, key), null),
                m -> seen.countDown());
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            reloader.schedule(scheduler, Duration.ofMillis(10));
            issue("CN=scheduled").writePem(cert, key);
            assertTrue(seen.await(10, TimeUnit.SECONDS), "a scheduled check saw the change");
            reloader.close();
            assertEquals("CN=scheduled", subject(reloader.current()));
        } finally {
            scheduler.shutdownNow();
        }
    }
}
