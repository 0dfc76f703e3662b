package dev.bulwark.auth.tls;

import dev.bulwark.storage.crypto.CryptoProvider;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.EncryptedPrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.EncryptionScheme;
import org.bouncycastle.asn1.pkcs.KeyDerivationFunc;
import org.bouncycastle.asn1.pkcs.PBES2Parameters;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS files in FIPS mode: encrypted keys are decrypted by Bouncy Castle's FIPS module in approved-only mode, so
 * PKCS#8's PBES2 (PBKDF2 and AES) opens while OpenSSL's legacy encryption (its key derived with MD5), a PBKDF2 salt
 * under 128 bits and PKCS12 trust stores (PKCS#12 key derivation) are refused with the reason. The files FIPS refuses
 * are made with the JDK's providers, since the module will not make them. Runs only in the FIPS build, in a JVM of
 * its own.
 */
class PemFilesFipsTest {

    @TempDir
    Path dir;

    private final CryptoProvider fips = CryptoProvider.fips();
    private final SecureRandom random = new SecureRandom();

    @Test
    void theFipsModuleDecryptsKeys() {
        assertTrue(fips.isFips());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, PemFiles.bouncyCastle().getName());
    }

    @Test
    void aPbes2EncryptedPkcs8KeyOpens() throws Exception {
        KeyPair pair = TestKeys.ec();
        String password = TestKeys.password();
        Path file = TestKeys.write(dir.resolve("key.pem"), TestKeys.encryptedPkcs8(pair, password));

        ECPrivateKey read = (ECPrivateKey) PemFiles.readPrivateKey(file, password);

        assertEquals(((ECPrivateKey) pair.getPrivate()).getS(), read.getS());
    }

    @Test
    void openSslsLegacyMd5DerivedEncryptionIsRefused() throws Exception {
        String password = TestKeys.password();
        Path file = TestKeys.write(dir.resolve("legacy.pem"), legacyEncrypted(TestKeys.rsa(), password));

        TlsMaterialException refused = assertThrows(TlsMaterialException.class,
                () -> PemFiles.readPrivateKey(file, password));

        assertTrue(refused.getMessage().contains("FIPS mode refuses OpenSSL's legacy"), refused.getMessage());
    }

    @Test
    void aPbkdf2SaltShorterThan128BitsIsRefusedWithTheModulesReason() throws Exception {
        String password = TestKeys.password();
        Path file = TestKeys.write(dir.resolve("key.pem"), pbes2WithAnEightByteSalt(TestKeys.ec(), password));

        TlsMaterialException refused = assertThrows(TlsMaterialException.class,
                () -> PemFiles.readPrivateKey(file, password));

        assertTrue(refused.getMessage().contains("salt must be at least 128 bits"), refused.getMessage());
    }

    @Test
    void pkcs12TrustStoresAreRefused() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.openOrCreate(dir.resolve("ca"), Clock.systemUTC());
        String password = TestKeys.password();
        Path file = TestKeys.pkcs12Trust(dir.resolve("trust.p12"), password,
                TestKeys.serverCertificate(ca, TestKeys.ec()));

        TlsMaterialException refused = assertThrows(TlsMaterialException.class, () -> Pkcs12Trust.read(file, password));

        assertTrue(refused.getMessage().contains("give the CA certificates as PEM"), refused.getMessage());
    }

    /**
     * {@code openssl rsa -aes256} of old: AES-256-CBC under a key derived from the password and the IV's first 8 bytes
     * with MD5 (EVP_BytesToKey).
     */
    private String legacyEncrypted(KeyPair pair, String password) throws Exception {
        byte[] pkcs1 = PrivateKeyInfo.getInstance(pair.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive()
                .getEncoded();
        byte[] iv = new byte[16];
        random.nextBytes(iv);
        byte[] pw = password.getBytes(StandardCharsets.UTF_8);
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        md5.update(pw);
        md5.update(iv, 0, 8);
        byte[] first = md5.digest();
        md5.update(first);
        md5.update(pw);
        md5.update(iv, 0, 8);
        byte[] key = Arrays.copyOf(first, 32);
        System.arraycopy(md5.digest(), 0, key, 16, 16);
        Cipher aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
        return "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,"
                + HexFormat.of().withUpperCase().formatHex(iv) + "\n\n" + base64(aes.doFinal(pkcs1))
                + "\n-----END RSA PRIVATE KEY-----\n";
    }

    /**
     * {@code openssl pkcs8 -topk8 -v2 aes-256-cbc} as OpenSSL 1.1 writes it: PBES2 (PBKDF2 with HMAC-SHA256, 2048
     * iterations, AES-256-CBC) with an 8-byte salt.
     */
    private String pbes2WithAnEightByteSalt(KeyPair pair, String password) throws Exception {
        byte[] salt = new byte[8];
        byte[] iv = new byte[16];
        random.nextBytes(salt);
        random.nextBytes(iv);
        int iterations = 2048;
        byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        Cipher aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
        PBES2Parameters pbes2 = new PBES2Parameters(
                new KeyDerivationFunc(PKCSObjectIdentifiers.id_PBKDF2, new PBKDF2Params(salt, iterations, 32,
                        new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))),
                new EncryptionScheme(NISTObjectIdentifiers.id_aes256_CBC, new DEROctetString(iv)));
        byte[] encrypted = new EncryptedPrivateKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_PBES2, pbes2),
                aes.doFinal(pair.getPrivate().getEncoded())).getEncoded();
        return "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + base64(encrypted)
                + "\n-----END ENCRYPTED PRIVATE KEY-----\n";
    }

    private static String base64(byte[] bytes) {
        return Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(bytes);
    }
}
