package dev.bulwark.auth.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Clock;
import java.util.List;
import java.util.Set;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509KeyManager;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {

    @TempDir
    Path dir;

    private DevCertificateAuthority ca;

    @BeforeEach
    void createCa() throws Exception {
        ca = DevCertificateAuthority.openOrCreate(dir.resolve("ca"), Clock.systemUTC());
    }

    @Test
    void rsaKeyInPkcs8() throws Exception {
        assertServesKeyOf(TestKeys.rsa(), TestKeys::pkcs8);
    }

    @Test
    void rsaKeyInPkcs1() throws Exception {
        KeyPair pair = TestKeys.rsa();
        assertTrue(TestKeys.traditional(pair).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
        assertServesKeyOf(pair, TestKeys::traditional);
    }

    @Test
    void ecKeyInSec1AndPkcs8() throws Exception {
        KeyPair pair = TestKeys.ec();
        assertTrue(TestKeys.traditional(pair).startsWith("-----BEGIN EC PRIVATE KEY-----"));
        assertServesKeyOf(pair, TestKeys::traditional);
        assertServesKeyOf(pair, TestKeys::pkcs8);
    }

    @Test
    void encryptedKeysWithTheirPassword() throws Exception {
        String password = TestKeys.password();
        KeyPair rsa = TestKeys.rsa();
        KeyPair ec = TestKeys.ec();
        String pkcs8 = TestKeys.encryptedPkcs8(rsa, password);
        assertTrue(pkcs8.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assertSameKey(rsa.getPrivate(), loadKey(rsa, pkcs8, password));
        String legacy = TestKeys.traditionalEncrypted(ec, password);
        assertTrue(legacy.contains("Proc-Type: 4,ENCRYPTED"));
        assertSameKey(ec.getPrivate(), loadKey(ec, legacy, password));
    }

    @Test
    void encryptedKeyWithAWrongOrNoPasswordSaysSo() throws Exception {
        KeyPair pair = TestKeys.ec();
        String pem = TestKeys.encryptedPkcs8(pair, TestKeys.password());
        TlsMaterialException wrong = assertThrows(TlsMaterialException.class,
                () -> loadKey(pair, pem, TestKeys.password()));
        assertTrue(wrong.getMessage().contains("key.pem") && wrong.getMessage().contains("wrong password"),
                wrong.getMessage());
        TlsMaterialException none = assertThrows(TlsMaterialException.class, () -> loadKey(pair, pem, null));
        assertTrue(none.getMessage().contains("encrypted and no password"), none.getMessage());

        String legacy = TestKeys.traditionalEncrypted(pair, TestKeys.password());
        TlsMaterialException legacyWrong = assertThrows(TlsMaterialException.class,
                () -> loadKey(pair, legacy, TestKeys.password()));
        assertTrue(legacyWrong.getMessage().contains("wrong password"), legacyWrong.getMessage());
    }

    @Test
    void chainAndKeyMayShareOneFile() throws Exception {
        KeyPair pair = TestKeys.ec();
        Path both = TestKeys.write(dir.resolve("both.pem"),
                TestKeys.certificates(TestKeys.serverCertificate(ca, pair), ca.caCertificate()) + TestKeys.pkcs8(pair));
        TlsMaterial material = TlsMaterial.load(new KeySource.Pem(both, both), null);
        assertEquals(2, material.certificateChain().size());
        assertEquals(List.of(both), new KeySource.Pem(both, both).files());
    }

    @Test
    void keyOfAnotherCertificateIsRefused() throws Exception {
        Path cert = TestKeys.write(dir.resolve("cert.pem"),
                TestKeys.certificates(TestKeys.serverCertificate(ca, TestKeys.ec())));
        Path key = TestKeys.write(dir.resolve("key.pem"), TestKeys.pkcs8(TestKeys.ec()));
        TlsMaterialException e = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pem(cert, key), null));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());

        Path rsaKey = TestKeys.write(dir.resolve("rsa-key.pem"), TestKeys.pkcs8(TestKeys.rsa()));
        TlsMaterialException rsa = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pem(cert, rsaKey), null));
        assertTrue(rsa.getMessage().contains("does not belong"), rsa.getMessage());
    }

    @Test
    void missingEmptyOrWrongFilesAreNamed() throws Exception {
        Path key = TestKeys.write(dir.resolve("key.pem"), TestKeys.pkcs8(TestKeys.ec()));
        Path missing = dir.resolve("missing.pem");
        assertMessage(missing + " does not exist", new KeySource.Pem(missing, key));

        Path text = TestKeys.write(dir.resolve("text.pem"), "hello\n");
        assertMessage(text + " holds no PEM object", new KeySource.Pem(text, key));

        Path keyAsCert = key;
        assertMessage(keyAsCert + " holds no PEM certificate", new KeySource.Pem(keyAsCert, key));

        Path cert = TestKeys.write(dir.resolve("cert.pem"), TestKeys.certificates(ca.caCertificate()));
        assertMessage(cert + " holds no PEM private key", new KeySource.Pem(cert, cert));

        Path broken = TestKeys.write(dir.resolve("broken.pem"),
                "-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n");
        assertMessage(broken.toString(), new KeySource.Pem(broken, key));

        Path p12 = TestKeys.pkcs12(dir.resolve("store.p12"), TestKeys.password(), "a", TestKeys.ec(),
                ca.caCertificate());
        assertMessage(p12 + " holds no PEM object", new KeySource.Pem(p12, p12));
    }

    @Test
    void pkcs12KeyStore() throws Exception {
        KeyPair pair = TestKeys.rsa();
        X509Certificate cert = TestKeys.serverCertificate(ca, pair);
        String password = TestKeys.password();
        Path store = TestKeys.pkcs12(dir.resolve("server.p12"), password, "server", pair, cert, ca.caCertificate());

        TlsMaterial material = TlsMaterial.load(new KeySource.Pkcs12(store, password), null);
        assertEquals(List.of(cert, ca.caCertificate()), material.certificateChain());
        assertSameKey(pair.getPrivate(), privateKey(material));

        TlsMaterialException wrong = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pkcs12(store, TestKeys.password()), null));
        assertTrue(wrong.getMessage().startsWith(store + " cannot be opened: wrong password"), wrong.getMessage());

        TlsMaterialException alias = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pkcs12(store, password, null, "other"), null));
        assertEquals(store + " has no key entry named 'other'", alias.getMessage());

        Path pem = TestKeys.write(dir.resolve("not.p12"), TestKeys.certificates(cert));
        TlsMaterialException notP12 = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pkcs12(pem, password), null));
        assertTrue(notP12.getMessage().startsWith(pem.toString()), notP12.getMessage());
    }

    @Test
    void pkcs12WithTwoKeysNeedsAnAlias() throws Exception {
        String password = TestKeys.password();
        KeyPair first = TestKeys.ec();
        KeyPair second = TestKeys.ec();
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("first", first.getPrivate(), password.toCharArray(),
                new X509Certificate[] {TestKeys.serverCertificate(ca, first)});
        ks.setKeyEntry("second", second.getPrivate(), password.toCharArray(),
                new X509Certificate[] {TestKeys.serverCertificate(ca, second)});
        Path store = dir.resolve("two.p12");
        try (var out = Files.newOutputStream(store)) {
            ks.store(out, password.toCharArray());
        }
        TlsMaterialException e = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(new KeySource.Pkcs12(store, password), null));
        assertTrue(e.getMessage().contains("holds 2 key entries"), e.getMessage());
        TlsMaterial chosen = TlsMaterial.load(new KeySource.Pkcs12(store, password, null, "second"), null);
        assertSameKey(second.getPrivate(), privateKey(chosen));
    }

    @Test
    void trustFromPemAndPkcs12() throws Exception {
        DevCertificateAuthority other = DevCertificateAuthority.openOrCreate(dir.resolve("other"), Clock.systemUTC());
        Path pem = TestKeys.write(dir.resolve("cas.pem"),
                TestKeys.certificates(ca.caCertificate(), other.caCertificate()));
        TlsMaterial fromPem = TlsMaterial.load(null, new TrustSource.Pem(pem));
        assertEquals(List.of(ca.caCertificate(), other.caCertificate()), fromPem.trustedCertificates());
        assertEquals(2, fromPem.trustManager().orElseThrow().getAcceptedIssuers().length);
        assertTrue(fromPem.keyManager().isEmpty());

        String password = TestKeys.password();
        Path p12 = TestKeys.pkcs12Trust(dir.resolve("trust.p12"), password, ca.caCertificate(),
                other.caCertificate());
        TlsMaterial fromP12 = TlsMaterial.load(null, new TrustSource.Pkcs12(p12, password));
        assertEquals(Set.of(ca.caCertificate(), other.caCertificate()), Set.copyOf(fromP12.trustedCertificates()));

        Path openssl = TestKeys.opensslPkcs12Trust(dir.resolve("openssl-trust.p12"), password, ca.caCertificate());
        assertEquals(List.of(ca.caCertificate()),
                TlsMaterial.load(null, new TrustSource.Pkcs12(openssl, password)).trustedCertificates());
        TlsMaterialException wrongPassword = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(null, new TrustSource.Pkcs12(openssl, TestKeys.password())));
        assertEquals(openssl + " cannot be opened: wrong password", wrongPassword.getMessage());

        Path keyOnly = TestKeys.pkcs12(dir.resolve("key-only.p12"), password, "k", TestKeys.ec(),
                ca.caCertificate());
        TlsMaterialException e = assertThrows(TlsMaterialException.class,
                () -> TlsMaterial.load(null, new TrustSource.Pkcs12(keyOnly, password)));
        assertTrue(e.getMessage().startsWith(keyOnly + " holds no trusted certificate"), e.getMessage());
    }

    @Test
    void protocolsAndSuitesAreModernAndSupportedByTheJdk() throws Exception {
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), TlsMaterial.PROTOCOLS);
        for (String suite : TlsMaterial.CIPHER_SUITES) {
            assertTrue(suite.contains("_GCM_") || suite.contains("CHACHA20_POLY1305"), suite);
            assertTrue(suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_")
                    || suite.startsWith("TLS_ECDHE_"), suite);
        }
        SSLContext jdk = SSLContext.getDefault();
        assertEquals(TlsMaterial.CIPHER_SUITES, TlsMaterial.supportedCipherSuites(jdk),
                "the JDK supports every suite we ask for");

        Path cas = TestKeys.write(dir.resolve("ca.pem"), TestKeys.certificates(ca.caCertificate()));
        TlsMaterial trustOnly = TlsMaterial.load(null, new TrustSource.Pem(cas));
        SSLParameters required = trustOnly.serverParameters(trustOnly.sslContext(), ClientAuth.REQUIRED);
        assertTrue(required.getNeedClientAuth());
        assertEquals(TlsMaterial.PROTOCOLS, List.of(required.getProtocols()));
        assertEquals(TlsMaterial.CIPHER_SUITES, List.of(required.getCipherSuites()));
        assertTrue(trustOnly.serverParameters(trustOnly.sslContext(), ClientAuth.REQUESTED).getWantClientAuth());

        Path key = TestKeys.write(dir.resolve("k.pem"), TestKeys.pkcs8(TestKeys.ec()));
        KeyPair pair = TestKeys.ec();
        TestKeys.write(key, TestKeys.pkcs8(pair));
        Path cert = TestKeys.write(dir.resolve("c.pem"), TestKeys.certificates(TestKeys.serverCertificate(ca, pair)));
        TlsMaterial keyOnly = TlsMaterial.load(new KeySource.Pem(cert, key), null);
        assertFalse(keyOnly.serverParameters(keyOnly.sslContext(), ClientAuth.NONE).getNeedClientAuth());
        IllegalStateException mtlsWithoutTrust = assertThrows(IllegalStateException.class,
                () -> keyOnly.serverParameters(keyOnly.sslContext(), ClientAuth.REQUIRED));
        assertTrue(mtlsWithoutTrust.getMessage().contains("needs trusted CA certificates"));
    }

    @Test
    void clientAuthReadsKafkasValues() {
        assertEquals(ClientAuth.REQUIRED, ClientAuth.parse("required"));
        assertEquals(ClientAuth.REQUESTED, ClientAuth.parse(" Requested "));
        assertEquals(ClientAuth.NONE, ClientAuth.parse("none"));
        assertEquals(ClientAuth.NONE, ClientAuth.parse(null));
        assertThrows(IllegalArgumentException.class, () -> ClientAuth.parse("optional"));
    }

    @Test
    void passwordsStayOutOfToString() {
        String password = TestKeys.password();
        assertFalse(new KeySource.Pem(dir, dir, password).toString().contains(password));
        assertFalse(new KeySource.Pkcs12(dir, password, password, "a").toString().contains(password));
        assertFalse(new TrustSource.Pkcs12(dir, password).toString().contains(password));
    }

    private interface KeyFormat {
        String pem(KeyPair pair) throws Exception;
    }

    private void assertServesKeyOf(KeyPair pair, KeyFormat format) throws Exception {
        assertSameKey(pair.getPrivate(), loadKey(pair, format.pem(pair), null));
    }

    /** Loads {@code keyPem} with a certificate for {@code pair}; the private key the key manager serves. */
    private PrivateKey loadKey(KeyPair pair, String keyPem, String password) throws Exception {
        Path cert = TestKeys.write(dir.resolve("cert.pem"),
                TestKeys.certificates(TestKeys.serverCertificate(ca, pair), ca.caCertificate()));
        Path key = TestKeys.write(dir.resolve("key.pem"), keyPem);
        TlsMaterial material = TlsMaterial.load(new KeySource.Pem(cert, key, password), null);
        assertEquals(2, material.certificateChain().size());
        return privateKey(material);
    }

    private static PrivateKey privateKey(TlsMaterial material) {
        X509KeyManager km = material.keyManager().orElseThrow();
        String alias = km.chooseServerAlias(material.certificateChain().get(0).getPublicKey().getAlgorithm(), null,
                null);
        return km.getPrivateKey(alias);
    }

    /** The same key value, whatever the encoding details (SEC1 may carry the curve inside, PKCS#8 outside). */
    private static void assertSameKey(PrivateKey expected, PrivateKey actual) {
        assertEquals(expected.getAlgorithm(), actual.getAlgorithm());
        if (expected instanceof ECPrivateKey ec) {
            assertEquals(ec.getS(), ((ECPrivateKey) actual).getS());
        } else {
            RSAPrivateKey rsa = (RSAPrivateKey) expected;
            assertEquals(rsa.getModulus(), ((RSAPrivateKey) actual).getModulus());
            assertEquals(rsa.getPrivateExponent(), ((RSAPrivateKey) actual).getPrivateExponent());
        }
    }

    private static void assertMessage(String expectedStart, KeySource source) {
        TlsMaterialException e = assertThrows(TlsMaterialException.class, () -> TlsMaterial.load(source, null));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
