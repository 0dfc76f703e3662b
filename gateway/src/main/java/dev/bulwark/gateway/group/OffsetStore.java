package dev.bulwark.gateway.group;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.cluster.KeyValueLog;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidGroupIdException;
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
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Committed offsets, kept durably: every commit is a record batch in an internal log of the log store (never visible
 * as a topic), answered once fsynced, and a snapshot of all offsets is written from time to time so that a restart
 * replays only the log written after it, and the log before it is dropped.
 *
 * <p>Record format (version 2): key = i16 version, i8 kind (0 = offset), UTF-8 tenant id, UTF-8 group, UTF-8 topic,
 * i32 partition (strings as i16 length + bytes; version 1 keys lack the tenant id and belong to the default tenant); value = i16 version, i64 offset, i32 leader epoch, UTF-8 metadata (i32 length),
 * i64 commit timestamp (value version 1); a null value deletes the key. The snapshot is a {@link MetadataFile} with the log offset it
 * covers up to and every group's offsets in the value format.
 *
 * <p>Commits are applied to the in-memory view when they are appended (under this store's lock, so in log order), and
 * acknowledged when durable.
 */
public final class OffsetStore {

    private static final Logger LOG = LoggerFactory.getLogger(OffsetStore.class);

    private static final short VERSION = 2;
    private static final short KEY_VERSION_WITHOUT_TENANT = 1;
    private static final short VALUE_VERSION = 1;
    private static final byte KIND_OFFSET = 0;
    private static final int SNAPSHOT_MAGIC = 0x42574F53; // "BWOS"
    private static final byte SNAPSHOT_VERSION = 1;

    private final PartitionLog log;
    private final Path snapshotFile;
    private final Clock clock;
    private final Map<GroupKey, Map<TopicPartition, CommittedOffset>> offsets = new HashMap<>();
    private long recordsSinceSnapshot;

    private OffsetStore(PartitionLog log, Path snapshotFile, Clock clock) {
        this.log = log;
        this.snapshotFile = snapshotFile;
        this.clock = clock;
    }

    /** Loads the newest snapshot and replays the log after it. */
    public static OffsetStore open(PartitionLog log, Path snapshotFile, Clock clock) throws IOException {
        OffsetStore store = new OffsetStore(log, snapshotFile, clock);
        long from = store.loadSnapshot();
        long replayed = KeyValueLog.replay(log, Math.max(from, log.logStartOffset()), store::apply);
        LOG.info("committed offsets of {} group(s) loaded ({} record(s) replayed after the snapshot)",
                store.offsets.size(), replayed);
        return store;
    }

    // ---------------------------------------------------------------- commands

    /**
     * Records offsets for a group; completes once they are durable.
     *
     * @throws InvalidGroupIdException when the group id is too long for the record format; nothing is written then
     */
    public synchronized CompletableFuture<Void> commit(GroupKey group, Map<TopicPartition, CommittedOffset> commits) {
        List<SimpleRecord> records = new ArrayList<>(commits.size());
        long now = clock.millis();
        commits.forEach((tp, offset) -> records.add(new SimpleRecord(now, key(group, tp), value(offset))));
        CompletableFuture<Void> durable = append(records);
        offsets.computeIfAbsent(group, g -> new HashMap<>()).putAll(commits);
        return durable;
    }

    /** Removes offsets of a group (all of them when {@code partitions} is null); completes once durable. */
    public synchronized CompletableFuture<Void> delete(GroupKey group, Collection<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> existing = offsets.get(group);
        if (existing == null) {
            return CompletableFuture.completedFuture(null);
        }
        Collection<TopicPartition> doomed = partitions == null ? new ArrayList<>(existing.keySet()) : partitions;
        List<SimpleRecord> tombstones = new ArrayList<>();
        long now = clock.millis();
        for (TopicPartition tp : doomed) {
            if (existing.containsKey(tp)) {
                tombstones.add(new SimpleRecord(now, key(group, tp), null));
            }
        }
        if (tombstones.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> durable = append(tombstones);
        doomed.forEach(existing::remove);
        if (existing.isEmpty()) {
            offsets.remove(group);
        }
        return durable;
    }

    private CompletableFuture<Void> append(List<SimpleRecord> records) {
        MemoryRecords batch = MemoryRecords.withRecords(Compression.NONE, records.toArray(SimpleRecord[]::new));
        long last = log.append(batch).lastOffset();
        recordsSinceSnapshot += records.size();
        return log.awaitHighWatermark(last);
    }

    // ---------------------------------------------------------------- queries

    public synchronized Map<TopicPartition, CommittedOffset> offsets(GroupKey group) {
        Map<TopicPartition, CommittedOffset> found = offsets.get(group);
        return found == null ? Map.of() : Map.copyOf(found);
    }

    public synchronized Optional<CommittedOffset> offset(GroupKey group, TopicPartition partition) {
        Map<TopicPartition, CommittedOffset> found = offsets.get(group);
        return Optional.ofNullable(found == null ? null : found.get(partition));
    }

    public synchronized Set<GroupKey> groups() {
        return Set.copyOf(offsets.keySet());
    }

    public synchronized boolean hasOffsets(GroupKey group) {
        return offsets.containsKey(group);
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Writes a snapshot if at least {@code minRecords} were appended since the last one, then drops the log before it.
     */
    public void maybeSnapshot(long minRecords) throws IOException {
        long upTo;
        byte[] payload;
        synchronized (this) {
            if (recordsSinceSnapshot < minRecords) {
                return;
            }
            upTo = log.logEndOffset();
            payload = encodeSnapshot(upTo);
            recordsSinceSnapshot = 0;
        }
        // The snapshot may only cover what is on disk: a restart replays the log from where it ends, so records it
        // claims but the disk lost would be re-appended at offsets the replay skips.
        log.sync();
        MetadataFile.write(snapshotFile, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, payload);
        log.advanceLogStartOffset(upTo);
        log.applyRetention();
        LOG.debug("offsets snapshot written up to log offset {}", upTo);
    }

    private byte[] encodeSnapshot(long upTo) {
        List<byte[]> entries = new ArrayList<>();
        for (Map.Entry<GroupKey, Map<TopicPartition, CommittedOffset>> group : offsets.entrySet()) {
            for (Map.Entry<TopicPartition, CommittedOffset> e : group.getValue().entrySet()) {
                byte[] key = key(group.getKey(), e.getKey());
                byte[] value = value(e.getValue());
                entries.add(key);
                entries.add(value);
            }
        }
        return KeyValueLog.encodeSnapshot(upTo, entries);
    }

    private long loadSnapshot() throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(snapshotFile, SNAPSHOT_MAGIC);
        if (content.isEmpty()) {
            return 0;
        }
        if (content.get().version() != SNAPSHOT_VERSION) {
            throw new IOException(snapshotFile + ": unsupported offsets snapshot version " + content.get().version());
        }
        return KeyValueLog.decodeSnapshot(content.get().payload(), this::apply);
    }

    private void apply(ByteBuffer key, ByteBuffer value) {
        short keyVersion = key.getShort();
        byte kind = key.get();
        if ((keyVersion != VERSION && keyVersion != KEY_VERSION_WITHOUT_TENANT) || kind != KIND_OFFSET) {
            throw new IllegalStateException("unknown offsets record (version " + keyVersion + ", kind " + kind + ")");
        }
        String tenantId = keyVersion == VERSION ? getString(key) : Tenant.DEFAULT_ID;
        GroupKey group = new GroupKey(tenantId, getString(key));
        TopicPartition tp = new TopicPartition(getString(key), key.getInt());
        if (value == null) {
            Map<TopicPartition, CommittedOffset> existing = offsets.get(group);
            if (existing != null) {
                existing.remove(tp);
                if (existing.isEmpty()) {
                    offsets.remove(group);
                }
            }
            return;
        }
        short valueVersion = value.getShort();
        if (valueVersion != VALUE_VERSION) {
            throw new IllegalStateException("unknown offsets value version " + valueVersion);
        }
        long offset = value.getLong();
        int epoch = value.getInt();
        byte[] metadata = new byte[value.getInt()];
        value.get(metadata);
        long timestamp = value.getLong();
        offsets.computeIfAbsent(group, g -> new HashMap<>()).put(tp,
                new CommittedOffset(offset, epoch, new String(metadata, StandardCharsets.UTF_8), timestamp));
    }

    // ---------------------------------------------------------------- encoding

    private static byte[] key(GroupKey group, TopicPartition tp) {
        byte[] tenant = group.tenantId().getBytes(StandardCharsets.UTF_8);
        byte[] g = group.groupId().getBytes(StandardCharsets.UTF_8);
        byte[] t = tp.topic().getBytes(StandardCharsets.UTF_8);
        if (g.length > Short.MAX_VALUE || t.length > Short.MAX_VALUE) {
            // Flexible request versions carry longer strings than the i16 lengths here hold; a wrapped length would
            // be written and fail the replay of every later start.
            throw new InvalidGroupIdException("A group id of " + g.length + " bytes (or a topic name of " + t.length
                    + ") is longer than committed offsets can be stored with (" + Short.MAX_VALUE + " bytes)");
        }
        return ByteBuffer.allocate(2 + 1 + 2 + tenant.length + 2 + g.length + 2 + t.length + 4)
                .putShort(VERSION).put(KIND_OFFSET)
                .putShort((short) tenant.length).put(tenant)
                .putShort((short) g.length).put(g)
                .putShort((short) t.length).put(t)
                .putInt(tp.partition()).array();
    }

    private static byte[] value(CommittedOffset offset) {
        byte[] metadata = offset.metadata() == null ? new byte[0] : offset.metadata().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 8 + 4 + 4 + metadata.length + 8)
                .putShort(VALUE_VERSION).putLong(offset.offset()).putInt(offset.leaderEpoch())
                .putInt(metadata.length).put(metadata).putLong(offset.commitTimestamp()).array();
    }

    private static String getString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getShort()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
