package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalKeyManagementServiceTest {

    private static final HexFormat HEX = HexFormat.of();
    static final byte[] MASTER_KEY = HEX.parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static final byte[] AD = "owner acme version 1".getBytes(StandardCharsets.UTF_8);
    // Cross-checked with Python's hmac and cryptography's AESGCM.
    private static final String PINNED_KEY_ID = "67369a2a4817f536";
    private static final String PINNED_WRAP = "0164423eb518df1a1fdb19f3cca211284fe56c305a9e127ae222c67923a8ba2b"
            + "535efef4c963991ea87b2fc7bece9c0eb15be2ed09b49868282245cd39";

    private final AesGcm gcm = new AesGcm();
    private final LocalKeyManagementService kms = new LocalKeyManagementService(MASTER_KEY, gcm);

    @Test
    void wrapsAndUnwraps() throws Exception {
        byte[] key = gcm.newKey().getEncoded();

        byte[] wrapped = kms.wrap(key, AD);

        assertEquals(1 + AesGcm.NONCE_LENGTH + key.length + AesGcm.TAG_LENGTH, wrapped.length);
        assertEquals(LocalKeyManagementService.FORMAT_VERSION, wrapped[0]);
        assertArrayEquals(key, kms.unwrap(wrapped, AD));
    }

    @Test
    void unwrapsAPinnedWrap() throws Exception {
        // Wrapped once by this class: pins the layout (version, nonce, sealed key) and the algorithm.
        byte[] wrapped = HEX.parseHex(PINNED_WRAP);

        assertArrayEquals(HEX.parseHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"),
                kms.unwrap(wrapped, AD));
    }

    @Test
    void anotherAssociatedDataOrMasterKeyOrAnyFlippedBitFailsToUnwrap() {
        byte[] wrapped = kms.wrap(new byte[32], AD);

        byte[] otherAd = "owner acme version 2".getBytes(StandardCharsets.UTF_8);
        assertThrows(KeyUnwrapException.class, () -> kms.unwrap(wrapped, otherAd));
        LocalKeyManagementService other = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);
        assertThrows(KeyUnwrapException.class, () -> other.unwrap(wrapped, AD));
        for (int bit = 0; bit < wrapped.length * 8; bit++) {
            byte[] bad = wrapped.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            int flipped = bit;
            assertThrows(KeyUnwrapException.class, () -> kms.unwrap(bad, AD), () -> "bit " + flipped);
        }
        assertThrows(KeyUnwrapException.class, () -> kms.unwrap(new byte[10], AD));
    }

    @Test
    void theKeyIdIsAStableFingerprintThatDiffersBetweenKeys() {
        assertEquals("local-" + PINNED_KEY_ID, kms.keyId());
        assertEquals(kms.keyId(), new LocalKeyManagementService(MASTER_KEY.clone(), gcm).keyId());
        assertNotEquals(kms.keyId(), new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm).keyId());
        assertTrue(kms.toString().contains(kms.keyId()));
    }

    @Test
    void aMasterKeyIs32Bytes() {
        assertThrows(IllegalArgumentException.class, () -> new LocalKeyManagementService(new byte[16], gcm));
    }
}
