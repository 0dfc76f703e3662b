package dev.bulwark.storage.crypto;

import java.security.GeneralSecurityException;

/** The keyring was written under another master key than the one configured. */
public final class WrongMasterKeyException extends GeneralSecurityException {

    private final String expectedKeyId;
    private final String givenKeyId;

    public WrongMasterKeyException(String message, String expectedKeyId, String givenKeyId) {
        super(message);
        this.expectedKeyId = expectedKeyId;
        this.givenKeyId = givenKeyId;
    }

    /** The id of the master key the keyring was written under. */
    public String expectedKeyId() {
        return expectedKeyId;
    }

    /** The id of the master key that was configured. */
    public String givenKeyId() {
        return givenKeyId;
    }
}
