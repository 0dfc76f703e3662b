package dev.bulwark.auth.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.openssl.PEMEncryptor;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS12PfxPdu;
import org.bouncycastle.pkcs.PKCS12PfxPduBuilder;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.jcajce.JcaPKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCS12MacCalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEOutputEncryptorBuilder;

/** Keys, certificates and key files in the forms operators bring, made fresh for each test. */
final class TestKeys {

    private TestKeys() {
    }

    /** A password made up for one test, never a constant in the source. */
    static String password() {
        return UUID.randomUUID().toString();
    }

    static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A server certificate for {@code pair} issued by {@code ca}, naming localhost. */
    static X509Certificate serverCertificate(DevCertificateAuthority ca, KeyPair pair) {
        return ca.issue(pair.getPublic(), new X500Name("CN=localhost"), KeyPurposeId.id_kp_serverAuth,
                List.of(new GeneralName(GeneralName.dNSName, "localhost")), Duration.ofDays(30));
    }

    /** {@code -----BEGIN PRIVATE KEY-----}. */
    static String pkcs8(KeyPair pair) throws IOException {
        return pem(new JcaPKCS8Generator(pair.getPrivate(), null));
    }

    /** {@code -----BEGIN ENCRYPTED PRIVATE KEY-----} (PBES2, AES-256-CBC). */
    static String encryptedPkcs8(KeyPair pair, String password) throws Exception {
        OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(PemFiles.bouncyCastle()).setPassword(password.toCharArray()).build();
        return pem(new JcaPKCS8Generator(pair.getPrivate(), encryptor));
    }

    /** {@code -----BEGIN RSA PRIVATE KEY-----} or {@code -----BEGIN EC PRIVATE KEY-----} (PKCS#1 / SEC1). */
    static String traditional(KeyPair pair) throws Exception {
        return pem(new JcaMiscPEMGenerator(withCurveInside(pair)));
    }

    /** OpenSSL's legacy encrypted PKCS#1/SEC1 form ({@code Proc-Type: 4,ENCRYPTED}). */
    static String traditionalEncrypted(KeyPair pair, String password) throws Exception {
        PEMEncryptor encryptor = new JcePEMEncryptorBuilder("AES-256-CBC").setProvider(PemFiles.bouncyCastle())
                .build(password.toCharArray());
        return pem(new JcaMiscPEMGenerator(withCurveInside(pair), encryptor));
    }

    /**
     * The JDK leaves an EC key's curve out of the inner SEC1 structure (it is in the PKCS#8 algorithm identifier), so
     * an {@code EC PRIVATE KEY} written from it would name no curve; Bouncy Castle's encoding keeps it, as OpenSSL's.
     */
    private static KeyPair withCurveInside(KeyPair pair) throws GeneralSecurityException {
        if (!pair.getPrivate().getAlgorithm().equals("EC")) {
            return pair;
        }
        PrivateKey bc = KeyFactory.getInstance("EC", PemFiles.bouncyCastle())
                .generatePrivate(new PKCS8EncodedKeySpec(pair.getPrivate().getEncoded()));
        return new KeyPair(pair.getPublic(), bc);
    }

    static String certificates(X509Certificate... certificates) {
        return PemFiles.toPem(List.of(certificates));
    }

    private static String pem(Object generator) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            if (generator instanceof JcaPKCS8Generator g) {
                writer.writeObject(g);
            } else {
                writer.writeObject((JcaMiscPEMGenerator) generator);
            }
        }
        return out.toString();
    }

    static Path write(Path file, String content) throws IOException {
        return Files.writeString(file, content, StandardCharsets.US_ASCII);
    }

    /** A PKCS12 store with one key entry, as keytool or {@code openssl pkcs12 -export} writes it. */
    static Path pkcs12(Path file, String password, String alias, KeyPair pair, X509Certificate... chain)
            throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(alias, pair.getPrivate(), password.toCharArray(), chain);
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password.toCharArray());
        }
        return file;
    }

    /** A PKCS12 trust store of trusted-certificate entries, as {@code keytool -importcert} writes it. */
    static Path pkcs12Trust(Path file, String password, Certificate... certificates) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < certificates.length; i++) {
            store.setCertificateEntry("ca" + i, certificates[i]);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password.toCharArray());
        }
        return file;
    }

    /**
     * A PKCS12 trust store of bare certificate bags, without Java's trust attribute, as
     * {@code openssl pkcs12 -export -nokeys} writes it.
     */
    static Path opensslPkcs12Trust(Path file, String password, X509Certificate... certificates) throws Exception {
        char[] pw = password.toCharArray();
        Provider bouncyCastle = PemFiles.bouncyCastle();
        List<PKCS12SafeBag> bags = new java.util.ArrayList<>();
        for (X509Certificate c : certificates) {
            bags.add(new JcaPKCS12SafeBagBuilder(c).build());
        }
        PKCS12PfxPdu pfx = new PKCS12PfxPduBuilder()
                .addEncryptedData(new JcePKCSPBEOutputEncryptorBuilder(
                        PKCSObjectIdentifiers.pbeWithSHAAnd3_KeyTripleDES_CBC).setProvider(bouncyCastle).build(pw),
                        bags.toArray(PKCS12SafeBag[]::new))
                .build(new JcePKCS12MacCalculatorBuilder(NISTObjectIdentifiers.id_sha256).setProvider(bouncyCastle),
                        pw);
        return Files.write(file, pfx.getEncoded());
    }
}
