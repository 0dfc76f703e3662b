package dev.bulwark.storage.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A {@link KeyManagementService} over a 256-bit master key held in memory (read by {@link MasterKeySource}).
 *
 * <p>A wrapped key is
 * <pre>
 * offset  length  field
 * 0       1       format version (1)
 * 1       12      random nonce
 * 13      N + 16  AES-256-GCM of the N key bytes under the master key, with the caller's associated data, then tag
 * </pre>
 * A random nonce is safe here because a master key wraps few keys (one per key-encryption key version), far below
 * the 2<sup>32</sup> that random 96-bit nonces allow.
 *
 * <p>The key id is {@code "local-"} and the first 8 bytes, in hex, of HMAC-SHA256 keyed by the master key over
 * {@value #KEY_ID_LABEL}: the label keeps the id from being any other value derived from the key, and 64 bits tell
 * apart the few master keys of one installation. It reveals nothing usable about the key.
 */
public final class LocalKeyManagementService implements KeyManagementService {

    public static final byte FORMAT_VERSION = 1;
    public static final int VERSION_OFFSET = 0;
    public static final int NONCE_OFFSET = 1;
    public static final int SEALED_OFFSET = NONCE_OFFSET + AesGcm.NONCE_LENGTH;

    static final String KEY_ID_LABEL = "bulwark/master-key-id/v1";
    private static final int KEY_ID_BYTES = 8;

    private final SecretKey masterKey;
    private final String keyId;
    private final AesGcm gcm;

    /**
     * @param masterKey the 256-bit master key (copied)
     * @throws IllegalArgumentException when the key is not 32 bytes
     */
    public LocalKeyManagementService(byte[] masterKey, AesGcm gcm) {
        this.masterKey = AesGcm.key(masterKey);
        this.gcm = gcm;
        this.keyId = "local-" + HexFormat.of().formatHex(Arrays.copyOf(keyIdMac(masterKey, gcm), KEY_ID_BYTES));
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public byte[] wrap(byte[] key, byte[] associatedData) {
        byte[] nonce = gcm.randomNonce();
        ByteBuffer wrapped = ByteBuffer.allocate(SEALED_OFFSET + AesGcm.sealedLength(key.length));
        wrapped.put(FORMAT_VERSION).put(nonce);
        gcm.seal(masterKey, nonce, ByteBuffer.wrap(associatedData), ByteBuffer.wrap(key), wrapped);
        return wrapped.array();
    }

    @Override
    public byte[] unwrap(byte[] wrapped, byte[] associatedData) throws KeyUnwrapException {
        if (wrapped.length < SEALED_OFFSET + AesGcm.TAG_LENGTH || wrapped[VERSION_OFFSET] != FORMAT_VERSION) {
            throw new KeyUnwrapException("not a key wrapped by a local master key (format version or length)");
        }
        byte[] nonce = Arrays.copyOfRange(wrapped, NONCE_OFFSET, SEALED_OFFSET);
        ByteBuffer sealed = ByteBuffer.wrap(wrapped, SEALED_OFFSET, wrapped.length - SEALED_OFFSET);
        ByteBuffer key = ByteBuffer.allocate(sealed.remaining() - AesGcm.TAG_LENGTH);
        try {
            gcm.open(masterKey, nonce, ByteBuffer.wrap(associatedData), sealed, key);
        } catch (AEADBadTagException e) {
            throw new KeyUnwrapException("the key does not authenticate under master key " + keyId
                    + " and its associated data", e);
        }
        return key.array();
    }

    @Override
    public String toString() {
        return "LocalKeyManagementService[" + keyId + "]";
    }

    private static byte[] keyIdMac(byte[] masterKey, AesGcm gcm) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256", gcm.provider());
            mac.init(new SecretKeySpec(masterKey, "HmacSHA256"));
            return mac.doFinal(KEY_ID_LABEL.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("provider " + gcm.provider().getName() + " has no HmacSHA256", e);
        }
    }
}
