package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.DataKey;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.WrappedDataKey;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * How one partition seals what it stores: its owner's data keys from the keyring, and the associated data that binds
 * each sealed range to the owner, the topic id and the partition (plus the segment and the offset).
 *
 * <p>Associated data of a batch ({@link Frame}):
 * <pre>
 * "bulwark/batch/v1" (16 bytes), u8 owner id length, owner id (US-ASCII), i64 + i64 topic id, i32 partition,
 * i64 segment base offset, i64 batch base offset, i32 last offset delta
 * </pre>
 * Associated data of a sealed file payload (segment index, producer snapshot), sealed under the data key of the
 * segment it belongs to with a random nonce (such files are rewritten rarely, far below the 2<sup>32</sup> seals
 * random nonces allow, and the 96-bit random nonce colliding with a batch's deterministic one is negligible):
 * <pre>
 * "bulwark/" kind "/v1", u8 owner id length, owner id, i64 + i64 topic id, i32 partition, i64 segment base offset,
 * i64 the file's offset (its name)
 * </pre>
 * A sealed payload is stored as the 12-byte nonce, the ciphertext and the 16-byte tag.
 *
 * <p>Thread-safe.
 */
final class PartitionSealing {

    private static final byte[] BATCH_LABEL = "bulwark/batch/v1".getBytes(StandardCharsets.US_ASCII);

    private final AtRestKeys keys;
    private final KeyOwner owner;
    private final PartitionId id;
    private final boolean sealsBatches;
    /** Owner, topic and partition as they follow the label in every associated data. */
    private final byte[] scope;

    PartitionSealing(AtRestKeys keys, KeyOwner owner, PartitionId id) {
        this(keys, owner, id, true);
    }

    PartitionSealing(AtRestKeys keys, KeyOwner owner, PartitionId id, boolean sealsBatches) {
        this.keys = keys;
        this.owner = owner;
        this.id = id;
        this.sealsBatches = sealsBatches;
        byte[] ownerId = owner.id().getBytes(StandardCharsets.US_ASCII);
        this.scope = ByteBuffer.allocate(1 + ownerId.length + 16 + 4).put((byte) ownerId.length).put(ownerId)
                .putLong(id.topicId().getMostSignificantBits()).putLong(id.topicId().getLeastSignificantBits())
                .putInt(id.partition()).array();
    }

    KeyOwner owner() {
        return owner;
    }

    /**
     * Whether new segments seal their batches: false only when the store is told not to
     * ({@link StorageSettings#sealBatches}), to measure what sealing costs. Indexes, snapshots and topic metadata are
     * sealed either way.
     */
    boolean sealsBatches() {
        return sealsBatches;
    }

    PartitionId id() {
        return id;
    }

    AesGcm gcm() {
        return keys.gcm();
    }

    /**
     * A fresh data key for a new segment.
     *
     * @throws IOException when the owner was crypto-shredded (nothing of it may be written again) or the keyring
     *                     cannot record its first key
     */
    DataKey newDataKey() throws IOException {
        try {
            return keys.keyring().newDataKey(owner);
        } catch (KeyDestroyedException e) {
            throw new IOException("partition " + id + " cannot get a data key: " + e.getMessage(), e);
        }
    }

    /** The data key a segment header holds, which must be this partition's owner's. */
    DataKey openDataKey(WrappedDataKey wrapped) throws KeyUnavailableException, KeyUnwrapException {
        return keys.keyring().open(owner, wrapped);
    }

    /** {@code wrapped} under the owner's current KEK version ({@code wrapped} itself when it is already). */
    WrappedDataKey rewrap(WrappedDataKey wrapped) throws KeyUnavailableException, KeyUnwrapException {
        if (!wrapped.owner().equals(owner)) {
            throw new KeyUnwrapException("a data key of owner " + wrapped.owner() + " in a segment of " + owner);
        }
        return keys.keyring().rewrap(wrapped);
    }

    /** The length of a batch's associated data. */
    int batchAssociatedDataLength() {
        return BATCH_LABEL.length + scope.length + 8 + 8 + 4;
    }

    /** Fills {@code out} (cleared first) with a batch's associated data and flips it. */
    ByteBuffer batchAssociatedData(ByteBuffer out, long segmentBase, long baseOffset, int lastOffsetDelta) {
        out.clear();
        return out.put(BATCH_LABEL).put(scope).putLong(segmentBase).putLong(baseOffset).putInt(lastOffsetDelta)
                .flip();
    }

    /** Seals a file payload of the segment at {@code segmentBase} under its data key; see the class comment. */
    byte[] sealPayload(DataKey key, String kind, long segmentBase, long fileOffset, byte[] plaintext) {
        byte[] nonce = keys.gcm().randomNonce();
        ByteBuffer out = ByteBuffer.allocate(AesGcm.NONCE_LENGTH + AesGcm.sealedLength(plaintext.length)).put(nonce);
        keys.gcm().seal(key.key(), nonce, payloadAssociatedData(kind, segmentBase, fileOffset),
                ByteBuffer.wrap(plaintext), out);
        return out.array();
    }

    /**
     * Opens what {@link #sealPayload} sealed with the same kind, segment and offset.
     *
     * @throws IOException when it does not open: another key, another file's payload, or changed bytes
     */
    ByteBuffer openPayload(DataKey key, String kind, long segmentBase, long fileOffset, ByteBuffer sealed)
            throws IOException {
        if (sealed.remaining() < AesGcm.NONCE_LENGTH + AesGcm.TAG_LENGTH) {
            throw new IOException("a sealed " + kind + " of partition " + id + " is cut short");
        }
        byte[] nonce = new byte[AesGcm.NONCE_LENGTH];
        ByteBuffer in = sealed.duplicate();
        in.get(nonce);
        ByteBuffer out = ByteBuffer.allocate(in.remaining() - AesGcm.TAG_LENGTH);
        try {
            keys.gcm().open(key.key(), nonce, payloadAssociatedData(kind, segmentBase, fileOffset), in, out);
        } catch (AEADBadTagException e) {
            throw new IOException("a sealed " + kind + " of partition " + id + " at offset " + fileOffset
                    + " does not open under the data key of segment " + segmentBase, e);
        }
        return out.flip();
    }

    private ByteBuffer payloadAssociatedData(String kind, long segmentBase, long fileOffset) {
        byte[] label = ("bulwark/" + kind + "/v1").getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(label.length + scope.length + 16).put(label).put(scope).putLong(segmentBase)
                .putLong(fileOffset).flip();
    }
}
