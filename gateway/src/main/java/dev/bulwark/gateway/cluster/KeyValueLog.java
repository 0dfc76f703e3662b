package dev.bulwark.gateway.cluster;

import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * What the coordinators' internal logs (committed offsets, transaction state) share: each is a log of key/value
 * records, where the last value of a key wins and a null value deletes it, plus a snapshot of every live key so that
 * a restart replays only the log written after it.
 *
 * <p>Snapshot payload: i64 log offset the snapshot covers up to, i32 entry count, then per entry i32 key length + key,
 * i32 value length + value (each store's own record format).
 */
public final class KeyValueLog {

    private static final int READ_CHUNK = 1 << 20;

    private KeyValueLog() {
    }

    /** A record of the log as a replay hands it over: its offset, key, and value or null. */
    @FunctionalInterface
    public interface RecordHandler {
        void accept(long offset, ByteBuffer key, ByteBuffer value);
    }

    /**
     * Hands every record of {@code log} from {@code from} up to the high watermark to {@code apply} (key, and value or
     * null), in log order.
     *
     * @return how many records were replayed
     */
    public static long replay(PartitionLog log, long from, BiConsumer<ByteBuffer, ByteBuffer> apply)
            throws IOException {
        return replay(log, from, (offset, key, value) -> apply.accept(key, value));
    }

    /** As {@link #replay(PartitionLog, long, BiConsumer)}, for a store that needs each record's offset as well. */
    public static long replay(PartitionLog log, long from, RecordHandler apply) throws IOException {
        long next = from;
        long replayed = 0;
        while (next < log.highWatermark()) {
            Optional<LogSlice> slice = log.read(next, READ_CHUNK, true).slice();
            if (slice.isEmpty()) {
                break;
            }
            ByteBuffer bytes = ByteBuffer.allocate(slice.get().length());
            slice.get().readInto(bytes);
            bytes.flip();
            long before = next;
            for (Record record : MemoryRecords.readableRecords(bytes).records()) {
                if (record.offset() >= next) {
                    apply.accept(record.offset(), record.key(), record.hasValue() ? record.value() : null);
                    next = record.offset() + 1;
                    replayed++;
                }
            }
            if (next == before) {
                break;
            }
        }
        return replayed;
    }

    /**
     * Writes a snapshot payload covering the log up to {@code upTo}, sealed under the broker's key, then drops the log
     * before it, so that the records it replaces (deleted keys among them) leave the disk.
     */
    public static void writeSnapshot(PartitionLog log, SealedFiles sealedFiles, Path snapshotFile, int magic,
                                     byte version, long upTo, byte[] payload) throws IOException {
        // The snapshot may only cover what is on disk: a restart replays the log from where it ends, so records it
        // claims but the disk lost would be re-appended at offsets the replay skips.
        log.sync();
        sealedFiles.write(snapshotFile, magic, version, KeyOwner.SYSTEM, snapshotFile.getFileName().toString(),
                payload);
        log.advanceLogStartOffset(upTo);
        log.applyRetention();
    }

    /** A snapshot payload of {@code keysAndValues} (key, value, key, value...) covering the log up to {@code upTo}. */
    public static byte[] encodeSnapshot(long upTo, List<byte[]> keysAndValues) {
        int size = 12;
        for (byte[] bytes : keysAndValues) {
            size += 4 + bytes.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putLong(upTo).putInt(keysAndValues.size() / 2);
        for (byte[] bytes : keysAndValues) {
            buffer.putInt(bytes.length).put(bytes);
        }
        return buffer.array();
    }

    /**
     * Hands every entry of a snapshot payload to {@code apply}.
     *
     * @return the log offset the snapshot covers up to
     */
    public static long decodeSnapshot(ByteBuffer payload, BiConsumer<ByteBuffer, ByteBuffer> apply) {
        long upTo = payload.getLong();
        int count = payload.getInt();
        for (int i = 0; i < count; i++) {
            byte[] key = new byte[payload.getInt()];
            payload.get(key);
            byte[] value = new byte[payload.getInt()];
            payload.get(value);
            apply.accept(ByteBuffer.wrap(key), ByteBuffer.wrap(value));
        }
        return upTo;
    }
}
