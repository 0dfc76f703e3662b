package dev.bulwark.storage.crypto;

import java.security.GeneralSecurityException;

/**
 * The key-encryption key a wrapped key names is not in the keyring: the owner or the version was never created
 * here (a segment from another installation, or a keyring restored from an older copy). The storage must not serve
 * data under it.
 */
public class KeyUnavailableException extends GeneralSecurityException {

    public KeyUnavailableException(String message) {
        super(message);
    }
}
