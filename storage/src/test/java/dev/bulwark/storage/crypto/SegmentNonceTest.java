package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentNonceTest {

    @Test
    void pinsTheLayout() {
        assertEquals("0000000100000000000000ff", HexFormat.of().formatHex(SegmentNonce.of(1, 255)));
        assertEquals("ffffffff7fffffffffffffff",
                HexFormat.of().formatHex(SegmentNonce.of(SegmentNonce.LAST_INCARNATION, Long.MAX_VALUE)));
    }

    @Test
    void distinctIncarnationsAndOffsetsGiveDistinctNonces() {
        Set<ByteBuffer> seen = new HashSet<>();
        int[] incarnations = {0, 1, 2, 255, 256, Integer.MAX_VALUE, Integer.MIN_VALUE, SegmentNonce.LAST_INCARNATION};
        long[] offsets = {0, 1, 255, 256, 1L << 32, (1L << 32) + 1, Long.MAX_VALUE};
        for (int incarnation : incarnations) {
            for (long offset : offsets) {
                assertTrue(seen.add(ByteBuffer.wrap(SegmentNonce.of(incarnation, offset))),
                        () -> incarnation + "/" + offset);
            }
        }
        assertEquals(AesGcm.NONCE_LENGTH, SegmentNonce.INCARNATION_LENGTH + SegmentNonce.BASE_OFFSET_LENGTH);
    }

    @Test
    void incarnationsCountUpAsUnsignedAndStopAtTheLast() {
        assertEquals(1, SegmentNonce.next(0));
        assertEquals(Integer.MIN_VALUE, SegmentNonce.next(Integer.MAX_VALUE));
        assertEquals(SegmentNonce.LAST_INCARNATION, SegmentNonce.next(-2));
        assertThrows(IllegalStateException.class, () -> SegmentNonce.next(SegmentNonce.LAST_INCARNATION));
    }

    @Test
    void aNegativeBaseOffsetIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SegmentNonce.of(0, -1));
    }
}
