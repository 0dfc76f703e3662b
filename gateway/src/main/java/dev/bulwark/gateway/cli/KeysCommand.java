package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.FlushPolicy;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.StorageSettings;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.KeysDirectory;
import dev.bulwark.storage.crypto.MasterKeySource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Key rotation with no server running, on the server's data directory:
 *
 * <pre>
 * KeysCommand --data-dir D --master-key-file F [--fips] rotate-tenant TENANT_ID
 * KeysCommand --data-dir D --master-key-file F [--fips] rotate-master --new-master-key-file N
 * </pre>
 *
 * {@code F} holds the master key the keyring is under now (for a server on the dev key, {@code D/keys/dev-master.key}).
 * The command opens the log store as the server does, which takes the data directory's lock: it refuses to run while
 * a server uses the directory. It does what the REST API does ({@link AtRestKeyManagement}) and exits 0 once the
 * change is durable, 1 when it failed, 2 on a usage error. {@code --fips} takes the keys' cryptography from Bouncy
 * Castle's FIPS module, as the server does under {@code bulwark.crypto.fips} (in the FIPS build only).
 */
public final class KeysCommand {

    static final String USAGE = """
            usage: KeysCommand --data-dir DIR --master-key-file FILE [--fips] COMMAND
              rotate-tenant TENANT_ID                     rotate a tenant's key (its id, as GET /api/v1/tenants shows)
              rotate-master --new-master-key-file FILE    rewrap every key under the master key in FILE
            The server must be stopped. FILE holds a 256-bit key, raw or base64.
            --fips: FIPS mode, as bulwark.crypto.fips=true (the FIPS build only).""";

    /** Where the server keeps its log store in its data directory. */
    private static final String LOG_DIR = "log";
    private static final String LOCK_FILE = ".lock";

    private KeysCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            out.println(arguments.execute());
            return 0;
        } catch (IOException | GeneralSecurityException | AtRestKeyManagement.RotationIncompleteException
                 | RuntimeException e) {
            err.println("failed: " + e.getMessage());
            return 1;
        }
    }

    private record Arguments(Path dataDir, Path masterKeyFile, boolean fips, String command, String tenantId,
                             Path newMasterKeyFile) {

        static Arguments parse(String[] args) {
            Path dataDir = null;
            Path masterKeyFile = null;
            Path newMasterKeyFile = null;
            boolean fips = false;
            List<String> positional = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--data-dir" -> dataDir = Path.of(value(args, ++i, "--data-dir"));
                    case "--master-key-file" -> masterKeyFile = Path.of(value(args, ++i, "--master-key-file"));
                    case "--new-master-key-file" ->
                            newMasterKeyFile = Path.of(value(args, ++i, "--new-master-key-file"));
                    case "--fips" -> fips = true;
                    default -> positional.add(args[i]);
                }
            }
            if (dataDir == null || masterKeyFile == null || positional.isEmpty()) {
                throw new IllegalArgumentException("--data-dir, --master-key-file and a command are required");
            }
            String command = positional.get(0);
            switch (command) {
                case "rotate-tenant" -> {
                    if (positional.size() != 2) {
                        throw new IllegalArgumentException("rotate-tenant takes one tenant id");
                    }
                    KeyOwner.tenant(positional.get(1));
                    return new Arguments(dataDir, masterKeyFile, fips, command, positional.get(1), null);
                }
                case "rotate-master" -> {
                    if (positional.size() != 1 || newMasterKeyFile == null) {
                        throw new IllegalArgumentException("rotate-master takes --new-master-key-file FILE");
                    }
                    return new Arguments(dataDir, masterKeyFile, fips, command, null, newMasterKeyFile);
                }
                default -> throw new IllegalArgumentException("unknown command " + command);
            }
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        String execute() throws IOException, GeneralSecurityException,
                AtRestKeyManagement.RotationIncompleteException {
            Path keyring = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
            if (!Files.exists(keyring)) {
                // Opening a keyring creates one when there is none: a mistyped directory must not get a new one.
                throw new IOException("no keyring " + keyring + ": " + dataDir + " is not a Bulwark data directory");
            }
            Path logDir = dataDir.resolve(LOG_DIR);
            refuseWhileInUse(logDir);
            AesGcm gcm = (fips ? CryptoProvider.fips() : CryptoProvider.jdk()).aesGcm();
            AtRestKeys keys = new AtRestKeys(Keyring.open(dataDir, MasterKeySource.fromFile(masterKeyFile, gcm).kms(),
                    gcm), gcm);
            Clock clock = Clock.systemUTC();
            try (LogManager logs = LogManager.open(logDir, offlineSettings(logDir), keys, Map.of(), clock, log -> { });
                 AuditTrail audit = AuditTrail.open(dataDir, keys, new SealedFiles(keys),
                         AuditJournal.Settings.defaults(), clock)) {
                AtRestKeyManagement management = new AtRestKeyManagement(keys, logs);
                String action = command.equals("rotate-tenant") ? "key.rotate" : "key.rotate-master";
                String resource = command.equals("rotate-tenant") ? "tenant-id:" + tenantId : "master-key:current";
                try {
                    String done = switch (command) {
                        case "rotate-tenant" -> describe(management.rotate(KeyOwner.tenant(tenantId)));
                        case "rotate-master" -> "master key rotated from " + keys.keyring().masterKeyId() + " to "
                                + management.rotateMaster(newMasterKeyFile) + ": start the server with the master key"
                                + " in " + newMasterKeyFile;
                        default -> throw new IllegalStateException(command);
                    };
                    record(audit, clock, action, resource, Outcome.SUCCESS, null, Map.of("result", done));
                    return done;
                } catch (IOException | GeneralSecurityException | AtRestKeyManagement.RotationIncompleteException
                         | RuntimeException e) {
                    record(audit, clock, action, resource, Outcome.FAILURE, e.getMessage(), Map.of());
                    throw e;
                }
            }
        }
    }

    /**
     * Records the offline change in the data directory's audit trail, durably, under the operating-system user who ran
     * the command.
     */
    private static void record(AuditTrail audit, Clock clock, String action, String resource, Outcome outcome,
                               String reason, Map<String, String> details) throws IOException {
        try {
            audit.record(new AuditEvent(clock.millis(), null, "os:" + System.getProperty("user.name"), null,
                    "bulwark-keys-command", "offline", action, resource, outcome, reason, details))
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recording the change in the audit trail", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the change was made but not recorded in the audit trail: " + e.getMessage(), e);
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

    private static String describe(AtRestKeyManagement.Rotation rotation) {
        return "key of " + rotation.owner() + " rotated to version " + rotation.version() + ": "
                + rotation.rewrapped() + " segment header(s) rewrapped, destroyed "
                + (rotation.destroyed().isEmpty() ? "none" : String.join(", ", rotation.destroyed()));
    }
}
