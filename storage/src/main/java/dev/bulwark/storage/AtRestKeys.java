package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;

import java.util.Objects;

/**
 * What the log store seals its data with: the keyring that hands out and opens each segment's data key, and the
 * AES-GCM of the provider chosen for the process (the keyring's own, so that one setting picks the provider for the
 * whole key hierarchy).
 */
public record AtRestKeys(Keyring keyring, AesGcm gcm) {

    public AtRestKeys {
        Objects.requireNonNull(keyring, "keyring");
        Objects.requireNonNull(gcm, "gcm");
    }
}
