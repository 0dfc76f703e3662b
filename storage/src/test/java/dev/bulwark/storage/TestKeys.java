package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.LocalKeyManagementService;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/** The keys of test stores: a keyring in {@code <dir>/keys} under a fixed in-memory master key. */
final class TestKeys {

    static final AesGcm GCM = new AesGcm();
    private static final byte[] MASTER_KEY = new byte[AesGcm.KEY_LENGTH];

    static {
        Arrays.fill(MASTER_KEY, (byte) 0x5a);
    }

    private TestKeys() {
    }

    static LocalKeyManagementService masterKey() {
        return new LocalKeyManagementService(MASTER_KEY, GCM);
    }

    /** The keyring of {@code dir}, created on first use. */
    static AtRestKeys open(Path dir) throws IOException {
        try {
            return new AtRestKeys(Keyring.open(dir, masterKey(), GCM), GCM);
        } catch (GeneralSecurityException e) {
            throw new IOException("the test keyring of " + dir + " does not open", e);
        }
    }
}
