package dev.bulwark.acl;

import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.LocalKeyManagementService;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/** What test stores seal their files with: a keyring in {@code <dir>/keys} under a fixed in-memory master key. */
public final class TestSealedFiles {

    private static final AesGcm GCM = new AesGcm();

    private TestSealedFiles() {
    }

    /** The sealed files of the keyring in {@code dir}, created on first use. */
    public static SealedFiles in(Path dir) throws IOException {
        byte[] masterKey = new byte[AesGcm.KEY_LENGTH];
        Arrays.fill(masterKey, (byte) 0x5a);
        try {
            return new SealedFiles(new AtRestKeys(Keyring.open(dir, new LocalKeyManagementService(masterKey, GCM), GCM),
                    GCM));
        } catch (GeneralSecurityException e) {
            throw new IOException("the test keyring of " + dir + " does not open", e);
        }
    }
}
