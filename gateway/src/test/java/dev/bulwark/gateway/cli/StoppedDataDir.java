package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.journal.EntryOpener;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.Security;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.LocalKeyManagementService;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A data directory as a stopped server leaves it, made by the real stores under a master key kept in a file beside
 * it; runs {@code bulwark} subcommands on it with {@code --data-dir} and {@code --master-key-file}.
 */
final class StoppedDataDir {

    final Path path;
    final Path masterKeyFile;
    private final AesGcm gcm = new AesGcm();
    private final byte[] masterKey;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    StoppedDataDir(Path path) throws IOException {
        this.path = path;
        this.masterKey = gcm.newKey().getEncoded();
        this.masterKeyFile = path.resolveSibling(path.getFileName() + "-master.key");
        Files.writeString(masterKeyFile, Base64.getEncoder().encodeToString(masterKey));
        openLogs().close();
    }

    /** The log store as the server opens it: while it is open, the directory is in use. */
    LogManager openLogs() throws IOException {
        return LogManager.open(path.resolve(OfflineDataDir.LOG_DIR), TestLogs.settings(), keys(), Map.of(),
                Clock.systemUTC(), log -> { });
    }

    UserStore users() throws IOException {
        return UserStore.open(Security.directory(path), new SealedFiles(keys()), UserStore.MIN_ITERATIONS,
                CryptoProvider.jdk(), Clock.systemUTC());
    }

    private AtRestKeys keys() throws IOException {
        try {
            return new AtRestKeys(Keyring.open(path, new LocalKeyManagementService(masterKey, gcm), gcm), gcm);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** Runs {@code bulwark SUBCOMMAND... --data-dir D --master-key-file F}; the exit status. */
    int run(String... args) {
        return runAsGiven(Stream.concat(Stream.of(args), Stream.of("--data-dir", path.toString(), "--master-key-file",
                masterKeyFile.toString())).toArray(String[]::new));
    }

    /** Runs {@code bulwark ARGS...}; the exit status. */
    int runAsGiven(String... args) {
        out.reset();
        err.reset();
        return BulwarkCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    List<AuditEvent> audited() throws IOException {
        List<AuditEvent> events = new ArrayList<>();
        try {
            new JournalReader(path.resolve("audit"), new EntryOpener(Keyring.open(path,
                    new LocalKeyManagementService(masterKey, gcm), gcm), gcm))
                    .scan(1, Long.MAX_VALUE, stored -> events.add(stored.event()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
        return events;
    }
}
