package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.crypto.AEADBadTagException;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The at-rest key hierarchy on Bouncy Castle's FIPS module in approved-only mode, and its interchange with the JDK's
 * providers (a data directory written before FIPS mode was switched on must still open). Runs only in the FIPS build
 * ({@code mvn -Dfips}), in a JVM of its own: approved-only mode holds for the whole JVM once the module is loaded.
 */
class CryptoProviderFipsTest {

    private static final byte[] AD = "tenant/topic/0/42".getBytes(StandardCharsets.UTF_8);

    private final CryptoProvider fips = CryptoProvider.fips();
    private final AesGcm gcm = fips.aesGcm();
    private final AesGcm jdkGcm = CryptoProvider.jdk().aesGcm();

    @TempDir
    Path dataDir;

    @Test
    void everyPrimitiveComesFromTheFipsProvider() throws Exception {
        assertTrue(fips.isFips());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, gcm.provider().getName());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, fips.secureRandom().getProvider().getName());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, fips.mac("HmacSHA256").getProvider().getName());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, fips.messageDigest("SHA-512").getProvider().getName());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME,
                fips.secretKeyFactory("PBKDF2WithHmacSHA512").getProvider().getName());
        assertTrue(fips.toString().contains("approved-only"), fips.toString());
        assertEquals(CryptoProvider.FIPS_PROVIDER_NAME, CryptoProvider.fips().aesGcm().provider().getName(),
                "a second call finds the registered provider");
    }

    @Test
    void sealsAndOpensMatchingTheGcmSpecification() throws Exception {
        // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 16, as AesGcmTest checks the JDK's.
        HexFormat hex = HexFormat.of();
        SecretKey key = AesGcm.key(hex.parseHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
        byte[] nonce = hex.parseHex("cafebabefacedbaddecaf888");
        byte[] ad = hex.parseHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        byte[] plaintext = hex.parseHex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");

        byte[] sealed = gcm.seal(key, nonce, ad, plaintext);

        assertEquals("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                + "76fc6ece0f4e1768cddf8853bb2d551b", hex.formatHex(sealed));
        assertArrayEquals(plaintext, gcm.open(key, nonce, ad, sealed));
        assertArrayEquals(plaintext, jdkGcm.open(key, nonce, ad, sealed));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFailedOpenLeavesNoPlaintextInTheOutput(boolean direct) {
        SecretKey key = gcm.newKey();
        byte[] nonce = SegmentNonce.of(0, 9);
        byte[] plaintext = new byte[100];
        Arrays.fill(plaintext, (byte) 7);
        byte[] sealed = gcm.seal(key, nonce, AD, plaintext);
        sealed[sealed.length - 1] ^= 1;
        ByteBuffer out = direct ? ByteBuffer.allocateDirect(plaintext.length) : ByteBuffer.allocate(plaintext.length);

        assertThrows(AEADBadTagException.class,
                () -> gcm.open(key, nonce, ByteBuffer.wrap(AD), ByteBuffer.wrap(sealed), out));

        assertEquals(0, out.position());
        for (int i = 0; i < plaintext.length; i++) {
            assertEquals(0, out.get(i), "byte " + i);
        }
    }

    @Test
    void wrapsAndUnwrapsAndAgreesWithTheJdkOnTheMasterKeyIdAndTheWrappedForm() throws Exception {
        byte[] master = gcm.newKey().getEncoded();
        LocalKeyManagementService kms = new LocalKeyManagementService(master, gcm);
        LocalKeyManagementService jdkKms = new LocalKeyManagementService(master, jdkGcm);
        byte[] key = gcm.newKey().getEncoded();

        byte[] wrapped = kms.wrap(key, AD);

        assertArrayEquals(key, kms.unwrap(wrapped, AD));
        assertArrayEquals(key, jdkKms.unwrap(wrapped, AD));
        assertArrayEquals(key, kms.unwrap(jdkKms.wrap(key, AD), AD));
        assertEquals(jdkKms.keyId(), kms.keyId());
        byte[] otherAd = "another owner".getBytes(StandardCharsets.UTF_8);
        assertThrows(KeyUnwrapException.class, () -> kms.unwrap(wrapped, otherAd));
    }

    @Test
    void aKeyringWrittenWithTheJdkOpensInFipsModeAndBack() throws Exception {
        byte[] master = jdkGcm.newKey().getEncoded();
        KeyOwner acme = KeyOwner.tenant("acme");
        Keyring written = Keyring.open(dataDir, new LocalKeyManagementService(master, jdkGcm), jdkGcm);
        DataKey before = written.newDataKey(acme);

        Keyring inFips = Keyring.open(dataDir, new LocalKeyManagementService(master, gcm), gcm);
        assertArrayEquals(before.key().getEncoded(), inFips.open(acme, before.wrapped()).key().getEncoded());
        inFips.rotate(acme);
        DataKey during = inFips.newDataKey(acme);

        Keyring back = Keyring.open(dataDir, new LocalKeyManagementService(master, jdkGcm), jdkGcm);
        assertArrayEquals(during.key().getEncoded(), back.open(acme, during.wrapped()).key().getEncoded());
    }

    @Test
    void approvedOnlyModeRefusesWhatFipsDoesNotApprove() throws Exception {
        assertThrows(NoSuchAlgorithmException.class, () -> fips.messageDigest("MD5"));
        assertThrows(NoSuchAlgorithmException.class, () -> fips.mac("HmacMD5"));
        assertThrows(NoSuchAlgorithmException.class, () -> javax.crypto.Cipher.getInstance("ChaCha20-Poly1305",
                gcm.provider()));

        Mac mac = fips.mac("HmacSHA256");
        byte[] shortKey = new byte[CryptoProvider.FIPS_MINIMUM_SECRET_BYTES - 1];
        RuntimeException refused = assertThrows(RuntimeException.class,
                () -> mac.init(new SecretKeySpec(shortKey, "HmacSHA256")));
        assertTrue(refused.getMessage().contains("approved"), refused.getMessage());
        mac.init(new SecretKeySpec(new byte[CryptoProvider.FIPS_MINIMUM_SECRET_BYTES], "HmacSHA256"));
        assertEquals(14, fips.minimumSecretBytes());
    }
}
