package dev.bulwark.storage.crypto;

import java.io.IOException;

/**
 * The root of the key hierarchy: holds the master key and wraps the keys below it with it, so that what is stored on
 * disk is useless without it. {@link LocalKeyManagementService} keeps the master key in memory; a cloud or HSM KMS
 * can implement this interface and keep it out of the process.
 *
 * <p>Implementations are thread-safe. The {@link Keyring} calls them only when it opens, creates a key-encryption
 * key or rotates, never on the produce or fetch path.
 */
public interface KeyManagementService {

    int MAX_KEY_ID_LENGTH = 255;

    /**
     * A non-secret identifier of the master key, stable across restarts and distinct for distinct keys: stored next
     * to what the key wraps so that a wrong key is named in the error instead of failing as corruption.
     * At most {@value #MAX_KEY_ID_LENGTH} UTF-8 bytes.
     */
    String keyId();

    /**
     * Encrypts and authenticates {@code key} together with {@code associatedData}, which is not stored: the same
     * associated data must be given to {@link #unwrap}.
     *
     * @throws IOException when a remote KMS cannot be reached
     */
    byte[] wrap(byte[] key, byte[] associatedData) throws IOException;

    /**
     * The key that {@link #wrap} wrapped into {@code wrapped} with the same associated data.
     *
     * @throws KeyUnwrapException when the bytes were not wrapped by this master key with this associated data, or
     *                            were changed since
     * @throws IOException        when a remote KMS cannot be reached
     */
    byte[] unwrap(byte[] wrapped, byte[] associatedData) throws IOException, KeyUnwrapException;
}
