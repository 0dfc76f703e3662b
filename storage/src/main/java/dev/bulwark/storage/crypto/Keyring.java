package dev.bulwark.storage.crypto;

import dev.bulwark.storage.MetadataFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.AEADBadTagException;
import javax.crypto.SecretKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The middle of the key hierarchy: versioned key-encryption keys (KEKs) per {@link KeyOwner}, stored in
 * {@code <data-dir>/keys/keyring} wrapped by the master key ({@link KeyManagementService}), which in turn wrap one
 * data key per segment ({@link WrappedDataKey}, stored in the segment's header). The file format is documented in
 * {@link KeyringFormat}.
 *
 * <p>Each KEK is a random 256-bit key, wrapped with associated data binding the master key's id, its owner and its
 * version, so a wrapped KEK moved to another owner or version does not unwrap. The keyring file also names the
 * master key id, so opening it with another master key fails fast with both ids named ({@link
 * WrongMasterKeyException}) and writes nothing.
 *
 * <p><b>Rotation</b> of an owner's KEK: {@link #rotate} adds a current version; {@link #rewrap} rewraps each of the
 * owner's data keys under it (the data is not rewritten: the segment header is); then {@link #destroyVersionsBefore}
 * removes the old versions from the file. A segment whose data key is created while the rewrap pass runs can escape
 * it, so the pass must be serialised with segment creation: rewrap a partition's segments under the lock that rolls
 * its segments, since a segment rolled after {@link #rotate} returned is under the new version already.
 * {@link #rotateMaster} rewraps every KEK under a new master key in one atomic file replacement.
 *
 * <p><b>Crypto-shredding</b>: {@link #shred} destroys every KEK of an owner, so its data keys, and the data they
 * seal, can no longer be opened through this keyring, even from a copy of the owner's segments. What this class can
 * guarantee is the live keyring: the destroyed KEKs are gone from the file, the file is replaced by an atomic rename
 * (no temporary or backup copy is left behind), and they are gone from memory. It cannot reach copies of the keyring
 * made before (backups, snapshots, the file system's freed blocks): a restored old keyring still holds the KEKs and
 * opens under the same master key. The master key (the KMS) is therefore the root of trust of the erasure: exclude
 * {@code keys/} from backups, or, for erasure that holds against any copy, follow a shred with {@link #rotateMaster}
 * and destroy the old master key, which leaves every older keyring copy unopenable.
 *
 * <p>Thread-safe. {@link #open(KeyOwner, WrappedDataKey)} and {@link #newDataKey} of an existing owner read an
 * immutable snapshot of unwrapped KEKs held in memory and cost one AES-GCM operation on 32 bytes; changes are
 * serialised, written durably, then published. A change whose write failed leaves the file in an unknown state, so
 * the keyring then refuses further changes until it is reopened: otherwise a later write could put back a KEK whose
 * destruction had reached the disk.
 */
public final class Keyring {

    public static final String FILE_NAME = "keyring";

    private static final Logger LOG = LoggerFactory.getLogger(Keyring.class);

    private final Path file;
    private final AesGcm gcm;
    private volatile State state;
    private IOException failedWrite;

    private Keyring(Path file, AesGcm gcm, State state) {
        this.file = file;
        this.gcm = gcm;
        this.state = state;
    }

    private record Kek(byte[] wrapped, SecretKey key) {
    }

    private record Owner(int destroyedBelow, NavigableMap<Integer, Kek> keks) {

        boolean shredded() {
            return keks.isEmpty();
        }

        int current() {
            return keks.lastKey();
        }

        Owner with(int version, Kek kek) {
            NavigableMap<Integer, Kek> next = new TreeMap<>(keks);
            next.put(version, kek);
            return new Owner(destroyedBelow, Collections.unmodifiableNavigableMap(next));
        }
    }

    private record State(KeyManagementService kms, Map<KeyOwner, Owner> owners) {

        State with(KeyOwner owner, Owner keys) {
            Map<KeyOwner, Owner> next = new HashMap<>(owners);
            next.put(owner, keys);
            return new State(kms, Map.copyOf(next));
        }
    }

    /**
     * Opens the keyring of {@code dataDir}, creating it (bound to {@code kms}'s master key) when there is none, and
     * unwraps every KEK into memory. A temporary file left by a write that crashed is removed.
     *
     * @throws WrongMasterKeyException when the keyring was written under another master key; nothing is written
     * @throws KeyUnwrapException      when a KEK does not unwrap under the right master key: the file was tampered
     *                                 with or corrupted past its checksum; nothing is written
     * @throws MetadataFile.CorruptFileException when the file is not a keyring of a known format
     */
    public static Keyring open(Path dataDir, KeyManagementService kms, AesGcm gcm)
            throws IOException, WrongMasterKeyException, KeyUnwrapException {
        Path directory = KeysDirectory.of(dataDir);
        Path file = directory.resolve(FILE_NAME);
        Optional<KeyringFormat.Stored> stored = KeyringFormat.read(file);
        if (stored.isEmpty()) {
            KeysDirectory.create(directory);
            Keyring keyring = new Keyring(file, gcm, new State(kms, Map.of()));
            keyring.persist(keyring.state);
            LOG.info("Created keyring {} under master key {}", file, kms.keyId());
            return keyring;
        }
        String expected = stored.get().masterKeyId();
        if (!expected.equals(kms.keyId())) {
            throw new WrongMasterKeyException("keyring " + file + " was written under master key " + expected
                    + ", but the configured master key is " + kms.keyId() + ": configure the master key it was"
                    + " written under", expected, kms.keyId());
        }
        Map<KeyOwner, Owner> owners = new HashMap<>();
        for (Map.Entry<KeyOwner, KeyringFormat.StoredOwner> entry : stored.get().owners().entrySet()) {
            NavigableMap<Integer, Kek> keks = new TreeMap<>();
            for (Map.Entry<Integer, byte[]> kek : entry.getValue().wrappedKeks().entrySet()) {
                byte[] raw = unwrapKek(kms, file, entry.getKey(), kek.getKey(), kek.getValue());
                keks.put(kek.getKey(), new Kek(kek.getValue(), AesGcm.key(raw)));
                Arrays.fill(raw, (byte) 0);
            }
            owners.put(entry.getKey(), new Owner(entry.getValue().destroyedBelow(),
                    Collections.unmodifiableNavigableMap(keks)));
        }
        removeTemporary(file);
        return new Keyring(file, gcm, new State(kms, Map.copyOf(owners)));
    }

    /** The id of the master key that wraps the KEKs. */
    public String masterKeyId() {
        return state.kms().keyId();
    }

    /** The owner's current KEK version; empty when it has none (never used, or shredded). */
    public OptionalInt currentVersion(KeyOwner owner) {
        Owner keys = state.owners().get(owner);
        return keys == null || keys.shredded() ? OptionalInt.empty() : OptionalInt.of(keys.current());
    }

    /**
     * Which KEK versions of an owner the keyring holds, for operators (no key material).
     *
     * @param live           the versions it holds, oldest first; the last is the current one; empty once shredded
     * @param destroyedBelow every version below this one was destroyed (1 when none was)
     */
    public record Versions(List<Integer> live, int destroyedBelow) {

        public Versions {
            live = List.copyOf(live);
        }

        public boolean shredded() {
            return live.isEmpty();
        }
    }

    /** The owner's KEK versions; empty when it never had a key. */
    public Optional<Versions> versions(KeyOwner owner) {
        Owner keys = state.owners().get(owner);
        return keys == null ? Optional.empty()
                : Optional.of(new Versions(List.copyOf(keys.keks().keySet()), keys.destroyedBelow()));
    }

    /**
     * A fresh random data key for one segment of {@code owner}, wrapped under the owner's current KEK. The owner's
     * first KEK is created (and written durably) on its first data key.
     *
     * @throws KeyDestroyedException when the owner was shredded
     */
    public DataKey newDataKey(KeyOwner owner) throws IOException, KeyDestroyedException {
        Owner keys = state.owners().get(owner);
        if (keys == null) {
            keys = createFirstKek(owner);
        }
        if (keys.shredded()) {
            throw shredded(owner);
        }
        int version = keys.current();
        SecretKey dataKey = gcm.newKey();
        return new DataKey(dataKey, wrapDataKey(owner, version, keys.keks().get(version), dataKey));
    }

    /**
     * The data key in {@code wrapped}, which must belong to {@code expectedOwner} (the owner of the segment it was read
     * from: a segment of one owner cannot pass off another's key).
     *
     * @throws KeyDestroyedException   when its KEK version was destroyed or its owner shredded
     * @throws KeyUnavailableException when the keyring has no such owner or version
     * @throws KeyUnwrapException      when it belongs to another owner, or its bytes were changed
     */
    public DataKey open(KeyOwner expectedOwner, WrappedDataKey wrapped)
            throws KeyUnavailableException, KeyUnwrapException {
        if (!wrapped.owner().equals(expectedOwner)) {
            throw new KeyUnwrapException("a data key of owner " + wrapped.owner() + " where one of " + expectedOwner
                    + " belongs");
        }
        return new DataKey(unwrapDataKey(state, wrapped), wrapped);
    }

    /**
     * Adds a new current KEK version for {@code owner} (its first when it has none) and writes it durably. Data keys
     * created from now on are wrapped under it; existing ones are moved to it with {@link #rewrap}.
     *
     * @return the new current version
     * @throws KeyDestroyedException when the owner was shredded
     */
    public synchronized int rotate(KeyOwner owner) throws IOException, KeyDestroyedException {
        State current = state;
        Owner keys = current.owners().get(owner);
        if (keys == null) {
            return createFirstKek(owner).current();
        }
        if (keys.shredded()) {
            throw shredded(owner);
        }
        int version = Math.addExact(keys.current(), 1);
        persist(current.with(owner, keys.with(version, newKek(current.kms(), owner, version))));
        LOG.info("Rotated the key-encryption key of owner {} to version {}", owner, version);
        return version;
    }

    /**
     * The same data key wrapped under its owner's current KEK version; {@code wrapped} itself when it is under it
     * already, so that a caller can skip rewriting the segment header.
     *
     * @throws KeyDestroyedException   when its KEK version was destroyed or its owner shredded
     * @throws KeyUnavailableException when the keyring has no such owner or version
     * @throws KeyUnwrapException      when its bytes were changed
     */
    public WrappedDataKey rewrap(WrappedDataKey wrapped) throws KeyUnavailableException, KeyUnwrapException {
        State current = state;
        SecretKey dataKey = unwrapDataKey(current, wrapped);
        Owner keys = current.owners().get(wrapped.owner());
        int version = keys.current();
        if (version == wrapped.kekVersion()) {
            return wrapped;
        }
        return wrapDataKey(wrapped.owner(), version, keys.keks().get(version), dataKey);
    }

    /**
     * Destroys every KEK version of {@code owner} below {@code version}, durably: call it once every data key under
     * them has been {@link #rewrap rewrapped}. Data keys still under them can no longer be opened. Versions already
     * destroyed are left alone.
     *
     * @throws IllegalArgumentException when {@code version} is above the current version (the current version is
     *                                  never destroyed this way: {@link #shred} does)
     * @throws KeyUnavailableException  when the keyring has no keys for the owner
     * @throws KeyDestroyedException    when the owner was shredded
     */
    public synchronized void destroyVersionsBefore(KeyOwner owner, int version)
            throws IOException, KeyUnavailableException {
        State current = state;
        Owner keys = existing(current, owner);
        if (version > keys.current()) {
            throw new IllegalArgumentException("owner " + owner + " is at version " + keys.current()
                    + ": versions before " + version + " would include it");
        }
        if (version <= keys.destroyedBelow()) {
            return;
        }
        Owner kept = new Owner(version, Collections.unmodifiableNavigableMap(new TreeMap<>(
                keys.keks().tailMap(version, true))));
        persist(current.with(owner, kept));
        LOG.info("Destroyed the key-encryption key versions of owner {} before version {}", owner, version);
    }

    /**
     * Rewraps every KEK under {@code newKms}'s master key and replaces the keyring file in one atomic step; from then
     * on the keyring opens only under the new master key. The new master key must be configured before the next
     * start, which otherwise fails with {@link WrongMasterKeyException} naming it.
     *
     * @throws IllegalArgumentException when {@code newKms} has the current master key's id
     * @throws KeyUnwrapException       when {@code newKms} cannot unwrap what it wrapped (checked before anything
     *                                  is written, since that would lose every key)
     */
    public synchronized void rotateMaster(KeyManagementService newKms) throws IOException, KeyUnwrapException {
        State current = state;
        if (newKms.keyId().equals(current.kms().keyId())) {
            throw new IllegalArgumentException("master key " + newKms.keyId() + " is the current one");
        }
        Map<KeyOwner, Owner> owners = new HashMap<>();
        for (Map.Entry<KeyOwner, Owner> entry : current.owners().entrySet()) {
            NavigableMap<Integer, Kek> keks = new TreeMap<>();
            for (Map.Entry<Integer, Kek> kek : entry.getValue().keks().entrySet()) {
                byte[] raw = kek.getValue().key().getEncoded();
                byte[] wrapped = newKms.wrap(raw, KeyringFormat.kekAssociatedData(newKms.keyId(), entry.getKey(),
                        kek.getKey()));
                byte[] check = unwrapKek(newKms, file, entry.getKey(), kek.getKey(), wrapped);
                boolean same = Arrays.equals(raw, check);
                Arrays.fill(raw, (byte) 0);
                Arrays.fill(check, (byte) 0);
                if (!same) {
                    throw new KeyUnwrapException("master key " + newKms.keyId() + " unwraps KEK version "
                            + kek.getKey() + " of owner " + entry.getKey() + " to another key");
                }
                keks.put(kek.getKey(), new Kek(wrapped, kek.getValue().key()));
            }
            owners.put(entry.getKey(), new Owner(entry.getValue().destroyedBelow(),
                    Collections.unmodifiableNavigableMap(keks)));
        }
        persist(new State(newKms, Map.copyOf(owners)));
        LOG.info("Rewrapped every key-encryption key of keyring {} from master key {} to {}", file,
                current.kms().keyId(), newKms.keyId());
    }

    /**
     * Crypto-shreds {@code owner}: destroys all its KEK versions durably, so that none of its data keys opens again
     * ({@link KeyDestroyedException}) and it gets no new ones. Idempotent; an owner with no keys yet is recorded as
     * shredded too. See the class comment for what this guarantees against copies of the keyring.
     */
    public synchronized void shred(KeyOwner owner) throws IOException {
        State current = state;
        Owner keys = current.owners().get(owner);
        if (keys != null && keys.shredded()) {
            return;
        }
        int destroyedBelow = keys == null ? 1 : keys.current() + 1;
        persist(current.with(owner, new Owner(destroyedBelow, Collections.emptyNavigableMap())));
        LOG.info("Crypto-shredded owner {}: every key-encryption key version destroyed", owner);
    }

    private synchronized Owner createFirstKek(KeyOwner owner) throws IOException {
        State current = state;
        Owner keys = current.owners().get(owner);
        if (keys != null) {
            return keys;
        }
        Owner created = new Owner(1, Collections.unmodifiableNavigableMap(
                new TreeMap<>(Map.of(1, newKek(current.kms(), owner, 1)))));
        persist(current.with(owner, created));
        LOG.info("Created the first key-encryption key of owner {}", owner);
        return created;
    }

    private Kek newKek(KeyManagementService kms, KeyOwner owner, int version) throws IOException {
        SecretKey key = gcm.newKey();
        byte[] raw = key.getEncoded();
        byte[] wrapped = kms.wrap(raw, KeyringFormat.kekAssociatedData(kms.keyId(), owner, version));
        Arrays.fill(raw, (byte) 0);
        return new Kek(wrapped, key);
    }

    private WrappedDataKey wrapDataKey(KeyOwner owner, int version, Kek kek, SecretKey dataKey) {
        byte[] nonce = gcm.randomNonce();
        byte[] raw = dataKey.getEncoded();
        ByteBuffer sealed = ByteBuffer.allocate(WrappedDataKey.SEALED_LENGTH).put(nonce);
        gcm.seal(kek.key(), nonce, ByteBuffer.wrap(WrappedDataKey.associatedData(owner, version)), ByteBuffer.wrap(raw),
                sealed);
        Arrays.fill(raw, (byte) 0);
        return new WrappedDataKey(owner, version, sealed.array());
    }

    private SecretKey unwrapDataKey(State current, WrappedDataKey wrapped)
            throws KeyUnavailableException, KeyUnwrapException {
        KeyOwner owner = wrapped.owner();
        int version = wrapped.kekVersion();
        Owner keys = existing(current, owner);
        if (version < keys.destroyedBelow()) {
            throw new KeyDestroyedException(owner, "KEK version " + version + " of owner " + owner + " was destroyed");
        }
        Kek kek = keys.keks().get(version);
        if (kek == null) {
            throw new KeyUnavailableException("owner " + owner + " has no KEK version " + version + " in keyring "
                    + file + " (current version " + keys.current() + ")");
        }
        byte[] sealed = wrapped.sealed();
        byte[] nonce = Arrays.copyOf(sealed, AesGcm.NONCE_LENGTH);
        byte[] raw = new byte[AesGcm.KEY_LENGTH];
        try {
            gcm.open(kek.key(), nonce, ByteBuffer.wrap(WrappedDataKey.associatedData(owner, version)),
                    ByteBuffer.wrap(sealed, AesGcm.NONCE_LENGTH, sealed.length - AesGcm.NONCE_LENGTH),
                    ByteBuffer.wrap(raw));
        } catch (AEADBadTagException e) {
            throw new KeyUnwrapException("a data key of owner " + owner + " under KEK version " + version
                    + " does not authenticate: its bytes were changed", e);
        }
        SecretKey key = AesGcm.key(raw);
        Arrays.fill(raw, (byte) 0);
        return key;
    }

    private Owner existing(State current, KeyOwner owner) throws KeyUnavailableException {
        Owner keys = current.owners().get(owner);
        if (keys == null) {
            throw new KeyUnavailableException("keyring " + file + " has no keys of owner " + owner);
        }
        if (keys.shredded()) {
            throw shredded(owner);
        }
        return keys;
    }

    private static KeyDestroyedException shredded(KeyOwner owner) {
        return new KeyDestroyedException(owner, "every key of owner " + owner + " was destroyed (crypto-shredded)");
    }

    private static byte[] unwrapKek(KeyManagementService kms, Path file, KeyOwner owner, int version, byte[] wrapped)
            throws IOException, KeyUnwrapException {
        try {
            return kms.unwrap(wrapped, KeyringFormat.kekAssociatedData(kms.keyId(), owner, version));
        } catch (KeyUnwrapException e) {
            throw new KeyUnwrapException("keyring " + file + ": KEK version " + version + " of owner " + owner
                    + " does not unwrap under master key " + kms.keyId() + " (tampered with or corrupt)", e);
        }
    }

    /**
     * Whether the keyring takes changes: false once a write failed, until it is reopened. A new tenant's or topic's
     * first key is such a change, so a keyring that refuses them cannot serve everything.
     */
    public synchronized boolean acceptsChanges() {
        return failedWrite == null;
    }

    /** Must be called holding the lock. */
    private void persist(State next) throws IOException {
        if (failedWrite != null) {
            throw new IOException("keyring " + file + " refuses changes since a write failed: reopen it",
                    failedWrite);
        }
        NavigableMap<KeyOwner, KeyringFormat.StoredOwner> owners = new TreeMap<>();
        for (Map.Entry<KeyOwner, Owner> entry : next.owners().entrySet()) {
            NavigableMap<Integer, byte[]> wrapped = new TreeMap<>();
            entry.getValue().keks().forEach((version, kek) -> wrapped.put(version, kek.wrapped()));
            owners.put(entry.getKey(), new KeyringFormat.StoredOwner(entry.getValue().destroyedBelow(), wrapped));
        }
        try {
            KeyringFormat.write(file, new KeyringFormat.Stored(next.kms().keyId(), owners));
        } catch (IOException e) {
            failedWrite = e;
            throw e;
        }
        state = next;
    }

    private static void removeTemporary(Path file) throws IOException {
        // MetadataFile writes through this sibling and a crash can leave it behind: removing it keeps the keys
        // directory down to the keyring itself, which is what the guarantees of destroy and shred are stated for.
        if (Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".tmp"))) {
            MetadataFile.syncDirectory(file.getParent());
        }
    }
}
