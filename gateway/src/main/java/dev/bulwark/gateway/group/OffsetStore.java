package dev.bulwark.gateway.group;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.cluster.KeyValueLog;
import dev.bulwark.gateway.cluster.LogSnapshots;
import dev.bulwark.storage.AppendResult;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
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
import java.util.HashSet;
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
 * <p>Transactional offset commits (TxnOffsetCommit, KIP-98) are kept apart, as pending for the producer id whose
 * transaction they belong to, until the transaction coordinator completes that transaction for the group: on commit
 * each pending offset becomes the committed one, unless the committed one was written after it (as in Kafka, the most
 * recent write wins when plain and transactional commits mix); on abort they are dropped. The completion is a record
 * too, so a restart finds pending offsets pending until their completion record.
 *
 * <p>Record format: key = i16 key version, i8 kind, then by kind (strings as i16 length + UTF-8 bytes):
 * <ul>
 *   <li>kind 0, committed offset: tenant id, group, topic, i32 partition (key version 1 keys lack the tenant id and
 *   belong to the default tenant); value = the offset value, or null, which deletes the partition's committed offset
 *   and every pending transactional offset of it (as a Kafka tombstone does);</li>
 *   <li>kind 1, pending transactional offset (key version 2): tenant id, group, i64 producer id, topic, i32 partition;
 *   value = the offset value, never null;</li>
 *   <li>kind 2, end of a transaction for the group (key version 2): tenant id, group, i64 producer id; value = i16
 *   end value version (1), i8 result (0 = abort, 1 = commit).</li>
 * </ul>
 * The offset value (value version 1): i16 version, i64 offset, i32 leader epoch, UTF-8 metadata (i32 length), i64
 * commit timestamp. Kinds 1 and 2 came without a key version bump: the kind byte tells them apart, and every older
 * record stays readable.
 *
 * <p>The snapshot is a {@link SealedFiles} file ("BWOS", version 3) sealed under the broker's key
 * ({@link KeyOwner#SYSTEM}), since group names, topic names and offset metadata are what it holds: the log offset
 * it covers up to and one entry per committed and pending offset: its key in the record format and, as its value,
 * the i64 log offset of the record that wrote it followed by the offset value. Versions 1 and 2 were unsealed and are
 * refused: no released version wrote them.
 *
 * <p>Commits are applied to the in-memory view when they are appended (under this store's lock, so in log order), and
 * acknowledged when durable.
 */
public final class OffsetStore {

    private static final Logger LOG = LoggerFactory.getLogger(OffsetStore.class);

    private static final short VERSION = 2;
    private static final short KEY_VERSION_WITHOUT_TENANT = 1;
    private static final short VALUE_VERSION = 1;
    private static final short END_VALUE_VERSION = 1;
    private static final byte KIND_OFFSET = 0;
    private static final byte KIND_PENDING_OFFSET = 1;
    private static final byte KIND_TRANSACTION_END = 2;
    private static final byte RESULT_ABORT = 0;
    private static final byte RESULT_COMMIT = 1;
    private static final int SNAPSHOT_MAGIC = 0x42574F53; // "BWOS"
    private static final byte SNAPSHOT_VERSION = 3;

    private final PartitionLog log;
    private final LogSnapshots snapshots;
    private final Clock clock;
    private final Map<GroupKey, Map<TopicPartition, Written>> offsets = new HashMap<>();
    /** Per group, per producer id with a transaction open, the offsets it committed in that transaction. */
    private final Map<GroupKey, Map<Long, Map<TopicPartition, Written>>> pending = new HashMap<>();

    /** An offset and the log offset of the record that wrote it, which decides which of two writes is the later. */
    private record Written(CommittedOffset offset, long position) {
    }

    private OffsetStore(PartitionLog log, Path snapshotFile, SealedFiles sealedFiles, Clock clock) {
        this.log = log;
        this.snapshots = new LogSnapshots(log, sealedFiles, snapshotFile, SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
        this.clock = clock;
    }

    /** Loads the newest snapshot and replays the log after it. */
    public static OffsetStore open(PartitionLog log, Path snapshotFile, SealedFiles sealedFiles, Clock clock)
            throws IOException {
        OffsetStore store = new OffsetStore(log, snapshotFile, sealedFiles, clock);
        long from = store.loadSnapshot();
        long replayed = KeyValueLog.replay(log, Math.max(from, log.logStartOffset()), store::apply);
        LOG.info("committed offsets of {} group(s) loaded, {} with transactional offsets pending ({} record(s) "
                + "replayed after the snapshot)", store.offsets.size(), store.pending.size(), replayed);
        return store;
    }

    // ---------------------------------------------------------------- commands

    /**
     * Records offsets for a group; completes once they are durable.
     *
     * @throws InvalidGroupIdException when the group id is too long for the record format; nothing is written then
     */
    public synchronized CompletableFuture<Void> commit(GroupKey group, Map<TopicPartition, CommittedOffset> commits) {
        List<TopicPartition> partitions = List.copyOf(commits.keySet());
        List<SimpleRecord> records = new ArrayList<>(partitions.size());
        long now = clock.millis();
        partitions.forEach(tp -> records.add(new SimpleRecord(now, key(group, tp), value(commits.get(tp)))));
        AppendResult appended = append(records);
        for (int i = 0; i < partitions.size(); i++) {
            applyCommit(group, partitions.get(i), commits.get(partitions.get(i)), appended.firstOffset() + i);
        }
        return durable(appended);
    }

    /**
     * Records offsets a producer commits for a group inside its transaction: pending, invisible to
     * {@link #offsets}, until {@link #completeTransaction}. Completes once they are durable.
     *
     * @throws InvalidGroupIdException when the group id is too long for the record format; nothing is written then
     */
    public synchronized CompletableFuture<Void> commitPending(GroupKey group, long producerId,
                                                              Map<TopicPartition, CommittedOffset> commits) {
        List<TopicPartition> partitions = List.copyOf(commits.keySet());
        List<SimpleRecord> records = new ArrayList<>(partitions.size());
        long now = clock.millis();
        partitions.forEach(tp -> records.add(new SimpleRecord(now, pendingKey(group, producerId, tp),
                value(commits.get(tp)))));
        AppendResult appended = append(records);
        for (int i = 0; i < partitions.size(); i++) {
            applyPending(group, producerId, partitions.get(i), commits.get(partitions.get(i)),
                    appended.firstOffset() + i);
        }
        return durable(appended);
    }

    /**
     * Ends a producer's transaction for a group: its pending offsets are committed or dropped. Completes once that is
     * durable; with nothing pending (a retry, or a transaction that committed no offsets for the group) nothing is
     * written, and it completes once everything written before is durable, the completion of a first attempt with it.
     */
    public synchronized CompletableFuture<Void> completeTransaction(GroupKey group, long producerId, boolean commit) {
        Map<Long, Map<TopicPartition, Written>> producers = pending.get(group);
        if (producers == null || !producers.containsKey(producerId)) {
            long end = log.logEndOffset();
            return end == 0 ? CompletableFuture.completedFuture(null) : log.awaitHighWatermark(end - 1);
        }
        AppendResult appended = append(List.of(new SimpleRecord(clock.millis(), endKey(group, producerId),
                endValue(commit))));
        applyEnd(group, producerId, commit);
        return durable(appended);
    }

    /**
     * Removes offsets of a group (all of them when {@code partitions} is null), committed and pending alike, as
     * Kafka's tombstones do; completes once durable.
     */
    public synchronized CompletableFuture<Void> delete(GroupKey group, Collection<TopicPartition> partitions) {
        Set<TopicPartition> existing = partitionsOf(group);
        Collection<TopicPartition> doomed = partitions == null ? existing : partitions;
        List<TopicPartition> deleted = new ArrayList<>();
        List<SimpleRecord> tombstones = new ArrayList<>();
        long now = clock.millis();
        for (TopicPartition tp : doomed) {
            if (existing.contains(tp)) {
                deleted.add(tp);
                tombstones.add(new SimpleRecord(now, key(group, tp), null));
            }
        }
        if (tombstones.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        AppendResult appended = append(tombstones);
        deleted.forEach(tp -> applyTombstone(group, tp));
        return durable(appended);
    }

    private AppendResult append(List<SimpleRecord> records) {
        MemoryRecords batch = MemoryRecords.withRecords(Compression.NONE, records.toArray(SimpleRecord[]::new));
        AppendResult appended = log.append(batch);
        snapshots.appended(records.size());
        return appended;
    }

    private CompletableFuture<Void> durable(AppendResult appended) {
        return log.awaitHighWatermark(appended.lastOffset());
    }

    // ---------------------------------------------------------------- queries

    public synchronized Map<TopicPartition, CommittedOffset> offsets(GroupKey group) {
        Map<TopicPartition, Written> found = offsets.get(group);
        if (found == null) {
            return Map.of();
        }
        Map<TopicPartition, CommittedOffset> copy = new HashMap<>();
        found.forEach((tp, written) -> copy.put(tp, written.offset()));
        return copy;
    }

    public synchronized Optional<CommittedOffset> offset(GroupKey group, TopicPartition partition) {
        Map<TopicPartition, Written> found = offsets.get(group);
        return Optional.ofNullable(found == null ? null : found.get(partition)).map(Written::offset);
    }

    /** The offsets a producer's open transaction committed for a group (not yet visible in {@link #offsets}). */
    public synchronized Map<TopicPartition, CommittedOffset> pendingOffsets(GroupKey group, long producerId) {
        Map<TopicPartition, Written> found = pending.getOrDefault(group, Map.of()).get(producerId);
        if (found == null) {
            return Map.of();
        }
        Map<TopicPartition, CommittedOffset> copy = new HashMap<>();
        found.forEach((tp, written) -> copy.put(tp, written.offset()));
        return copy;
    }

    /** Whether some open transaction committed an offset of this partition for the group (KIP-447's unstable). */
    public synchronized boolean hasPending(GroupKey group, TopicPartition partition) {
        Map<Long, Map<TopicPartition, Written>> producers = pending.get(group);
        if (producers == null) {
            return false;
        }
        for (Map<TopicPartition, Written> offsetsOfProducer : producers.values()) {
            if (offsetsOfProducer.containsKey(partition)) {
                return true;
            }
        }
        return false;
    }

    /** Whether some open transaction committed offsets for the group. */
    public synchronized boolean hasPending(GroupKey group) {
        return pending.containsKey(group);
    }

    /** Groups with committed or pending offsets. */
    public synchronized Set<GroupKey> groups() {
        Set<GroupKey> all = new HashSet<>(offsets.keySet());
        all.addAll(pending.keySet());
        return Set.copyOf(all);
    }

    /** The partitions a group has a committed or a pending offset for. */
    public synchronized Set<TopicPartition> partitions(GroupKey group) {
        return Set.copyOf(partitionsOf(group));
    }

    public synchronized boolean hasOffsets(GroupKey group) {
        return offsets.containsKey(group);
    }

    private Set<TopicPartition> partitionsOf(GroupKey group) {
        Set<TopicPartition> all = new HashSet<>(offsets.getOrDefault(group, Map.of()).keySet());
        pending.getOrDefault(group, Map.of()).values().forEach(p -> all.addAll(p.keySet()));
        return all;
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Writes a snapshot if at least {@code minRecords} were appended since the last one (0: now), then drops the log
     * before it. Snapshots are serialised: one that covered less, written after one that covered more, would claim a
     * log start it does not hold.
     */
    public void maybeSnapshot(long minRecords) throws IOException {
        if (snapshots.maybeWrite(minRecords, this, this::encodeSnapshot)) {
            LOG.debug("offsets snapshot written");
        }
    }

    private byte[] encodeSnapshot(long upTo) {
        List<byte[]> entries = new ArrayList<>();
        offsets.forEach((group, partitions) -> partitions.forEach((tp, written) -> {
            entries.add(key(group, tp));
            entries.add(snapshotValue(written));
        }));
        pending.forEach((group, producers) -> producers.forEach((producerId, partitions) ->
                partitions.forEach((tp, written) -> {
                    entries.add(pendingKey(group, producerId, tp));
                    entries.add(snapshotValue(written));
                })));
        return KeyValueLog.encodeSnapshot(upTo, entries);
    }

    private static byte[] snapshotValue(Written written) {
        byte[] value = value(written.offset());
        return ByteBuffer.allocate(8 + value.length).putLong(written.position()).put(value).array();
    }

    private long loadSnapshot() throws IOException {
        Optional<ByteBuffer> payload = snapshots.read();
        if (payload.isEmpty()) {
            return 0;
        }
        return KeyValueLog.decodeSnapshot(payload.get(), (key, value) -> apply(value.getLong(), key, value));
    }

    // ---------------------------------------------------------------- replay

    /** Applies a record of the log (or an entry of a snapshot) written at log offset {@code position}. */
    private void apply(long position, ByteBuffer key, ByteBuffer value) {
        short keyVersion = key.getShort();
        byte kind = key.get();
        boolean knownVersion = keyVersion == VERSION || (keyVersion == KEY_VERSION_WITHOUT_TENANT && kind == KIND_OFFSET);
        if (!knownVersion || kind < KIND_OFFSET || kind > KIND_TRANSACTION_END) {
            throw new IllegalStateException("unknown offsets record (version " + keyVersion + ", kind " + kind + ")");
        }
        String tenantId = keyVersion == VERSION ? getString(key) : Tenant.DEFAULT_ID;
        GroupKey group = new GroupKey(tenantId, getString(key));
        switch (kind) {
            case KIND_OFFSET -> {
                TopicPartition tp = new TopicPartition(getString(key), key.getInt());
                if (value == null) {
                    applyTombstone(group, tp);
                } else {
                    applyCommit(group, tp, readValue(value), position);
                }
            }
            case KIND_PENDING_OFFSET -> {
                long producerId = key.getLong();
                TopicPartition tp = new TopicPartition(getString(key), key.getInt());
                applyPending(group, producerId, tp, readValue(value), position);
            }
            default -> {
                long producerId = key.getLong();
                short valueVersion = value.getShort();
                if (valueVersion != END_VALUE_VERSION) {
                    throw new IllegalStateException("unknown transaction end value version " + valueVersion);
                }
                applyEnd(group, producerId, value.get() == RESULT_COMMIT);
            }
        }
    }

    private void applyCommit(GroupKey group, TopicPartition tp, CommittedOffset offset, long position) {
        offsets.computeIfAbsent(group, g -> new HashMap<>()).put(tp, new Written(offset, position));
    }

    private void applyPending(GroupKey group, long producerId, TopicPartition tp, CommittedOffset offset,
                              long position) {
        pending.computeIfAbsent(group, g -> new HashMap<>()).computeIfAbsent(producerId, p -> new HashMap<>())
                .put(tp, new Written(offset, position));
    }

    private void applyEnd(GroupKey group, long producerId, boolean commit) {
        Map<Long, Map<TopicPartition, Written>> producers = pending.get(group);
        Map<TopicPartition, Written> ended = producers == null ? null : producers.remove(producerId);
        if (ended == null) {
            return;
        }
        if (producers.isEmpty()) {
            pending.remove(group);
        }
        if (!commit) {
            return;
        }
        Map<TopicPartition, Written> committed = offsets.computeIfAbsent(group, g -> new HashMap<>());
        ended.forEach((tp, written) -> committed.merge(tp, written,
                (current, transactional) -> transactional.position() > current.position() ? transactional : current));
    }

    private void applyTombstone(GroupKey group, TopicPartition tp) {
        Map<TopicPartition, Written> existing = offsets.get(group);
        if (existing != null) {
            existing.remove(tp);
            if (existing.isEmpty()) {
                offsets.remove(group);
            }
        }
        Map<Long, Map<TopicPartition, Written>> producers = pending.get(group);
        if (producers != null) {
            producers.values().forEach(p -> p.remove(tp));
            producers.values().removeIf(Map::isEmpty);
            if (producers.isEmpty()) {
                pending.remove(group);
            }
        }
    }

    private static CommittedOffset readValue(ByteBuffer value) {
        short valueVersion = value.getShort();
        if (valueVersion != VALUE_VERSION) {
            throw new IllegalStateException("unknown offsets value version " + valueVersion);
        }
        long offset = value.getLong();
        int epoch = value.getInt();
        byte[] metadata = new byte[value.getInt()];
        value.get(metadata);
        long timestamp = value.getLong();
        return new CommittedOffset(offset, epoch, new String(metadata, StandardCharsets.UTF_8), timestamp);
    }

    // ---------------------------------------------------------------- encoding

    private static byte[] key(GroupKey group, TopicPartition tp) {
        return encodeKey(KIND_OFFSET, group, null, tp);
    }

    private static byte[] pendingKey(GroupKey group, long producerId, TopicPartition tp) {
        return encodeKey(KIND_PENDING_OFFSET, group, producerId, tp);
    }

    private static byte[] endKey(GroupKey group, long producerId) {
        return encodeKey(KIND_TRANSACTION_END, group, producerId, null);
    }

    /** A key of {@code kind}: tenant and group, then the producer id and the partition where the kind has them. */
    private static byte[] encodeKey(byte kind, GroupKey group, Long producerId, TopicPartition tp) {
        byte[] tenant = group.tenantId().getBytes(StandardCharsets.UTF_8);
        byte[] g = group.groupId().getBytes(StandardCharsets.UTF_8);
        byte[] t = tp == null ? new byte[0] : tp.topic().getBytes(StandardCharsets.UTF_8);
        if (g.length > Short.MAX_VALUE || t.length > Short.MAX_VALUE) {
            // Flexible request versions carry longer strings than the i16 lengths here hold; a wrapped length would
            // be written and fail the replay of every later start.
            throw new InvalidGroupIdException("A group id of " + g.length + " bytes (or a topic name of " + t.length
                    + ") is longer than committed offsets can be stored with (" + Short.MAX_VALUE + " bytes)");
        }
        ByteBuffer key = ByteBuffer.allocate(2 + 1 + 2 + tenant.length + 2 + g.length
                        + (producerId == null ? 0 : 8) + (tp == null ? 0 : 2 + t.length + 4))
                .putShort(VERSION).put(kind)
                .putShort((short) tenant.length).put(tenant)
                .putShort((short) g.length).put(g);
        if (producerId != null) {
            key.putLong(producerId);
        }
        if (tp != null) {
            key.putShort((short) t.length).put(t).putInt(tp.partition());
        }
        return key.array();
    }

    private static byte[] value(CommittedOffset offset) {
        byte[] metadata = offset.metadata() == null ? new byte[0] : offset.metadata().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 8 + 4 + 4 + metadata.length + 8)
                .putShort(VALUE_VERSION).putLong(offset.offset()).putInt(offset.leaderEpoch())
                .putInt(metadata.length).put(metadata).putLong(offset.commitTimestamp()).array();
    }

    private static byte[] endValue(boolean commit) {
        return ByteBuffer.allocate(2 + 1).putShort(END_VALUE_VERSION).put(commit ? RESULT_COMMIT : RESULT_ABORT)
                .array();
    }

    private static String getString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getShort()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
