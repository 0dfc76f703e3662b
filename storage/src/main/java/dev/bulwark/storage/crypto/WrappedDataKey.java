package dev.bulwark.storage.crypto;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A data key wrapped by a version of its owner's key-encryption key (KEK), as stored in a segment's header.
 *
 * <pre>
 * offset  length  field
 * 0       1       format version (1)
 * 1       1       owner id length L (1 .. 64)
 * 2       L       owner id (US-ASCII), see {@link KeyOwner}
 * 2+L     4       KEK version (big-endian, at least 1)
 * 6+L     12      random nonce
 * 18+L    48      AES-256-GCM of the 32-byte data key under the KEK (32 bytes), then the tag (16 bytes)
 * </pre>
 *
 * {@value #MIN_ENCODED_LENGTH} to {@value #MAX_ENCODED_LENGTH} bytes (66 + L). The associated data of the wrap is
 * {@value #ASSOCIATED_DATA_LABEL} followed by bytes 0 .. 6+L, so the owner and version cannot be changed without the
 * unwrap failing. The nonce is random: a KEK version wraps one data key per segment of its owner, far fewer than the
 * 2<sup>32</sup> that random nonces allow, and rotation starts a new KEK.
 */
public final class WrappedDataKey {

    public static final byte FORMAT_VERSION = 1;
    public static final int OWNER_LENGTH_OFFSET = 1;
    public static final int OWNER_OFFSET = 2;
    /** The nonce, the wrapped key and its tag. */
    public static final int SEALED_LENGTH = AesGcm.NONCE_LENGTH + AesGcm.sealedLength(AesGcm.KEY_LENGTH);
    public static final int MIN_ENCODED_LENGTH = OWNER_OFFSET + 1 + Integer.BYTES + SEALED_LENGTH;
    public static final int MAX_ENCODED_LENGTH = OWNER_OFFSET + KeyOwner.MAX_LENGTH + Integer.BYTES + SEALED_LENGTH;

    static final String ASSOCIATED_DATA_LABEL = "bulwark/data-key/v1";

    private final KeyOwner owner;
    private final int kekVersion;
    private final byte[] sealed;

    WrappedDataKey(KeyOwner owner, int kekVersion, byte[] sealed) {
        if (kekVersion < 1) {
            throw new IllegalArgumentException("a KEK version is at least 1, not " + kekVersion);
        }
        if (sealed.length != SEALED_LENGTH) {
            throw new IllegalArgumentException("a wrapped data key is " + SEALED_LENGTH + " bytes, not "
                    + sealed.length);
        }
        this.owner = Objects.requireNonNull(owner, "owner");
        this.kekVersion = kekVersion;
        this.sealed = sealed.clone();
    }

    public KeyOwner owner() {
        return owner;
    }

    /** The version of the owner's key-encryption key that wrapped this data key. */
    public int kekVersion() {
        return kekVersion;
    }

    public int encodedLength() {
        return headerLength(owner) + SEALED_LENGTH;
    }

    /** Writes the encoding at {@code out}'s position and advances it by {@link #encodedLength()}. */
    public ByteBuffer writeTo(ByteBuffer out) {
        return putHeader(out, owner, kekVersion).put(sealed);
    }

    public byte[] toBytes() {
        return writeTo(ByteBuffer.allocate(encodedLength())).array();
    }

    /**
     * Reads an encoding at {@code in}'s position and advances it past it.
     *
     * @throws KeyUnwrapException when the bytes are not an encoding of this format (the buffer's position is then
     *                            unspecified)
     */
    public static WrappedDataKey readFrom(ByteBuffer in) throws KeyUnwrapException {
        try {
            byte version = in.get();
            if (version != FORMAT_VERSION) {
                throw new KeyUnwrapException("wrapped data key format version " + version + " is not "
                        + FORMAT_VERSION);
            }
            int ownerLength = Byte.toUnsignedInt(in.get());
            if (ownerLength < 1 || ownerLength > KeyOwner.MAX_LENGTH) {
                throw new KeyUnwrapException("wrapped data key owner id length " + ownerLength + " is not 1 .. "
                        + KeyOwner.MAX_LENGTH);
            }
            byte[] id = new byte[ownerLength];
            in.get(id);
            KeyOwner owner = new KeyOwner(new String(id, StandardCharsets.US_ASCII));
            int kekVersion = in.getInt();
            byte[] sealed = new byte[SEALED_LENGTH];
            in.get(sealed);
            return new WrappedDataKey(owner, kekVersion, sealed);
        } catch (BufferUnderflowException e) {
            throw new KeyUnwrapException("a wrapped data key is truncated", e);
        } catch (IllegalArgumentException e) {
            throw new KeyUnwrapException("a wrapped data key is malformed: " + e.getMessage(), e);
        }
    }

    /** {@link #readFrom} of exactly the whole array. */
    public static WrappedDataKey fromBytes(byte[] bytes) throws KeyUnwrapException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        WrappedDataKey wrapped = readFrom(in);
        if (in.hasRemaining()) {
            throw new KeyUnwrapException("a wrapped data key is followed by " + in.remaining() + " stray bytes");
        }
        return wrapped;
    }

    /** The associated data of the wrap of a data key by {@code owner}'s KEK {@code kekVersion}. */
    static byte[] associatedData(KeyOwner owner, int kekVersion) {
        byte[] label = ASSOCIATED_DATA_LABEL.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer data = ByteBuffer.allocate(label.length + headerLength(owner));
        return putHeader(data.put(label), owner, kekVersion).array();
    }

    /** The nonce, the wrapped key and its tag. */
    byte[] sealed() {
        return sealed.clone();
    }

    private static ByteBuffer putHeader(ByteBuffer out, KeyOwner owner, int kekVersion) {
        byte[] id = owner.id().getBytes(StandardCharsets.US_ASCII);
        return out.put(FORMAT_VERSION).put((byte) id.length).put(id).putInt(kekVersion);
    }

    private static int headerLength(KeyOwner owner) {
        return OWNER_OFFSET + owner.id().length() + Integer.BYTES;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WrappedDataKey other && owner.equals(other.owner) && kekVersion == other.kekVersion
                && Arrays.equals(sealed, other.sealed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(owner, kekVersion, Arrays.hashCode(sealed));
    }

    @Override
    public String toString() {
        return "WrappedDataKey[owner=" + owner + ", kekVersion=" + kekVersion + "]";
    }
}
