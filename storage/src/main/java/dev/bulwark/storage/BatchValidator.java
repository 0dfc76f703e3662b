package dev.bulwark.storage;

import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.ByteUtils;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a producer's record batches before they are appended, with Kafka's error for each fault: the client gets
 * CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD or INVALID_TIMESTAMP and nothing of the request is written.
 * Control batches (transaction markers) come only from the transaction coordinator, through
 * {@link PartitionLog#appendControl}, never from a client.
 *
 * <p>Compressed batches are kept as sent; their bytes are covered by the CRC, so only their header is examined,
 * except on compacted topics, whose records must all carry a key. Uncompressed batches are walked record by record
 * without materialising the records.
 */
final class BatchValidator {

    private BatchValidator() {
    }

    /** A batch that passed, with its header. */
    record ValidBatch(MutableRecordBatch batch, BatchHeader header, int position) {
    }

    static List<ValidBatch> validate(MemoryRecords records, LogConfig config, long nowMs) {
        ByteBuffer buffer = records.buffer();
        int position = buffer.position();
        int end = buffer.limit();
        List<ValidBatch> valid = new ArrayList<>(1);
        try {
            for (MutableRecordBatch batch : records.batches()) {
                BatchHeader header = BatchHeader.read(buffer, position);
                validate(batch, header, config, nowMs);
                if (batch.compressionType() == CompressionType.NONE) {
                    walkRecords(buffer.duplicate().limit(position + header.sizeInBytes())
                            .position(position + BatchHeader.SIZE), header, config, nowMs);
                }
                valid.add(new ValidBatch(batch, header, position));
                position += header.sizeInBytes();
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new CorruptRecordException("Record batch at byte " + position + " is malformed");
        }
        if (valid.size() > 1 && valid.stream().anyMatch(b -> b.header().hasProducerId())) {
            throw new InvalidRecordException("An idempotent produce carries one record batch per partition, not "
                    + valid.size());
        }
        if (position != end) {
            throw new CorruptRecordException("The request carries " + (end - buffer.position())
                    + " bytes of records but only " + (position - buffer.position())
                    + " form whole record batches (truncated batch or trailing bytes)");
        }
        return valid;
    }

    private static void validate(MutableRecordBatch batch, BatchHeader header, LogConfig config, long nowMs) {
        if (header.magic() != RecordBatch.MAGIC_VALUE_V2) {
            throw new UnsupportedForMessageFormatException("Record batch magic " + header.magic()
                    + " is not supported; producers must send RecordBatch v2 (Kafka 0.11+ format)");
        }
        if (header.sizeInBytes() > config.maxMessageBytes) {
            throw new RecordTooLargeException("The record batch is " + header.sizeInBytes()
                    + " bytes, larger than max.message.bytes " + config.maxMessageBytes);
        }
        if (!batch.isValid()) {
            throw new CorruptRecordException("Record batch CRC mismatch (stored " + batch.checksum() + ")");
        }
        if (header.baseOffset() != 0) {
            throw new InvalidRecordException("The base offset of a produced record batch must be 0, not "
                    + header.baseOffset());
        }
        if (header.recordCount() <= 0 || header.lastOffsetDelta() != header.recordCount() - 1) {
            throw new InvalidRecordException("Record count " + header.recordCount() + " and last offset delta "
                    + header.lastOffsetDelta() + " of the batch are not consistent");
        }
        if (header.isControl()) {
            throw new InvalidRecordException("Clients may not produce control batches");
        }
        if (header.isTransactional() && !header.hasProducerId()) {
            throw new InvalidRecordException("A transactional batch must carry a producer id");
        }
        if (header.hasProducerId() && header.baseSequence() < 0) {
            throw new InvalidRecordException("An idempotent batch must carry a sequence number");
        }
        if (config.timestampType == TimestampType.CREATE_TIME) {
            checkTimestamp(header.baseTimestamp(), config, nowMs);
            checkTimestamp(header.maxTimestamp(), config, nowMs);
        }
        if (config.compact() && batch.compressionType() != CompressionType.NONE) {
            for (Record record : batch) {
                if (!record.hasKey()) {
                    throw new InvalidRecordException("Compacted topic cannot accept message without key");
                }
            }
        }
    }

    /**
     * Walks the records of an uncompressed batch: each must fit the batch and carry the next offset delta and a valid
     * timestamp (and a key on compacted topics), and together they must fill the batch exactly.
     */
    private static void walkRecords(ByteBuffer records, BatchHeader header, LogConfig config, long nowMs) {
        for (int i = 0; i < header.recordCount(); i++) {
            if (!records.hasRemaining()) {
                throw new CorruptRecordException("Batch declares " + header.recordCount() + " records but holds " + i);
            }
            int length = ByteUtils.readVarint(records);
            int start = records.position();
            if (length <= 0 || length > records.remaining()) {
                throw new CorruptRecordException("Record " + i + " has length " + length + " beyond its batch");
            }
            records.get(); // attributes, unused in v2
            long timestamp = header.baseTimestamp() + ByteUtils.readVarlong(records);
            int offsetDelta = ByteUtils.readVarint(records);
            if (offsetDelta != i) {
                throw new InvalidRecordException("Record " + i + " has offset delta " + offsetDelta);
            }
            if (config.timestampType == TimestampType.CREATE_TIME) {
                checkTimestamp(timestamp, config, nowMs);
            }
            if (config.compact() && ByteUtils.readVarint(records) < 0) {
                throw new InvalidRecordException("Compacted topic cannot accept message without key");
            }
            records.position(start + length);
        }
        if (records.hasRemaining()) {
            throw new CorruptRecordException("Batch has " + records.remaining() + " bytes after its last record");
        }
    }

    private static void checkTimestamp(long timestamp, LogConfig config, long nowMs) {
        if (timestamp == RecordBatch.NO_TIMESTAMP) {
            return;
        }
        if (nowMs - timestamp > config.timestampBeforeMaxMs) {
            throw new InvalidTimestampException("Timestamp " + timestamp + " is more than "
                    + config.timestampBeforeMaxMs + " ms before the broker's time " + nowMs);
        }
        if (timestamp - nowMs > config.timestampAfterMaxMs) {
            throw new InvalidTimestampException("Timestamp " + timestamp + " is more than "
                    + config.timestampAfterMaxMs + " ms after the broker's time " + nowMs);
        }
    }
}
