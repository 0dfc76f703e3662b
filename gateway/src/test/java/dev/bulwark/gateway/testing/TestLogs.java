package dev.bulwark.gateway.testing;

import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.FlushPolicy;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.StorageSettings;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.LocalKeyManagementService;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Real log stores for unit tests. The page-cache policy acknowledges an append as soon as it is written, so commits and
 * acks=all produces complete on the test's thread without waiting for an fsync thread; the store's background work
 * (retention, checkpoints, flushes) is due only after the test is over.
 */
public final class TestLogs {

    private static final AesGcm GCM = new AesGcm();

    private TestLogs() {
    }

    public static StorageSettings settings() {
        Duration never = Duration.ofHours(1);
        return new StorageSettings(FlushPolicy.PAGE_CACHE, never, 1, 1, never, never, Duration.ofDays(1), never);
    }

    public static LogManager open(Path dataDir, Clock clock) throws IOException {
        return LogManager.open(dataDir, settings(), keys(dataDir), Map.of(), clock, log -> { });
    }

    /** The keyring of {@code <dir>/keys} under a fixed in-memory master key, created on first use. */
    public static AtRestKeys keys(Path dir) throws IOException {
        byte[] masterKey = new byte[AesGcm.KEY_LENGTH];
        Arrays.fill(masterKey, (byte) 0x5a);
        try {
            return new AtRestKeys(Keyring.open(dir, new LocalKeyManagementService(masterKey, GCM), GCM), GCM);
        } catch (GeneralSecurityException e) {
            throw new IOException("the test keyring of " + dir + " does not open", e);
        }
    }

    /**
     * Sealed files under a keyring of their own, in {@code <dir>/sealed-files/keys}: never the keyring of a log store
     * in {@code dir}, since two keyring objects on one file would each write the keys the other created.
     */
    public static SealedFiles sealedFiles(Path dir) throws IOException {
        return new SealedFiles(keys(dir.resolve("sealed-files")));
    }

    /** Copies a data directory as it is now, as a process crash would leave it (the page cache survives). */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            walk.forEach(source -> {
                Path target = to.resolve(from.relativize(source).toString());
                try {
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
