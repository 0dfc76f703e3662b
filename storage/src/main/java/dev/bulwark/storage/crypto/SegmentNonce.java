package dev.bulwark.storage.crypto;

import java.nio.ByteBuffer;

/**
 * The suggested deterministic nonce of a batch sealed under a segment's data key.
 *
 * <pre>
 * offset  length  field
 * 0       4       incarnation of the segment (unsigned, big-endian)
 * 4       8       base offset of the batch (big-endian)
 * </pre>
 *
 * Within one incarnation the segment appends each base offset once, so the pair never repeats under the segment's
 * data key, provided the segment keeps this rule: <b>bump and persist the incarnation before the first seal after
 * anything that can make an offset be appended again</b>: reopening the segment for appends (after a restart or
 * recovery), truncating it (a follower's or recovery's truncation), or an append that failed after sealing. A
 * segment that has used the last incarnation ({@link #LAST_INCARNATION}) must roll to a new segment, which has a
 * new data key. Compaction writes new segments, so it also starts under new data keys.
 */
public final class SegmentNonce {

    public static final int INCARNATION_OFFSET = 0;
    public static final int INCARNATION_LENGTH = 4;
    public static final int BASE_OFFSET_OFFSET = INCARNATION_OFFSET + INCARNATION_LENGTH;
    public static final int BASE_OFFSET_LENGTH = 8;

    /** The last incarnation, as a signed int: 2<sup>32</sup> - 1 unsigned. */
    public static final int LAST_INCARNATION = -1;

    private SegmentNonce() {
    }

    /** The nonce of the batch at {@code baseOffset} in the segment's {@code incarnation}. */
    public static byte[] of(int incarnation, long baseOffset) {
        if (baseOffset < 0) {
            throw new IllegalArgumentException("a batch base offset is not negative: " + baseOffset);
        }
        return ByteBuffer.allocate(AesGcm.NONCE_LENGTH).putInt(incarnation).putLong(baseOffset).array();
    }

    /**
     * The incarnation after {@code incarnation}, the first being 0.
     *
     * @throws IllegalStateException when {@code incarnation} is the {@link #LAST_INCARNATION}: the segment must roll
     */
    public static int next(int incarnation) {
        if (incarnation == LAST_INCARNATION) {
            throw new IllegalStateException("the segment has used all 2^32 incarnations of its data key: roll a new"
                    + " segment");
        }
        return incarnation + 1;
    }
}
