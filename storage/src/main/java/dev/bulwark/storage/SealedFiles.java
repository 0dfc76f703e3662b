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
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Small durable files sealed under an owner's key: topic metadata, the security directory's stores (tenants, users
 * and credentials, ACLs, quotas), the snapshots of committed offsets and transaction state. Written and replaced
 * atomically through {@link MetadataFile}, whose magic and format version stay in the clear (they say what kind of
 * file it is, not what it holds); its payload is:
 *
 * <pre>
 * offset  length  field
 * 0       66+L    the file's data key, wrapped under the owner's current KEK ({@link WrappedDataKey})
 * 66+L    N+16    AES-256-GCM of the N-byte payload under that data key, then the tag
 * </pre>
 *
 * Associated data: {@code "bulwark/file/v1"}, u8 owner id length, owner id (US-ASCII), i32 magic, i8 format version,
 * u16 context length, context (UTF-8). The context names the file's place (a store's file name, a topic's id), so a
 * sealed file copied over another of the same owner does not open.
 *
 * <p>Design note: <b>every write seals under a fresh data key</b> from {@link dev.bulwark.storage.crypto.Keyring}, so
 * each data key seals exactly one plaintext and the nonce can be the constant zero without ever repeating under a
 * key (no nonce to store, no counter to keep across crashes). The price is one KEK wrap of 32 bytes per write, small
 * beside the fsyncs of an atomic replacement, and these files are rewritten on administrative changes and snapshots
 * only, never per record. A long-lived file key would instead need a place of its own and random nonces.
 *
 * <p>Rotation: a file names the KEK version its data key is wrapped under, and rewriting it (which its store does on
 * every change) wraps a fresh key under the current version; so between {@code Keyring.rotate} and
 * {@code Keyring.destroyVersionsBefore} each of these files must be rewritten by its store, under the store's own
 * lock, or it no longer opens.
 *
 * <p>Thread-safe; writers of one file serialise themselves (as they already must for {@link MetadataFile}).
 */
public final class SealedFiles {

    private static final byte[] LABEL = "bulwark/file/v1".getBytes(StandardCharsets.US_ASCII);
    /** The nonce of every seal: each data key seals once (see the design note). */
    private static final byte[] NONCE = new byte[AesGcm.NONCE_LENGTH];

    private final AtRestKeys keys;

    public SealedFiles(AtRestKeys keys) {
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    /** A file's payload once opened, and the owner whose key sealed it. */
    public record Opened(KeyOwner owner, ByteBuffer payload) {
    }

    /**
     * Seals {@code payload} under a fresh data key of {@code owner} and replaces {@code path} with it atomically and
     * durably.
     *
     * @param version the file's sealed format version, which {@link #read} expects
     * @param context the file's place, bound into the seal: the same context must be given to read it
     * @throws IOException when the owner was crypto-shredded (nothing of it may be written again), or the write fails
     */
    public void write(Path path, int magic, byte version, KeyOwner owner, String context, byte[] payload)
            throws IOException {
        DataKey key;
        try {
            key = keys.keyring().newDataKey(owner);
        } catch (KeyDestroyedException e) {
            throw new IOException(path + " cannot be written: " + e.getMessage(), e);
        }
        WrappedDataKey wrapped = key.wrapped();
        ByteBuffer out = ByteBuffer.allocate(wrapped.encodedLength() + AesGcm.sealedLength(payload.length));
        wrapped.writeTo(out);
        keys.gcm().seal(key.key(), NONCE, associatedData(owner, magic, version, context), ByteBuffer.wrap(payload),
                out);
        MetadataFile.write(path, magic, version, out.array());
    }

    /**
     * The payload of a file written by {@link #write} with this magic, version, owner and context; empty when the
     * file does not exist.
     *
     * @throws SealedFileException when it is of another format version (the formats before sealing are refused: no
     *                             released version wrote them), or does not open: another owner's or context's file,
     *                             changed bytes, or a data key that was destroyed or is not in the keyring
     */
    public Optional<ByteBuffer> read(Path path, int magic, byte version, KeyOwner owner, String context)
            throws IOException {
        return read(path, magic, version, Optional.of(owner), context).map(Opened::payload);
    }

    /**
     * {@link #read} for a file whose owner is recorded inside it (a topic's metadata): opened under whichever owner
     * its data key names, which the caller must check against the payload.
     */
    public Optional<Opened> readAnyOwner(Path path, int magic, byte version, String context) throws IOException {
        return read(path, magic, version, Optional.empty(), context);
    }

    private Optional<Opened> read(Path path, int magic, byte version, Optional<KeyOwner> expected, String context)
            throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(path, magic);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        if (content.get().version() != version) {
            throw new SealedFileException(path, "format version " + content.get().version() + " is not the sealed "
                    + "format " + version + " (an unsealed file from before encryption at rest is refused)");
        }
        ByteBuffer in = content.get().payload();
        try {
            WrappedDataKey wrapped = WrappedDataKey.readFrom(in);
            KeyOwner owner = expected.orElse(wrapped.owner());
            DataKey key = keys.keyring().open(owner, wrapped);
            if (in.remaining() < AesGcm.TAG_LENGTH) {
                throw new SealedFileException(path, "cut short");
            }
            ByteBuffer out = ByteBuffer.allocate(in.remaining() - AesGcm.TAG_LENGTH);
            keys.gcm().open(key.key(), NONCE, associatedData(owner, magic, version, context), in, out);
            return Optional.of(new Opened(owner, out.flip()));
        } catch (AEADBadTagException e) {
            throw new SealedFileException(path, "does not open: changed bytes, or another file's copy", e);
        } catch (KeyUnavailableException | KeyUnwrapException e) {
            throw new SealedFileException(path, "its data key does not open: " + e.getMessage(), e);
        }
    }

    private static ByteBuffer associatedData(KeyOwner owner, int magic, byte version, String context) {
        byte[] ownerId = owner.id().getBytes(StandardCharsets.US_ASCII);
        byte[] contextBytes = context.getBytes(StandardCharsets.UTF_8);
        if (contextBytes.length > 0xFFFF) {
            throw new IllegalArgumentException("a sealed file's context is at most 65535 bytes");
        }
        return ByteBuffer.allocate(LABEL.length + 1 + ownerId.length + 4 + 1 + 2 + contextBytes.length).put(LABEL)
                .put((byte) ownerId.length).put(ownerId).putInt(magic).put(version)
                .putShort((short) contextBytes.length).put(contextBytes).flip();
    }

    /** A sealed file that exists but does not open; which of its bytes or keys is wrong is in the message. */
    public static final class SealedFileException extends IOException {
        SealedFileException(Path path, String reason) {
            super(path + ": " + reason);
        }

        SealedFileException(Path path, String reason, Throwable cause) {
            super(path + ": " + reason, cause);
        }
    }
}
