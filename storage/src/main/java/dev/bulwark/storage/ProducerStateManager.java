package dev.bulwark.storage;

import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Per-partition state of idempotent and transactional producers: each producer id's epoch, its last five batches (so
 * a retried batch is recognised as a duplicate and a gap in sequence numbers is refused), the epoch of the transaction
 * coordinator that last wrote a marker for it, and where its ongoing transaction began, as Kafka's broker keeps them.
 * The ongoing transactions' first offsets make the partition's first unstable offset.
 *
 * <p>Not thread-safe: the partition calls it under its append lock. The state is rebuilt after a restart from the
 * newest snapshot and the batches written after it (their headers carry producer id, epoch, sequences and the
 * transactional flag; control batches carry the markers).
 *
 * <p>Snapshot format ({@link MetadataFile} payload), version 2: i64 offset the state is valid at, i32 producer count,
 * then per producer: i64 id, i16 epoch, i32 coordinator epoch (-1 when no marker was written), i64 last timestamp,
 * i64 first offset of its ongoing transaction (-1 when none), i32 batch count, per batch: i32 first sequence,
 * i32 last sequence, i64 first offset, i64 last offset. Version 1, still read, lacks the coordinator epoch and the
 * ongoing transaction (it was written before transactions were accepted).
 */
final class ProducerStateManager {

    static final int CACHED_BATCHES = 5;
    static final int SNAPSHOT_MAGIC = 0x42575053; // "BWPS"
    static final byte SNAPSHOT_VERSION = 2;
    static final byte SNAPSHOT_VERSION_IDEMPOTENT_ONLY = 1;
    private static final long NO_TRANSACTION = -1;
    private static final int NO_COORDINATOR_EPOCH = -1;

    record CachedBatch(int firstSequence, int lastSequence, long firstOffset, long lastOffset) {
    }

    /**
     * A transaction that a marker ended.
     *
     * @param lastOffset       the marker's offset
     * @param lastStableOffset the first offset of the oldest transaction of another producer still open after it, or
     *                         the offset after the marker
     */
    record CompletedTransaction(long producerId, long firstOffset, long lastOffset, boolean aborted,
                                long lastStableOffset) {
    }

    private static final class Producer {
        short epoch;
        int coordinatorEpoch = NO_COORDINATOR_EPOCH;
        long lastTimestamp;
        long transactionFirstOffset = NO_TRANSACTION;
        final ArrayDeque<CachedBatch> batches = new ArrayDeque<>(CACHED_BATCHES);

        int lastSequence() {
            return batches.isEmpty() ? RecordBatch.NO_SEQUENCE : batches.peekLast().lastSequence();
        }
    }

    private final Map<Long, Producer> producers = new HashMap<>();
    /** The ongoing transactions: first offset to producer id. */
    private final TreeMap<Long, Long> ongoing = new TreeMap<>();

    /**
     * Checks a client batch before it is appended.
     *
     * @return the earlier append of the same batch when this one is a retry of it
     * @throws InvalidProducerEpochException when the epoch is older than the producer's current one
     * @throws OutOfOrderSequenceException when the sequence does not follow the producer's last one
     * @throws InvalidTxnStateException when a producer with an ongoing transaction writes outside it
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
        if (last == RecordBatch.NO_SEQUENCE && batch.baseSequence() != 0) {
            // A marker with a newer epoch bumped the producer's epoch: its sequences start again at 0.
            throw new OutOfOrderSequenceException("Producer " + batch.producerId() + " sent sequence "
                    + batch.baseSequence() + " as its first in epoch " + batch.producerEpoch() + " instead of 0");
        }
        if (last != RecordBatch.NO_SEQUENCE && !follows(last, batch.baseSequence())) {
            throw new OutOfOrderSequenceException("Producer " + batch.producerId() + " sent sequence "
                    + batch.baseSequence() + " after " + last + " (epoch " + batch.producerEpoch() + ")");
        }
        if (producer.transactionFirstOffset != NO_TRANSACTION && !batch.isTransactional()) {
            throw new InvalidTxnStateException("Expected a transactional write from producer " + batch.producerId()
                    + ", whose transaction is ongoing since offset " + producer.transactionFirstOffset);
        }
        return Optional.empty();
    }

    /**
     * Checks an end-transaction marker before it is appended, with Kafka's rules.
     *
     * @throws InvalidProducerEpochException         when the epoch is older than the producer's current one
     * @throws TransactionCoordinatorFencedException when an older coordinator than the last one writes it
     */
    void checkMarker(long producerId, short producerEpoch, int coordinatorEpoch) {
        Producer producer = producers.get(producerId);
        if (producer == null) {
            return; // a transaction that wrote nothing here, or a producer whose state expired: markers are harmless
        }
        if (producerEpoch < producer.epoch) {
            throw new InvalidProducerEpochException("Marker for producer " + producerId + " has epoch " + producerEpoch
                    + ", older than the current epoch " + producer.epoch);
        }
        if (coordinatorEpoch < producer.coordinatorEpoch) {
            throw new TransactionCoordinatorFencedException("Marker for producer " + producerId
                    + " comes from coordinator epoch " + coordinatorEpoch + ", older than "
                    + producer.coordinatorEpoch);
        }
    }

