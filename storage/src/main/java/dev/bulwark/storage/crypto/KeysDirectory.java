package dev.bulwark.storage.crypto;

import dev.bulwark.storage.MetadataFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** {@code <data-dir>/keys}: the keyring and the dev master key, readable by the broker's user only. */
public final class KeysDirectory {

    public static final String NAME = "keys";

    private KeysDirectory() {
    }

    public static Path of(Path dataDir) {
        return dataDir.resolve(NAME);
    }

    /** Creates the directory, owner-only where the file system has POSIX permissions, durably. */
    static void create(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        if (directory.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(directory,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(directory);
        }
        MetadataFile.syncDirectory(directory.getParent());
    }
}
