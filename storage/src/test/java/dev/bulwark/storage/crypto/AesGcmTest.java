package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.crypto.AEADBadTagException;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.Security;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AesGcmTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] AD = "tenant/topic/0/42".getBytes(StandardCharsets.UTF_8);

    private final AesGcm gcm = new AesGcm();
    private final SecretKey key = gcm.newKey();

    @Test
    void theWarmUpSelfTestPasses() {
        new AesGcm().warmUp(50);
    }

    @Test
    void matchesTheGcmSpecificationTestCase16() throws Exception {
        // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, with AAD)
        SecretKey specKey = AesGcm.key(
                HEX.parseHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
        byte[] nonce = HEX.parseHex("cafebabefacedbaddecaf888");
        byte[] ad = HEX.parseHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        byte[] plaintext = HEX.parseHex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");

        byte[] sealed = gcm.seal(specKey, nonce, ad, plaintext);

        assertEquals("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                + "76fc6ece0f4e1768cddf8853bb2d551b", HEX.formatHex(sealed));
        assertArrayEquals(plaintext, gcm.open(specKey, nonce, ad, sealed));
    }

    @ParameterizedTest
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void roundTripsHeapAndDirectBuffers(boolean directIn, boolean directOut) throws Exception {
        byte[] plaintext = "key, value, headers and timestamps".getBytes(StandardCharsets.UTF_8);
        byte[] nonce = SegmentNonce.of(0, 42);
        ByteBuffer in = buffer(directIn, plaintext.length + 3).position(3);
        in.duplicate().put(plaintext);
        ByteBuffer sealed = buffer(directOut, AesGcm.sealedLength(plaintext.length) + 5).position(5);
        ByteBuffer ad = buffer(directIn, AD.length).put(AD).flip();

        int written = gcm.seal(key, nonce, ad, in, sealed);

        assertEquals(AesGcm.sealedLength(plaintext.length), written);
        assertEquals(in.limit(), in.position(), "the plaintext is consumed");
        assertEquals(0, ad.position(), "the associated data is left alone");
        sealed.flip().position(5);
        ByteBuffer opened = buffer(directIn, plaintext.length);
        assertEquals(plaintext.length, gcm.open(key, nonce, ad, sealed, opened));
        assertArrayEquals(plaintext, bytes(opened.flip()));
    }

    /** Direct buffers go through the thread's heap staging buffer: one it grows, and one of its own past 8 MiB. */
    @ParameterizedTest
    @CsvSource({"100000", "9000000"})
    void largeRangesSealAndOpenThroughDirectBuffersAsThroughHeapArrays(int length) throws Exception {
        byte[] plaintext = new byte[length];
        new Random(length).nextBytes(plaintext);
        byte[] nonce = SegmentNonce.of(3, length);
        byte[] fromHeap = new AesGcm().seal(key, nonce, AD, plaintext);
        ByteBuffer direct = ByteBuffer.allocateDirect(length).put(plaintext).flip();
        ByteBuffer sealed = ByteBuffer.allocate(AesGcm.sealedLength(length));

        gcm.seal(key, nonce, ByteBuffer.wrap(AD), direct, sealed);

        assertArrayEquals(fromHeap, sealed.array(), "the same bytes as sealed from a heap array");
        ByteBuffer opened = ByteBuffer.allocateDirect(length + 7).position(7);
        assertEquals(length, gcm.open(key, nonce, ByteBuffer.wrap(AD), sealed.flip(), opened));
        assertEquals(length + 7, opened.position());
        assertArrayEquals(plaintext, bytes(opened.flip().position(7)));
    }

    @Test
    void anEmptyRangeSealsToATag() throws Exception {
        byte[] sealed = gcm.seal(key, SegmentNonce.of(0, 0), AD, new byte[0]);

        assertEquals(AesGcm.TAG_LENGTH, sealed.length);
        assertEquals(0, gcm.open(key, SegmentNonce.of(0, 0), AD, sealed).length);
    }

    @Test
    void everyFlippedBitFailsToOpen() {
        byte[] nonce = SegmentNonce.of(0, 7);
        byte[] sealed = gcm.seal(key, nonce, AD, "record".getBytes(StandardCharsets.UTF_8));

        for (int bit = 0; bit < sealed.length * 8; bit++) {
            byte[] bad = sealed.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            int flipped = bit;
            assertThrows(AEADBadTagException.class, () -> gcm.open(key, nonce, AD, bad), () -> "bit " + flipped);
        }
    }

    @ParameterizedTest
    @CsvSource({"false", "true"})
    void aFailedOpenLeavesNoPlaintextInTheOutput(boolean direct) {
        byte[] nonce = SegmentNonce.of(0, 8);
        byte[] sealed = gcm.seal(key, nonce, AD, "record".getBytes(StandardCharsets.UTF_8));
        sealed[sealed.length - 1] ^= 1;
        ByteBuffer out = buffer(direct, 6);

        assertThrows(AEADBadTagException.class,
                () -> gcm.open(key, nonce, ByteBuffer.wrap(AD), ByteBuffer.wrap(sealed), out));

        assertEquals(0, out.position());
        assertArrayEquals(new byte[6], bytes(out));
    }

    @Test
    void otherAssociatedDataNonceOrKeyFailToOpen() {
        byte[] nonce = SegmentNonce.of(3, 100);
        byte[] sealed = gcm.seal(key, nonce, AD, "record".getBytes(StandardCharsets.UTF_8));

        byte[] otherAd = "tenant/topic/1/42".getBytes(StandardCharsets.UTF_8);
        assertThrows(AEADBadTagException.class, () -> gcm.open(key, nonce, otherAd, sealed));
        assertThrows(AEADBadTagException.class, () -> gcm.open(key, SegmentNonce.of(3, 101), AD, sealed));
        assertThrows(AEADBadTagException.class, () -> gcm.open(key, SegmentNonce.of(4, 100), AD, sealed));
        assertThrows(AEADBadTagException.class, () -> gcm.open(gcm.newKey(), nonce, AD, sealed));
    }

    @Test
    void swappedBatchesFailToOpen() {
        byte[] first = gcm.seal(key, SegmentNonce.of(0, 0), AD, new byte[] {1});
        byte[] second = gcm.seal(key, SegmentNonce.of(0, 1), AD, new byte[] {2});

        assertThrows(AEADBadTagException.class, () -> gcm.open(key, SegmentNonce.of(0, 0), AD, second));
        assertThrows(AEADBadTagException.class, () -> gcm.open(key, SegmentNonce.of(0, 1), AD, first));
    }

    @Test
    void aRangeShorterThanATagFailsToOpen() {
        assertThrows(AEADBadTagException.class,
                () -> gcm.open(key, SegmentNonce.of(0, 0), AD, new byte[AesGcm.TAG_LENGTH - 1]));
    }

    @Test
    void tooLittleRoomIsRefusedBeforeSealing() {
        ByteBuffer plaintext = ByteBuffer.allocate(10);
        ByteBuffer out = ByteBuffer.allocate(AesGcm.sealedLength(10) - 1);

        assertThrows(IllegalArgumentException.class,
                () -> gcm.seal(key, SegmentNonce.of(0, 0), ByteBuffer.wrap(AD), plaintext, out));
        assertEquals(0, plaintext.position());
    }

    @Test
    void aShortKeyOrNonceIsRefused() {
        SecretKey aes128 = new SecretKeySpec(new byte[16], "AES");

        assertThrows(IllegalArgumentException.class, () -> gcm.seal(aes128, SegmentNonce.of(0, 0), AD, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> gcm.seal(key, new byte[8], AD, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> AesGcm.key(new byte[16]));
    }

    @Test
    void theJdkRefusesToSealTwiceInARowWithOneKeyAndNonce() {
        byte[] nonce = SegmentNonce.of(0, 5);
        gcm.seal(key, nonce, AD, new byte[] {1});

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> gcm.seal(key, nonce, AD, new byte[] {2}));
        assertTrue(e.getMessage().contains("SunJCE"), e.getMessage());
    }

    @Test
    void aProviderWithoutGcmIsRefusedAtConstruction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AesGcm(Security.getProvider("SUN"), new SecureRandom()));
        assertTrue(e.getMessage().contains("AES/GCM/NoPadding"), e.getMessage());
    }

    @Test
    void threadsSealAndOpenIndependently() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    SecretKey own = gcm.newKey();
                    for (int i = 0; i < 500; i++) {
                        byte[] plaintext = ("thread " + thread + " batch " + i).getBytes(StandardCharsets.UTF_8);
                        byte[] nonce = SegmentNonce.of(thread, i);
                        assertArrayEquals(plaintext, gcm.open(own, nonce, AD, gcm.seal(own, nonce, AD, plaintext)));
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static ByteBuffer buffer(boolean direct, int capacity) {
        return direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
