package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Builds producer batches the way clients do, and reads back what a partition log serves. */
final class Batches {

    private Batches() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** An uncompressed batch of key-less records, all at {@code timestamp}. */
    static MemoryRecords plain(long timestamp, String... values) {
        return withTimestamps(Compression.NONE, timestamps(timestamp, values.length), values);
    }

    /** A batch whose i-th record has {@code timestamps[i]} and value {@code values[i]}. */
    static MemoryRecords withTimestamps(Compression compression, long[] timestamps, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestamps[i], null, utf8(values[i]));
        }
        return MemoryRecords.withRecords(compression, records);
    }

    /** A batch of keyed records (key k0, k1, ...), for compacted topics. */
    static MemoryRecords keyed(Compression compression, long timestamp, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestamp, utf8("k" + i), utf8(values[i]));
        }
        return MemoryRecords.withRecords(compression, records);
    }

    /**
     * A batch of records for compacted topics from {@code key, value} pairs; a null value is a tombstone. All records
     * are at {@code timestamp}.
     */
    static MemoryRecords entries(Compression compression, long timestamp, String... keysAndValues) {
        SimpleRecord[] records = new SimpleRecord[keysAndValues.length / 2];
        for (int i = 0; i < records.length; i++) {
            String value = keysAndValues[2 * i + 1];
            records[i] = new SimpleRecord(timestamp, utf8(keysAndValues[2 * i]), value == null ? null : utf8(value));
        }
        return MemoryRecords.withRecords(compression, records);
    }

    /** One uncompressed record with a key; a null value is a tombstone. */
    static MemoryRecords entry(long timestamp, String key, String value) {
        return entries(Compression.NONE, timestamp, key, value);
    }

    /** The key of a record, or null. */
    static String key(Record record) {
        if (!record.hasKey()) {
            return null;
        }
        ByteBuffer key = record.key().duplicate();
        byte[] bytes = new byte[key.remaining()];
        key.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** An idempotent producer's batch: producer id, epoch and the sequence of its first record. */
    static MemoryRecords idempotent(long producerId, short epoch, int baseSequence, long timestamp, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestamp, null, utf8(values[i]));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, baseSequence, records);
    }

    /**
     * A transactional producer's batch of records from {@code key, value} pairs (a null key for key-less records),
     * all at {@code timestamp}.
     */
    static MemoryRecords transactional(long producerId, short epoch, int baseSequence, long timestamp,
                                       String... keysAndValues) {
        SimpleRecord[] records = new SimpleRecord[keysAndValues.length / 2];
        for (int i = 0; i < records.length; i++) {
            String key = keysAndValues[2 * i];
            records[i] = new SimpleRecord(timestamp, key == null ? null : utf8(key), utf8(keysAndValues[2 * i + 1]));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, baseSequence, records);
    }

    /** The data records of {@code batches}, without transaction markers. */
    static List<Record> dataRecords(List<MutableRecordBatch> batches) {
        List<Record> records = new ArrayList<>();
        for (RecordBatch batch : batches) {
            if (!batch.isControlBatch()) {
                batch.forEach(records::add);
            }
        }
        return records;
    }

    /** Several batches back to back in one produce request. */
    static MemoryRecords concat(MemoryRecords... parts) {
        int size = Arrays.stream(parts).mapToInt(MemoryRecords::sizeInBytes).sum();
        ByteBuffer buffer = ByteBuffer.allocate(size);
        for (MemoryRecords part : parts) {
            buffer.put(part.buffer().duplicate());
        }
        return MemoryRecords.readableRecords(buffer.flip());
    }

    /** A copy of the request's bytes, taken before the append rewrites offsets in place. */
    static byte[] bytes(MemoryRecords records) {
        ByteBuffer view = records.buffer().duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return bytes;
    }

    static MemoryRecords wrap(byte[] bytes) {
        return MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));
    }

    static long[] timestamps(long timestamp, int count) {
        long[] ts = new long[count];
        Arrays.fill(ts, timestamp);
        return ts;
    }

    /** The bytes of a read, or an empty array when it returned nothing. */
    static byte[] sliceBytes(PartitionLog.LogRead read) {
        if (read.slice().isEmpty()) {
            return new byte[0];
        }
        LogSlice slice = read.slice().get();
        ByteBuffer buffer = ByteBuffer.allocate(slice.length());
        try {
            slice.readInto(buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.array();
    }

    static List<MutableRecordBatch> batchesOf(byte[] bytes) {
        List<MutableRecordBatch> batches = new ArrayList<>();
        MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches().forEach(batches::add);
        return batches;
    }

    /** Every batch from the log start offset to the high watermark, read as a consumer would, one read per segment. */
    static List<MutableRecordBatch> readAll(PartitionLog log) {
        List<MutableRecordBatch> all = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.highWatermark()) {
            List<MutableRecordBatch> batches = batchesOf(sliceBytes(log.read(offset, Integer.MAX_VALUE, true)));
            if (batches.isEmpty()) {
                throw new AssertionError("a read at " + offset + " below the high watermark " + log.highWatermark()
                        + " returned nothing");
            }
            all.addAll(batches);
            offset = batches.get(batches.size() - 1).nextOffset();
        }
        return all;
    }

    /** Every record from the log start offset to the high watermark. */
    static List<Record> readAllRecords(PartitionLog log) {
        List<Record> records = new ArrayList<>();
        for (RecordBatch batch : readAll(log)) {
            for (Record record : batch) {
                records.add(record);
            }
        }
        return records;
    }

    /** The value of a record, or null for a tombstone. */
    static String value(Record record) {
        if (!record.hasValue()) {
            return null;
        }
        ByteBuffer value = record.value().duplicate();
        byte[] bytes = new byte[value.remaining()];
        value.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static List<String> values(List<Record> records) {
        return records.stream().map(Batches::value).toList();
    }
}
