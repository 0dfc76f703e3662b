package dev.bulwark.storage.crypto;

import java.security.GeneralSecurityException;

/** A configured master key that cannot be used: missing, of the wrong length, not base64, or configured twice. */
public final class MasterKeyException extends GeneralSecurityException {

    public MasterKeyException(String message) {
        super(message);
    }
}
