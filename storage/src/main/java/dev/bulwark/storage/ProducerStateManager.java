package dev.bulwark.storage;

import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Per-partition state of idempotent producers: each producer id's epoch and its last five batches, so a retried batch
 * is recognised as a duplicate and a gap in sequence numbers is refused, as Kafka's broker does.
 *
 * <p>Not thread-safe: the partition calls it under its append lock. The state is rebuilt after a restart from the
 * newest snapshot and the batches written after it (their headers carry producer id, epoch and sequences).
 *
 * <p>Snapshot format ({@link MetadataFile} payload, version 1): i64 offset the state is valid at, i32 producer count,
 * then per producer: i64 id, i16 epoch, i64 last timestamp, i32 batch count, per batch: i32 first sequence,
 * i32 last sequence, i64 first offset, i64 last offset.
 */
final class ProducerStateManager {

    static final int CACHED_BATCHES = 5;
    static final int SNAPSHOT_MAGIC = 0x42575053; // "BWPS"
    static final byte SNAPSHOT_VERSION = 1;

    record CachedBatch(int firstSequence, int lastSequence, long firstOffset, long lastOffset) {
    }

    private static final class Producer {
        short epoch;
        long lastTimestamp;
        final ArrayDeque<CachedBatch> batches = new ArrayDeque<>(CACHED_BATCHES);

        int lastSequence() {
            return batches.isEmpty() ? RecordBatch.NO_SEQUENCE : batches.peekLast().lastSequence();
        }
    }

    private final Map<Long, Producer> producers = new HashMap<>();

    /**
     * Checks a client batch before it is appended.
     *
     * @return the earlier append of the same batch when this one is a retry of it
     * @throws InvalidProducerEpochException when the epoch is older than the producer's current one
     * @throws OutOfOrderSequenceException when the sequence does not follow the producer's last one
     */
    Optional<CachedBatch> check(BatchHeader batch) {
        if (!batch.hasProducerId()) {
            return Optional.empty();
        }
        Producer producer = producers.get(batch.producerId());
        if (producer == null) {
            // No state (new producer, or its state expired): any sequence is accepted, as in Kafka.
            return Optional.empty();
        }
        if (batch.producerEpoch() < producer.epoch) {
            throw new InvalidProducerEpochException("Producer " + batch.producerId() + " epoch " + batch.producerEpoch()
                    + " is older than the current epoch " + producer.epoch);
        }
        if (batch.producerEpoch() > producer.epoch) {
            if (batch.baseSequence() != 0) {
                throw new OutOfOrderSequenceException("Producer " + batch.producerId() + " started epoch "
                        + batch.producerEpoch() + " at sequence " + batch.baseSequence() + " instead of 0");
            }
            return Optional.empty();
        }
        for (CachedBatch cached : producer.batches) {
            if (cached.firstSequence() == batch.baseSequence() && cached.lastSequence() == batch.lastSequence()) {
                return Optional.of(cached);
            }
        }
        int last = producer.lastSequence();
        if (last != RecordBatch.NO_SEQUENCE && !follows(last, batch.baseSequence())) {
            throw new OutOfOrderSequenceException("Producer " + batch.producerId() + " sent sequence "
                    + batch.baseSequence() + " after " + last + " (epoch " + batch.producerEpoch() + ")");
        }
        return Optional.empty();
    }

    private static boolean follows(int lastSequence, int nextSequence) {
        return nextSequence == lastSequence + 1 || (lastSequence == Integer.MAX_VALUE && nextSequence == 0);
    }

    /** Records an appended batch (offsets assigned); also used to replay batches from the log after a restart. */
    void update(BatchHeader batch) {
        if (!batch.hasProducerId() || batch.isControl()) {
            return;
        }
        Producer producer = producers.computeIfAbsent(batch.producerId(), id -> new Producer());
        if (batch.producerEpoch() != producer.epoch) {
            producer.batches.clear();
            producer.epoch = batch.producerEpoch();
        }
        if (producer.batches.size() == CACHED_BATCHES) {
            producer.batches.pollFirst();
        }
        producer.batches.addLast(new CachedBatch(batch.baseSequence(), batch.lastSequence(), batch.baseOffset(),
                batch.lastOffset()));
        producer.lastTimestamp = Math.max(producer.lastTimestamp, batch.maxTimestamp());
    }

    /** Forgets producers idle for longer than {@code expirationMs} (Kafka's producer.id.expiration.ms). */
    int expire(long nowMs, long expirationMs) {
        int removed = 0;
        for (Iterator<Producer> it = producers.values().iterator(); it.hasNext(); ) {
            if (nowMs - it.next().lastTimestamp >= expirationMs) {
                it.remove();
                removed++;
            }
        }
        return removed;
    }

    int size() {
        return producers.size();
    }

    /**
     * The last offset of each known producer's newest batch. Compaction keeps those batches (empty if need be), so
     * that the state rebuilt from the log after a restart still has every producer's last sequence and epoch.
     */
    Map<Long, Long> lastBatchOffsets() {
        Map<Long, Long> last = new HashMap<>();
        producers.forEach((id, producer) -> {
            if (!producer.batches.isEmpty()) {
                last.put(id, producer.batches.peekLast().lastOffset());
            }
        });
        return last;
    }

    void clear() {
        producers.clear();
    }

    void writeSnapshot(Path path, long offset) throws IOException {
        int size = 12;
        for (Producer p : producers.values()) {
            size += 22 + p.batches.size() * 24;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putLong(offset).putInt(producers.size());
        for (Map.Entry<Long, Producer> e : producers.entrySet()) {
            Producer p = e.getValue();
            buffer.putLong(e.getKey()).putShort(p.epoch).putLong(p.lastTimestamp).putInt(p.batches.size());
            for (CachedBatch b : p.batches) {
                buffer.putInt(b.firstSequence()).putInt(b.lastSequence()).putLong(b.firstOffset()).putLong(b.lastOffset());
            }
        }
        MetadataFile.write(path, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, buffer.array());
    }

    /**
     * Replaces the state with a snapshot's.
     *
     * @return the offset the snapshot is valid at
     */
    long loadSnapshot(Path path) throws IOException {
        MetadataFile.Content content = MetadataFile.read(path, SNAPSHOT_MAGIC)
                .orElseThrow(() -> new IOException(path + " does not exist"));
        if (content.version() != SNAPSHOT_VERSION) {
            throw new IOException(path + ": unsupported producer snapshot version " + content.version());
        }
        ByteBuffer buffer = content.payload();
        producers.clear();
        long offset = buffer.getLong();
        int count = buffer.getInt();
        for (int i = 0; i < count; i++) {
            long id = buffer.getLong();
            Producer p = new Producer();
            p.epoch = buffer.getShort();
            p.lastTimestamp = buffer.getLong();
            int batches = buffer.getInt();
            for (int b = 0; b < batches; b++) {
                p.batches.addLast(new CachedBatch(buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong()));
            }
            producers.put(id, p);
        }
        return offset;
    }
}
