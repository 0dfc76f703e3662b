package dev.bulwark.storage.crypto;

/**
 * The key-encryption key a wrapped key names was destroyed: its version was retired after a rotation, or its owner
 * was crypto-shredded. What it protected is unreadable for good; the storage must not serve it.
 */
public final class KeyDestroyedException extends KeyUnavailableException {

    private final KeyOwner owner;

    public KeyDestroyedException(KeyOwner owner, String message) {
        super(message);
        this.owner = owner;
    }

    /** The owner whose key was destroyed. */
    public KeyOwner owner() {
        return owner;
    }
}
