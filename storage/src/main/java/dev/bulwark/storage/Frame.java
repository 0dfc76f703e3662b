package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;

import java.nio.ByteBuffer;

/**
 * How a sealed segment stores one record batch: a few fields in the clear that recovery and offset lookups need
 * without the data key, then the whole Kafka RecordBatch v2 (offsets, attributes, timestamps, producer fields, keys,
 * values and headers) sealed with AES-256-GCM under the segment's data key.
 *
 * <pre>
 * offset  length  field
 * 0       8       base offset (i64), as in the sealed batch
 * 8       4       length L of the rest of the frame, the bytes after this field (i32): 8 + n + 16
 * 12      4       last offset delta (i32), as in the sealed batch
 * 16      4       incarnation of the segment the batch was sealed in (u32), see {@link
 *                 dev.bulwark.storage.crypto.SegmentNonce}
 * 20      n       AES-256-GCM ciphertext of the n-byte RecordBatch
 * 20+n    16      GCM tag
 * </pre>
 *
 * The first two fields sit where Kafka's batch has them (base offset, then the length of what follows), so a frame
 * is walked like a batch. The nonce is {@code SegmentNonce.of(incarnation, baseOffset)}; the associated data
 * ({@link PartitionSealing#batchAssociatedData}) binds the batch to its owner, topic, partition, segment, base offset
 * and last offset delta, so a frame changed, moved to another offset, segment or partition, or given other clear
 * fields does not open. Nothing in the clear is record content: producer ids, sequences and timestamps are sealed.
 *
 * <p>In an unsealed segment (only to measure what sealing costs, see {@link Segment}) the n bytes are the batch itself
 * and the 16 tag bytes are zero.
 */
record Frame(long baseOffset, int size, int lastOffsetDelta, int incarnation) {

    static final int BASE_OFFSET_OFFSET = 0;
    static final int LENGTH_OFFSET = 8;
    static final int LAST_OFFSET_DELTA_OFFSET = 12;
    static final int INCARNATION_OFFSET = 16;
    static final int SEALED_OFFSET = 20;
    /** Bytes before the length field's count starts: base offset and the length field itself. */
    static final int LOG_OVERHEAD = 12;
    /** What a frame adds to its batch: the clear fields and the tag. */
    static final int OVERHEAD = SEALED_OFFSET + AesGcm.TAG_LENGTH;
    /** The smallest frame: a batch of no records. */
    static final int MIN_SIZE = OVERHEAD + BatchHeader.SIZE;

    /** Reads the clear fields at the buffer's absolute {@code position}; the caller checks that 20 bytes are there. */
    static Frame read(ByteBuffer buffer, int position) {
        return new Frame(buffer.getLong(position + BASE_OFFSET_OFFSET),
                buffer.getInt(position + LENGTH_OFFSET) + LOG_OVERHEAD,
                buffer.getInt(position + LAST_OFFSET_DELTA_OFFSET),
                buffer.getInt(position + INCARNATION_OFFSET));
    }

    /** Writes the clear fields of a frame holding a batch of {@code batchSize} bytes at the buffer's position. */
    static void writeHeader(ByteBuffer out, long baseOffset, int batchSize, int lastOffsetDelta, int incarnation) {
        out.putLong(baseOffset).putInt(sizeOf(batchSize) - LOG_OVERHEAD).putInt(lastOffsetDelta).putInt(incarnation);
    }

    /** The size of the frame of a batch of {@code batchSize} bytes. */
    static int sizeOf(int batchSize) {
        return batchSize + OVERHEAD;
    }

    /** The size of the sealed batch. */
    int batchSize() {
        return size - OVERHEAD;
    }

    long lastOffset() {
        return baseOffset + lastOffsetDelta;
    }

    long nextOffset() {
        return lastOffset() + 1;
    }

    /** Whether a length field could belong to a real frame; false for garbage, zeroes, and truncations. */
    static boolean plausibleSize(int size, long available) {
        return size >= MIN_SIZE && size <= available;
    }
}
