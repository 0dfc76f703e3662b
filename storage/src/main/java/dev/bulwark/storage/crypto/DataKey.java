package dev.bulwark.storage.crypto;

import javax.crypto.SecretKey;

/**
 * A segment's data key, to seal and open its batches with {@link AesGcm}, and its wrapped form, to store in the
 * segment's header.
 */
public record DataKey(SecretKey key, WrappedDataKey wrapped) {

    @Override
    public String toString() {
        // SecretKeySpec's hash code is computed from the key bytes, so the record's default would print a key digest.
        return "DataKey[" + wrapped + "]";
    }
}