    private static boolean follows(int lastSequence, int nextSequence) {
        return nextSequence == lastSequence + 1 || (lastSequence == Integer.MAX_VALUE && nextSequence == 0);
    }

    /**
     * Records an appended data batch (offsets assigned); also used to replay batches from the log after a restart.
     *
     * @return whether the batch began a transaction (its base offset is then the transaction's first offset)
     */
    boolean update(BatchHeader batch) {
        if (!batch.hasProducerId() || batch.isControl()) {
            return false;
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
        if (batch.isTransactional() && producer.transactionFirstOffset == NO_TRANSACTION) {
            producer.transactionFirstOffset = batch.baseOffset();
            ongoing.put(batch.baseOffset(), batch.producerId());
            return true;
        }
        return false;
    }

    /**
     * Records an appended end-transaction marker (also replayed from the log after a restart): the producer takes the
     * marker's epoch (a newer one clears its batches, so its sequences start again at 0) and coordinator epoch, and
     * its ongoing transaction ends.
     *
     * @return the transaction it ended; empty when the producer had none here (Kafka writes markers to every
     *         partition of a transaction, including those it wrote nothing to, and such a marker changes no stable
     *         offset)
     */
    Optional<CompletedTransaction> completeTransaction(long producerId, short producerEpoch, int coordinatorEpoch,
                                                       long markerOffset, long timestamp, boolean aborted) {
        Producer producer = producers.computeIfAbsent(producerId, id -> new Producer());
        if (producerEpoch != producer.epoch) {
            producer.batches.clear();
            producer.epoch = producerEpoch;
        }
        producer.coordinatorEpoch = coordinatorEpoch;
        producer.lastTimestamp = Math.max(producer.lastTimestamp, timestamp);
        long firstOffset = producer.transactionFirstOffset;
        if (firstOffset == NO_TRANSACTION) {
            return Optional.empty();
        }
        producer.transactionFirstOffset = NO_TRANSACTION;
        ongoing.remove(firstOffset);
        long lastStableOffset = ongoing.isEmpty() ? markerOffset + 1 : ongoing.firstKey();
        return Optional.of(new CompletedTransaction(producerId, firstOffset, markerOffset, aborted, lastStableOffset));
    }

    /** The first offsets of the ongoing transactions, lowest first. */
    NavigableSet<Long> ongoingTransactionFirstOffsets() {
        return ongoing.navigableKeySet();
    }

    /**
     * Forgets producers idle for longer than {@code expirationMs} (Kafka's producer.id.expiration.ms), except those
     * with an ongoing transaction: its first offset holds the last stable offset back until a marker ends it.
     */
    int expire(long nowMs, long expirationMs) {
        int removed = 0;
        for (Iterator<Producer> it = producers.values().iterator(); it.hasNext(); ) {
            Producer producer = it.next();
            if (producer.transactionFirstOffset == NO_TRANSACTION && nowMs - producer.lastTimestamp >= expirationMs) {
                it.remove();
                removed++;
            }
        }
        return removed;
    }

    int size() {
        return producers.size();
    }

    /** Every producer the partition still knows (none expired), in no particular order. */
    List<ActiveProducer> activeProducers() {
        List<ActiveProducer> active = new ArrayList<>(producers.size());
        producers.forEach((id, p) -> active.add(new ActiveProducer(id, p.epoch, p.lastSequence(), p.lastTimestamp,
                p.coordinatorEpoch, p.transactionFirstOffset)));
        return active;
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
        ongoing.clear();
    }

    void writeSnapshot(Path path, long offset) throws IOException {
        int size = 12;
        for (Producer p : producers.values()) {
            size += 34 + p.batches.size() * 24;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putLong(offset).putInt(producers.size());
        for (Map.Entry<Long, Producer> e : producers.entrySet()) {
            Producer p = e.getValue();
            buffer.putLong(e.getKey()).putShort(p.epoch).putInt(p.coordinatorEpoch).putLong(p.lastTimestamp)
                    .putLong(p.transactionFirstOffset).putInt(p.batches.size());
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
        boolean transactional = content.version() == SNAPSHOT_VERSION;
        if (!transactional && content.version() != SNAPSHOT_VERSION_IDEMPOTENT_ONLY) {
            throw new IOException(path + ": unsupported producer snapshot version " + content.version());
        }
        ByteBuffer buffer = content.payload();
        clear();
        long offset = buffer.getLong();
        int count = buffer.getInt();
        for (int i = 0; i < count; i++) {
            long id = buffer.getLong();
            Producer p = new Producer();
            p.epoch = buffer.getShort();
            if (transactional) {
                p.coordinatorEpoch = buffer.getInt();
            }
            p.lastTimestamp = buffer.getLong();
            if (transactional) {
                p.transactionFirstOffset = buffer.getLong();
            }
            int batches = buffer.getInt();
            for (int b = 0; b < batches; b++) {
                p.batches.addLast(new CachedBatch(buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong()));
            }
            producers.put(id, p);
            if (p.transactionFirstOffset != NO_TRANSACTION) {
                ongoing.put(p.transactionFirstOffset, id);
            }
        }
        return offset;
    }
}
