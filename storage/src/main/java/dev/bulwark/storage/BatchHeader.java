package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.nio.ByteBuffer;

/**
 * The fixed-size header fields of a stored RecordBatch v2, read without touching its records.
 *
 * <p>The byte layout is Kafka's ({@link DefaultRecordBatch}): base offset i64 at 0, length i32 at 8 (bytes after
 * the length field), partition leader epoch i32 at 12, magic i8 at 16, CRC32C u32 at 17 (covering bytes 21 to the
 * end), attributes i16 at 21, last offset delta i32 at 23, base timestamp i64 at 27, max timestamp i64 at 35,
 * producer id i64 at 43, producer epoch i16 at 51, base sequence i32 at 53, record count i32 at 57, records at 61.
 */
record BatchHeader(long baseOffset, int sizeInBytes, byte magic, short attributes, int lastOffsetDelta,
                   long baseTimestamp, long maxTimestamp, long producerId, short producerEpoch, int baseSequence, int recordCount) {

    static final int SIZE = DefaultRecordBatch.RECORD_BATCH_OVERHEAD;
    static final int LENGTH_OFFSET = 8;
    static final int MAGIC_OFFSET = 16;
    /** Bytes before the length field's count starts: base offset and the length field itself. */
    static final int LOG_OVERHEAD = 12;

    private static final int TRANSACTIONAL_FLAG = 0x10;
    private static final int CONTROL_FLAG = 0x20;

    /** Reads a header at the buffer's absolute {@code position}; the caller checks that 61 bytes are there. */
    static BatchHeader read(ByteBuffer buffer, int position) {
        return new BatchHeader(
                buffer.getLong(position),
                buffer.getInt(position + LENGTH_OFFSET) + LOG_OVERHEAD,
                buffer.get(position + MAGIC_OFFSET),
                buffer.getShort(position + 21),
                buffer.getInt(position + 23),
                buffer.getLong(position + 27),
                buffer.getLong(position + 35),
                buffer.getLong(position + 43),
                buffer.getShort(position + 51),
                buffer.getInt(position + 53),
                buffer.getInt(position + 57));
    }

    /** This header as stored: at {@code newBaseOffset}, with {@code newMaxTimestamp}. */
    BatchHeader assigned(long newBaseOffset, long newMaxTimestamp) {
        return new BatchHeader(newBaseOffset, sizeInBytes, magic, attributes, lastOffsetDelta, baseTimestamp,
                newMaxTimestamp,
                producerId, producerEpoch, baseSequence, recordCount);
    }

    long lastOffset() {
        return baseOffset + lastOffsetDelta;
    }

    long nextOffset() {
        return lastOffset() + 1;
    }

    boolean isTransactional() {
        return (attributes & TRANSACTIONAL_FLAG) != 0;
    }

    boolean isControl() {
        return (attributes & CONTROL_FLAG) != 0;
    }

    boolean hasProducerId() {
        return producerId != RecordBatch.NO_PRODUCER_ID;
    }

    int lastSequence() {
        return DefaultRecordBatch.incrementSequence(baseSequence, lastOffsetDelta);
    }

    /** Whether a length field could belong to a real batch; false for garbage, zeroes, and truncations. */
    static boolean plausibleSize(int sizeInBytes, long available) {
        return sizeInBytes >= SIZE && sizeInBytes <= available;
    }
}
