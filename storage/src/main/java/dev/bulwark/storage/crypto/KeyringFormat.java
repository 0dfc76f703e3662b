package dev.bulwark.storage.crypto;

import dev.bulwark.storage.MetadataFile;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The bytes of the keyring file: a {@link MetadataFile} (magic {@code "BWKR"}, format version 1, CRC32C) whose
 * payload is
 *
 * <pre>
 * length  field
 * 1       master key id length M (1 .. 255)
 * M       master key id (UTF-8): the key that wrapped every KEK below
 * 4       owner count
 * per owner, in ascending order of owner id:
 *   1       owner id length L (1 .. 64)
 *   L       owner id (US-ASCII), see {@link KeyOwner}
 *   4       destroyed below: every version below it was destroyed (1 when none was)
 *   4       KEK count N (0 once the owner is shredded)
 *   per KEK, in ascending order of version (each at least "destroyed below"):
 *     4       version
 *     2       wrapped length W
 *     W       the KEK as wrapped by the master key's KMS, with the associated data of {@link #kekAssociatedData}
 * </pre>
 *
 * All integers are big-endian. An owner with no KEK has been shredded: a data key naming any of its versions is
 * reported destroyed rather than unknown, and it gets no new keys.
 */
final class KeyringFormat {

    static final int FILE_MAGIC = 0x42574B52; // "BWKR"
    static final byte FORMAT_VERSION = 1;
    static final String KEK_ASSOCIATED_DATA_LABEL = "bulwark/kek/v1";

    private KeyringFormat() {
    }

    /** An owner's entry: wrapped KEKs by version. */
    record StoredOwner(int destroyedBelow, NavigableMap<Integer, byte[]> wrappedKeks) {

        StoredOwner {
            wrappedKeks = Collections.unmodifiableNavigableMap(new TreeMap<>(wrappedKeks));
            if (destroyedBelow < 1 || (!wrappedKeks.isEmpty() && wrappedKeks.firstKey() < destroyedBelow)) {
                throw new IllegalArgumentException("versions " + wrappedKeks.keySet() + " are not all at or above"
                        + " destroyed-below " + destroyedBelow + " (at least 1)");
            }
        }

        boolean shredded() {
            return wrappedKeks.isEmpty();
        }
    }

    /** What the file holds. */
    record Stored(String masterKeyId, NavigableMap<KeyOwner, StoredOwner> owners) {

        Stored {
            owners = Collections.unmodifiableNavigableMap(new TreeMap<>(owners));
        }
    }

    static void write(Path file, Stored stored) throws IOException {
        MetadataFile.write(file, FILE_MAGIC, FORMAT_VERSION, encode(stored));
    }

    /**
     * @throws MetadataFile.CorruptFileException when the file is not a keyring of a known format version
     */
    static Optional<Stored> read(Path file) throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        if (content.get().version() != FORMAT_VERSION) {
            throw new MetadataFile.CorruptFileException(file, "keyring format version " + content.get().version()
                    + " is not " + FORMAT_VERSION + " (written by a newer broker?)");
        }
        try {
            return Optional.of(decode(content.get().payload()));
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new MetadataFile.CorruptFileException(file, "malformed keyring: " + e.getMessage());
        }
    }

    static byte[] encode(Stored stored) {
        byte[] keyId = stored.masterKeyId().getBytes(StandardCharsets.UTF_8);
        int size = 1 + keyId.length + Integer.BYTES;
        for (Map.Entry<KeyOwner, StoredOwner> owner : stored.owners().entrySet()) {
            size += 1 + owner.getKey().id().length() + 2 * Integer.BYTES;
            for (byte[] wrapped : owner.getValue().wrappedKeks().values()) {
                size += Integer.BYTES + Short.BYTES + wrapped.length;
            }
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        putShortString(out, keyId, KeyManagementService.MAX_KEY_ID_LENGTH, "master key id");
        out.putInt(stored.owners().size());
        for (Map.Entry<KeyOwner, StoredOwner> owner : stored.owners().entrySet()) {
            putShortString(out, owner.getKey().id().getBytes(StandardCharsets.US_ASCII), KeyOwner.MAX_LENGTH,
                    "owner id");
            out.putInt(owner.getValue().destroyedBelow()).putInt(owner.getValue().wrappedKeks().size());
            for (Map.Entry<Integer, byte[]> kek : owner.getValue().wrappedKeks().entrySet()) {
                if (kek.getValue().length > 0xFFFF) {
                    throw new IllegalArgumentException("a wrapped KEK of " + kek.getValue().length + " bytes");
                }
                out.putInt(kek.getKey()).putShort((short) kek.getValue().length).put(kek.getValue());
            }
        }
        return out.array();
    }

    static Stored decode(ByteBuffer in) {
        String masterKeyId = new String(getShortString(in, KeyManagementService.MAX_KEY_ID_LENGTH, "master key id"),
                StandardCharsets.UTF_8);
        int ownerCount = in.getInt();
        if (ownerCount < 0) {
            throw new IllegalArgumentException("owner count " + ownerCount);
        }
        NavigableMap<KeyOwner, StoredOwner> owners = new TreeMap<>();
        for (int o = 0; o < ownerCount; o++) {
            KeyOwner owner = new KeyOwner(new String(getShortString(in, KeyOwner.MAX_LENGTH, "owner id"),
                    StandardCharsets.US_ASCII));
            int destroyedBelow = in.getInt();
            int kekCount = in.getInt();
            if (kekCount < 0) {
                throw new IllegalArgumentException("KEK count " + kekCount + " of owner " + owner);
            }
            NavigableMap<Integer, byte[]> keks = new TreeMap<>();
            for (int k = 0; k < kekCount; k++) {
                int version = in.getInt();
                byte[] wrapped = new byte[Short.toUnsignedInt(in.getShort())];
                in.get(wrapped);
                if (keks.put(version, wrapped) != null) {
                    throw new IllegalArgumentException("version " + version + " of owner " + owner + " twice");
                }
            }
            if (owners.put(owner, new StoredOwner(destroyedBelow, keks)) != null) {
                throw new IllegalArgumentException("owner " + owner + " twice");
            }
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " stray bytes after the last owner");
        }
        return new Stored(masterKeyId, owners);
    }

    /** What a KEK's wrap by the master key authenticates: the master key's id, the owner and the version. */
    static byte[] kekAssociatedData(String masterKeyId, KeyOwner owner, int version) {
        byte[] label = KEK_ASSOCIATED_DATA_LABEL.getBytes(StandardCharsets.US_ASCII);
        byte[] keyId = masterKeyId.getBytes(StandardCharsets.UTF_8);
        byte[] id = owner.id().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer data = ByteBuffer.allocate(label.length + 1 + keyId.length + 1 + id.length + Integer.BYTES);
        data.put(label);
        putShortString(data, keyId, KeyManagementService.MAX_KEY_ID_LENGTH, "master key id");
        putShortString(data, id, KeyOwner.MAX_LENGTH, "owner id");
        return data.putInt(version).array();
    }

    private static void putShortString(ByteBuffer out, byte[] bytes, int max, String what) {
        if (bytes.length < 1 || bytes.length > max) {
            throw new IllegalArgumentException("a " + what + " is 1 .. " + max + " bytes, not " + bytes.length);
        }
        out.put((byte) bytes.length).put(bytes);
    }

    private static byte[] getShortString(ByteBuffer in, int max, String what) {
        int length = Byte.toUnsignedInt(in.get());
        if (length < 1 || length > max) {
            throw new IllegalArgumentException(what + " length " + length + " is not 1 .. " + max);
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }
}
