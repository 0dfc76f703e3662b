package dev.bulwark.gateway.txn;

import dev.bulwark.gateway.cluster.KeyValueLog;
import dev.bulwark.gateway.cluster.LogSnapshots;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The transaction coordinator's durable memory, Bulwark's {@code __transaction_state}: every change of a transactional
 * id's metadata is a record in an internal log of the log store (never visible as a topic), and a change counts only
 * once it is fsynced. A snapshot of every transactional id is written from time to time, so a restart replays only the
 * log after it, and the log before it is dropped.
 *
 * <p>Record format (version 1), strings as i32 length + UTF-8 bytes: key = i16 version, tenant id, transactional id;
 * value = i16 version, i64 producer id, i64 last producer id, i16 producer epoch, i16 last producer epoch, i32
 * time-out ms, i8 state id ({@link TransactionState#id()}), i64 start timestamp, i64 last update timestamp, i32
 * partition count, then per partition topic + i32 partition, i32 group count, then per group its id; a null value
 * removes the transactional id. The snapshot is a {@link SealedFiles} file ("BWTS", version 2) sealed under the
 * broker's key ({@link KeyOwner#SYSTEM}), since transactional ids and topic names are what it holds; version 1 was
 * unsealed and is refused (no released version wrote it). It holds a {@link KeyValueLog} snapshot: i64 log offset it covers up to, i32 entry count, then per entry i32 key length + key,
 * i32 value length + value, in the record format.
 *
 * <p>Changes are applied to this log's view when appended (under its lock, so in log order) and acknowledged when
 * durable; the coordinator serves a change only after that.
 */
public final class TransactionLog {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionLog.class);

    private static final short KEY_VERSION = 1;
    private static final short VALUE_VERSION = 1;
    private static final int SNAPSHOT_MAGIC = 0x42575453; // "BWTS"
    private static final byte SNAPSHOT_VERSION = 2;

    private final PartitionLog log;
    private final LogSnapshots snapshots;
    private final Clock clock;
    private final Map<TransactionalIdKey, TransactionMetadata> written = new HashMap<>();

    private TransactionLog(PartitionLog log, Path snapshotFile, SealedFiles sealedFiles, Clock clock) {
        this.log = log;
        this.snapshots = new LogSnapshots(log, sealedFiles, snapshotFile, SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
        this.clock = clock;
    }

    /** Loads the newest snapshot and replays the log after it. */
    public static TransactionLog open(PartitionLog log, Path snapshotFile, SealedFiles sealedFiles, Clock clock)
            throws IOException {
        TransactionLog store = new TransactionLog(log, snapshotFile, sealedFiles, clock);
        long from = store.loadSnapshot();
        long replayed = KeyValueLog.replay(log, Math.max(from, log.logStartOffset()), store::apply);
        LOG.info("metadata of {} transactional id(s) loaded ({} record(s) replayed after the snapshot)",
                store.written.size(), replayed);
        return store;
    }

    /** Records a transactional id's new metadata; completes once it is durable. */
    public synchronized CompletableFuture<Void> write(TransactionalIdKey key, TransactionMetadata metadata) {
        if (metadata.state() == TransactionState.PREPARE_EPOCH_FENCE) {
            throw new IllegalArgumentException("A fence is never written; the abort that follows it is");
        }
        CompletableFuture<Void> durable = append(new SimpleRecord(clock.millis(), key(key), value(metadata)));
        written.put(key, metadata);
        return durable;
    }

    /** Forgets a transactional id (once expired); completes once durable. */
    public synchronized CompletableFuture<Void> remove(TransactionalIdKey key) {
        if (!written.containsKey(key)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> durable = append(new SimpleRecord(clock.millis(), key(key), null));
        written.remove(key);
        return durable;
    }

    private CompletableFuture<Void> append(SimpleRecord record) {
        long last = log.append(MemoryRecords.withRecords(Compression.NONE, record)).lastOffset();
        snapshots.appended(1);
        return log.awaitHighWatermark(last);
    }

    /** Every transactional id as last written. */
    public synchronized Map<TransactionalIdKey, TransactionMetadata> all() {
        return Map.copyOf(written);
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Writes a snapshot if at least {@code minRecords} were appended since the last one (0: now), then drops the log
     * before it. Snapshots are serialised: one that covered less, written after one that covered more, would claim a
     * log start it does not hold.
     */
    public void maybeSnapshot(long minRecords) throws IOException {
        if (snapshots.maybeWrite(minRecords, this, this::encodeSnapshot)) {
            LOG.debug("transaction state snapshot written");
        }
    }

    private byte[] encodeSnapshot(long upTo) {
        List<byte[]> entries = new ArrayList<>();
        for (Map.Entry<TransactionalIdKey, TransactionMetadata> e : written.entrySet()) {
            byte[] key = key(e.getKey());
            byte[] value = value(e.getValue());
            entries.add(key);
            entries.add(value);
        }
        return KeyValueLog.encodeSnapshot(upTo, entries);
    }

    private long loadSnapshot() throws IOException {
        Optional<ByteBuffer> payload = snapshots.read();
        if (payload.isEmpty()) {
            return 0;
        }
        return KeyValueLog.decodeSnapshot(payload.get(), this::apply);
    }

    private void apply(ByteBuffer key, ByteBuffer value) {
        short keyVersion = key.getShort();
        if (keyVersion != KEY_VERSION) {
            throw new IllegalStateException("unknown transaction state key version " + keyVersion);
        }
        TransactionalIdKey id = new TransactionalIdKey(getString(key), getString(key));
        if (value == null) {
            written.remove(id);
            return;
        }
        written.put(id, decodeValue(value));
    }

    // ---------------------------------------------------------------- encoding

    static byte[] key(TransactionalIdKey key) {
        byte[] tenant = key.tenantId().getBytes(StandardCharsets.UTF_8);
        byte[] id = key.transactionalId().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 4 + tenant.length + 4 + id.length)
                .putShort(KEY_VERSION)
                .putInt(tenant.length).put(tenant)
                .putInt(id.length).put(id).array();
    }

    static byte[] value(TransactionMetadata m) {
        List<byte[]> topics = new ArrayList<>();
        int size = 2 + 8 + 8 + 2 + 2 + 4 + 1 + 8 + 8 + 4 + 4;
        for (TopicPartition tp : m.partitions()) {
            byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
            topics.add(topic);
            size += 4 + topic.length + 4;
        }
        List<byte[]> groups = new ArrayList<>();
        for (String group : m.groups()) {
            byte[] bytes = group.getBytes(StandardCharsets.UTF_8);
            groups.add(bytes);
            size += 4 + bytes.length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size)
                .putShort(VALUE_VERSION)
                .putLong(m.producerId()).putLong(m.lastProducerId())
                .putShort(m.producerEpoch()).putShort(m.lastProducerEpoch())
                .putInt(m.timeoutMs()).put(m.state().id())
                .putLong(m.startTimestamp()).putLong(m.lastUpdateTimestamp())
                .putInt(m.partitions().size());
        int i = 0;
        for (TopicPartition tp : m.partitions()) {
            byte[] topic = topics.get(i++);
            buffer.putInt(topic.length).put(topic).putInt(tp.partition());
        }
        buffer.putInt(groups.size());
        for (byte[] group : groups) {
            buffer.putInt(group.length).put(group);
        }
        return buffer.array();
    }

    static TransactionMetadata decodeValue(ByteBuffer value) {
        short version = value.getShort();
        if (version != VALUE_VERSION) {
            throw new IllegalStateException("unknown transaction state value version " + version);
        }
        long producerId = value.getLong();
        long lastProducerId = value.getLong();
        short epoch = value.getShort();
        short lastEpoch = value.getShort();
        int timeoutMs = value.getInt();
        TransactionState state = TransactionState.fromId(value.get());
        long start = value.getLong();
        long lastUpdate = value.getLong();
        int partitionCount = value.getInt();
        Set<TopicPartition> partitions = new HashSet<>();
        for (int i = 0; i < partitionCount; i++) {
            partitions.add(new TopicPartition(getString(value), value.getInt()));
        }
        int groupCount = value.getInt();
        Set<String> groups = new HashSet<>();
        for (int i = 0; i < groupCount; i++) {
            groups.add(getString(value));
        }
        return new TransactionMetadata(producerId, lastProducerId, epoch, lastEpoch, timeoutMs, state, partitions,
                groups, start, lastUpdate);
    }

    private static String getString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
