package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.Security;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.FlushPolicy;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.StorageSettings;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.KeysDirectory;
import dev.bulwark.storage.crypto.MasterKeySource;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A stopped server's data directory, opened as the server opens it: the keyring under the configured master key, the
 * log store (which takes the directory's lock and keeps it until {@link #close()}), the audit trail and the tenant
 * store. Every change an offline subcommand makes goes through {@link #record}, under the operating-system user.
 */
final class OfflineDataDir implements AutoCloseable {

    /** Where the server keeps its log store in its data directory. */
    static final String LOG_DIR = "log";
    private static final String LOCK_FILE = ".lock";

    final Path path;
    final CryptoProvider crypto;
    final AtRestKeys keys;
    final SealedFiles sealedFiles;
    final LogManager logs;
    final AuditTrail audit;
    final TenantStore tenants;
    private final Clock clock;

    private OfflineDataDir(Path path, CryptoProvider crypto, AtRestKeys keys, LogManager logs, AuditTrail audit,
                           TenantStore tenants, Clock clock) {
        this.path = path;
        this.crypto = crypto;
        this.keys = keys;
        this.sealedFiles = new SealedFiles(keys);
        this.logs = logs;
        this.audit = audit;
        this.tenants = tenants;
        this.clock = clock;
    }

    static OfflineDataDir open(DataDirOptions options) throws IOException, GeneralSecurityException {
        Path dataDir = options.dataDir.toAbsolutePath();
        Path keyring = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
        if (!Files.exists(keyring)) {
            // Opening a keyring creates one when there is none: a mistyped directory must not get a new one.
            throw new IOException("no keyring " + keyring + ": " + dataDir + " is not a Bulwark data directory");
        }
        Path logDir = dataDir.resolve(LOG_DIR);
        refuseWhileInUse(logDir);
        CryptoProvider crypto = options.fips ? CryptoProvider.fips() : CryptoProvider.jdk();
        AesGcm gcm = crypto.aesGcm();
        AtRestKeys keys = new AtRestKeys(Keyring.open(dataDir, MasterKeySource.load(options.masterKeyFile(),
                options.masterKey(), DataDirOptions.MASTER_KEY_ENV, dataDir, gcm).kms(), gcm), gcm);
        Clock clock = Clock.systemUTC();
        LogManager logs = LogManager.open(logDir, offlineSettings(logDir), keys, Map.of(), clock, log -> { });
        try {
            SealedFiles sealedFiles = new SealedFiles(keys);
            AuditTrail audit = AuditTrail.open(dataDir, keys, sealedFiles, AuditJournal.Settings.defaults(), clock);
            try {
                return new OfflineDataDir(dataDir, crypto, keys, logs, audit,
                        TenantStore.open(Security.directory(dataDir), sealedFiles, clock), clock);
            } catch (IOException | RuntimeException e) {
                audit.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            logs.close();
            throw e;
        }
    }

    /** The SCRAM users, deriving new credentials with {@code iterations} as the server's bulwark.sasl.scram-iterations. */
    UserStore users(int iterations) throws IOException {
        return UserStore.open(Security.directory(path), sealedFiles, iterations, crypto, clock);
    }

    /**
     * Records an offline change in the audit trail, durably, under the operating-system user who ran the command, as
     * the REST API records the same change under its caller.
     */
    private void record(String action, String resource, Outcome outcome, String reason, Map<String, String> details)
            throws IOException {
        try {
            audit.record(new AuditEvent(clock.millis(), null, "os:" + System.getProperty("user.name"), null,
                    "bulwark-command", "offline", action, resource, outcome, reason, details))
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recording the change in the audit trail", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the change was made but not recorded in the audit trail: " + e.getMessage(), e);
        }
    }

    /** A change and its audit record: a failure is recorded as such, then rethrown. */
    <T> T recorded(String action, String resource, Change<T> change, Function<T, Map<String, String>> details)
            throws Exception {
        T done;
        try {
            done = change.make();
        } catch (Exception e) {
            record(action, resource, Outcome.FAILURE, e.getMessage(), Map.of());
            throw e;
        }
        record(action, resource, Outcome.SUCCESS, null, details.apply(done));
        return done;
    }

    @FunctionalInterface
    interface Change<T> {
        T make() throws Exception;
    }

    @Override
    public void close() throws IOException {
        try (LogManager closingLast = logs) {
            audit.close();
        }
    }

    /**
     * Refuses a data directory a server holds, before the keyring is opened: opening it removes a temporary file a
     * running server may be writing. The log store then takes the lock itself and keeps it while the command runs.
     */
    private static void refuseWhileInUse(Path logDir) throws IOException {
        Path lockFile = logDir.resolve(LOCK_FILE);
        if (!Files.exists(lockFile)) {
            return;
        }
        String inUse = "data directory " + logDir.getParent() + " is in use by a running server: stop it first, or"
                + " use the REST API";
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
             FileLock lock = channel.tryLock()) {
            if (lock == null) {
                throw new IOException(inUse);
            }
        } catch (OverlappingFileLockException e) {
            throw new IOException(inUse + " (in this process)", e);
        }
    }

    /**
     * Background work (retention, compaction, checkpoints) is due only long after the command ends: the command
     * knows neither the broker's dynamic defaults nor the topics' retention as the server applies it, so it must
     * not delete or compact anything. Batches are sealed or not as the store has done since it was created.
     */
    private static StorageSettings offlineSettings(Path logDir) throws IOException {
        Duration never = Duration.ofDays(365);
        return new StorageSettings(FlushPolicy.DURABLE, never, 1, Math.max(1, Runtime.getRuntime()
                .availableProcessors()), never, never, never, never, LogManager.sealsBatches(logDir));
    }
}
