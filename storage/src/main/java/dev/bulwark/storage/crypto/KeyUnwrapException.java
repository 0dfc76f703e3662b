package dev.bulwark.storage.crypto;

import java.security.GeneralSecurityException;

/** Wrapped key bytes that do not authenticate: a wrong key, other associated data, corruption or tampering. */
public final class KeyUnwrapException extends GeneralSecurityException {

    public KeyUnwrapException(String message) {
        super(message);
    }

    public KeyUnwrapException(String message, Throwable cause) {
        super(message, cause);
    }
}
