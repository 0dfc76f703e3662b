package dev.bulwark.gateway.keys;

import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeyException;
import dev.bulwark.storage.crypto.MasterKeySource;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Key management of encryption at rest, for the REST API and the offline command: rotating an owner's key-encryption
 * key (a tenant's, or the broker's own, {@link KeyOwner#SYSTEM}) and rotating the master key.
 *
 * <p>A rotation is the three steps the {@link Keyring} documents: {@link Keyring#rotate} adds a current version,
 * {@link LogManager#rewrapKeys} rewraps every segment of the owner's partitions under it (only segment headers are
 * rewritten; segment indexes and producer snapshots are sealed under the segment's data key, which does not change),
 * and {@link Keyring#destroyVersionsBefore} then removes the older versions from the keyring. The rewrap pass is safe
 * against concurrent writes: each partition is rewrapped under the lock that rolls its segments, a partition created
 * during the pass has its first segment under the new version, and a compacted segment is rewrapped when it is swapped
 * in (one whose key was destroyed first is discarded, never swapped in). When a partition is offline its segments
 * cannot be rewrapped, so the older versions are kept ({@link RotationIncompleteException}): destroying them would
 * make that partition unreadable for good.
 *
 * <p>Each change is durable when its method returns: the keyring is replaced by an atomic, fsynced rename, and each
 * rewrapped header is forced to disk. Changes are serialised, so two rotations of one owner never interleave their
 * steps.
 *
 * <p>The new master key is read from a file the server can read, never taken as key material in a request: see
 * {@link #rotateMaster}.
 */
public final class AtRestKeyManagement {

    private static final Logger LOG = LoggerFactory.getLogger(AtRestKeyManagement.class);

    private final AtRestKeys keys;
    private final LogManager logs;

    public AtRestKeyManagement(AtRestKeys keys, LogManager logs) {
        this.keys = keys;
        this.logs = logs;
    }

    /**
     * What a rotation did.
     *
     * @param version   the owner's current KEK version now
     * @param rewrapped how many segment headers were rewritten under it
     * @param destroyed the key ids ({@link #keyId}) of the versions destroyed
     */
    public record Rotation(KeyOwner owner, int version, int rewrapped, List<String> destroyed) {
    }

    /**
     * A rotation that added a new current version but could not rewrap every segment, so the older versions were
     * kept; rotating again once the partition is back (or deleted) completes it.
     */
    public static final class RotationIncompleteException extends Exception {
        public RotationIncompleteException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A key-encryption key's id as operators and the erasure records see it: {@code <owner id>/v<version>}. It names
     * the key; it is not derived from it.
     */
    public static String keyId(KeyOwner owner, int version) {
        return owner.id() + "/v" + version;
    }

    /** The id of the master key that wraps every key-encryption key. */
    public String masterKeyId() {
        return keys.keyring().masterKeyId();
    }

    /** The KEK versions the keyring holds of {@code owner}; empty when it never had a key. */
    public Optional<Keyring.Versions> versions(KeyOwner owner) {
        return keys.keyring().versions(owner);
    }

    /**
     * Rotates a tenant's key-encryption key: a new version, every segment of the tenant's partitions and its topics'
     * metadata rewrapped under it, every older version destroyed. A tenant that never had a key gets its first.
     *
     * @throws IllegalArgumentException    for {@link KeyOwner#SYSTEM}, which is not rotated yet

     * @throws KeyDestroyedException       when the owner was crypto-shredded
     * @throws RotationIncompleteException when a partition of the owner is offline or a data key does not rewrap;
     *                                     the new version is current, the older ones are kept
     */
    public synchronized Rotation rotate(KeyOwner owner)
            throws IOException, KeyDestroyedException, RotationIncompleteException {
        if (owner.equals(KeyOwner.SYSTEM)) {
            // Destroying an older system version needs the security files and coordinator snapshots sealed under it
            // rewritten first, under their stores' locks; until that exists the system key is not rotated.
            throw new IllegalArgumentException("the broker's own key-encryption key is not rotated");
        }
        Keyring keyring = keys.keyring();
        int version = keyring.rotate(owner);
        int rewrapped;
        try {
            rewrapped = logs.rewrapKeys(owner);
        } catch (KafkaStorageException e) {
            throw new RotationIncompleteException("the key-encryption key of " + owner + " is now version " + version
                    + ", but not every segment was rewrapped under it, so the older versions were kept: "
                    + e.getMessage() + "; rotate again once the partition is back or deleted", e);
        }
        List<String> destroyed = olderThan(owner, version);
        try {
            keyring.destroyVersionsBefore(owner, version);
        } catch (KeyUnavailableException e) {
            throw new IllegalStateException("the keyring lost the versions of " + owner + " it just rotated", e);
        }
        LOG.info("Rotated the key-encryption key of {} to version {}: {} segment header(s) rewrapped, destroyed {}",
                owner, version, rewrapped, destroyed.isEmpty() ? "none" : String.join(", ", destroyed));
        return new Rotation(owner, version, rewrapped, destroyed);
    }

    /**
     * Rewraps every key-encryption key under the master key in {@code newMasterKeyFile} (32 raw bytes or their
     * base64, as {@link MasterKeySource#fromFile} reads), in one atomic replacement of the keyring. The data and the
     * segment headers are not touched. The key is read from a file so that key material never travels in a request:
     * the same file (a mounted secret) is what the server must be configured with before its next start, which
     * otherwise refuses to open the keyring, naming the new key's id.
     *
     * @return the new master key's id
     * @throws MasterKeyException       when the file does not exist or does not hold a 256-bit key
     * @throws IllegalArgumentException when it holds the current master key
     * @throws KeyUnwrapException       when the new key does not unwrap what it wrapped (nothing is written)
     */
    public synchronized String rotateMaster(Path newMasterKeyFile)
            throws IOException, MasterKeyException, KeyUnwrapException {
        MasterKeySource.MasterKey next = MasterKeySource.fromFile(newMasterKeyFile, keys.gcm());
        String previous = keys.keyring().masterKeyId();
        keys.keyring().rotateMaster(next.kms());
        LOG.info("Rotated the master key from {} to {} (read from {}): configure it before the next start",
                previous, next.kms().keyId(), next.origin());
        return next.kms().keyId();
    }

    /**
     * Crypto-shreds a tenant: destroys every version of its key-encryption key, durably when this returns, so that
     * none of its data keys, and so none of its data, opens again, wherever a copy of its files is. Idempotent.
     *
     * @return the ids ({@link #keyId}) of every version the owner ever had, all destroyed now
     * @throws IllegalArgumentException for {@link KeyOwner#SYSTEM}, which holds every tenant's security files
     */
    public synchronized List<String> shred(KeyOwner owner) throws IOException {
        if (owner.equals(KeyOwner.SYSTEM)) {
            throw new IllegalArgumentException("the broker's own key-encryption key is never shredded");
        }
        keys.keyring().shred(owner);
        int destroyedBelow = versions(owner).map(Keyring.Versions::destroyedBelow).orElse(1);
        return IntStream.range(1, destroyedBelow).mapToObj(v -> keyId(owner, v)).toList();
    }

    private List<String> olderThan(KeyOwner owner, int version) {
        return versions(owner).map(held -> held.live().stream().filter(v -> v < version)
                .map(v -> keyId(owner, v)).toList()).orElse(List.of());
    }
}
