package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.EntryOpener;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.LocalKeyManagementService;
import dev.bulwark.storage.crypto.MasterKeySource;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline key command on a data directory laid out as the server lays it out (keys/, log/). */
class KeysCommandTest {

    private static final String TENANT = "acme-id";

    @TempDir
    Path dataDir;

    private final AesGcm gcm = new AesGcm();
    private byte[] masterKey;
    private Path masterKeyFile;
    private TopicMetadata topic;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void dataDirectoryOfAStoppedServer() throws Exception {
        masterKey = gcm.newKey().getEncoded();
        masterKeyFile = writeKey("master.key", masterKey);
        try (LogManager logs = open(masterKey)) {
            topic = logs.createTopic(TENANT, "payments", 1, Map.of());
            PartitionLog log = logs.log(topic.id(), 0).orElseThrow();
            log.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(
                    "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8))));
            logs.internalLog("consumer-offsets", Map.of()).append(MemoryRecords.withRecords(Compression.NONE,
                    new SimpleRecord("group".getBytes(StandardCharsets.UTF_8), "1".getBytes(StandardCharsets.UTF_8))));
        }
    }

    private LogManager open(byte[] key) throws Exception {
        Keyring keyring = Keyring.open(dataDir, new LocalKeyManagementService(key, gcm), gcm);
        return LogManager.open(dataDir.resolve("log"), TestLogs.settings(), new AtRestKeys(keyring, gcm), Map.of(),
                Clock.systemUTC(), log -> { });
    }

    private Path writeKey(String name, byte[] key) throws IOException {
        Path file = dataDir.getParent().resolve(dataDir.getFileName() + "-" + name);
        Files.writeString(file, Base64.getEncoder().encodeToString(key));
        return file;
    }

    private int run(String... args) {
        String[] keys = new String[args.length + 1];
        keys[0] = "keys";
        System.arraycopy(args, 0, keys, 1, args.length);
        return BulwarkCommand.run(keys, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private Keyring.Versions versions(byte[] key, KeyOwner owner) throws Exception {
        return Keyring.open(dataDir, new LocalKeyManagementService(key, gcm), gcm).versions(owner).orElseThrow();
    }

    @Test
    void rotatesATenantKeyAndTheDataStillReads() throws Exception {
        assertEquals(0, run("rotate-tenant", "--data-dir", dataDir.toString(), "--master-key-file",
                masterKeyFile.toString(), TENANT), err.toString());

        assertTrue(out.toString().contains("destroyed " + TENANT + "/v1"), out.toString());
        assertEquals(new Keyring.Versions(List.of(2), 2), versions(masterKey, KeyOwner.tenant(TENANT)));
        try (LogManager logs = open(masterKey)) {
            PartitionLog log = logs.log(topic.id(), 0).orElseThrow();
            assertFalse(log.isOffline());
            assertEquals(1, log.read(0, Integer.MAX_VALUE, true).highWatermark());
        }
        List<AuditEvent> audited = new ArrayList<>();
        new JournalReader(dataDir.resolve("audit"), new EntryOpener(Keyring.open(dataDir,
                new LocalKeyManagementService(masterKey, gcm), gcm), gcm))
                .scan(1, Long.MAX_VALUE, stored -> audited.add(stored.event()));
        assertEquals(1, audited.size(), "the offline rotation is in the audit trail");
        assertEquals("key.rotate", audited.get(0).action());
        assertEquals("tenant-id:" + TENANT, audited.get(0).resource());
        assertEquals(Outcome.SUCCESS, audited.get(0).outcome());
    }

    @Test
    void rotatesTheMasterKeyToTheOneInTheNewFile() throws Exception {
        byte[] next = gcm.newKey().getEncoded();
        Path nextFile = writeKey("next.key", next);

        assertEquals(0, run("--data-dir", dataDir.toString(), "--master-key-file", masterKeyFile.toString(),
                "rotate-master", "--new-master-key-file", nextFile.toString()), err.toString());

        String nextId = MasterKeySource.fromFile(nextFile, gcm).kms().keyId();
        assertTrue(out.toString().contains("to " + nextId), out.toString());
        try (LogManager logs = open(next)) {
            assertFalse(logs.log(topic.id(), 0).orElseThrow().isOffline());
        }
    }

    @Test
    void refusesADataDirectoryInUse() throws Exception {
        byte[] keyring = Files.readAllBytes(dataDir.resolve("keys/keyring"));
        try (LogManager running = open(masterKey)) {
            assertEquals(1, run("--data-dir", dataDir.toString(), "--master-key-file", masterKeyFile.toString(),
                    "rotate-tenant", TENANT));
        }
        assertTrue(err.toString().contains("in use by a running server"), err.toString());
        assertEquals(List.of(1), versions(masterKey, KeyOwner.tenant(TENANT)).live());
        assertEquals(ByteBuffer.wrap(keyring),
                ByteBuffer.wrap(Files.readAllBytes(dataDir.resolve("keys/keyring"))));
    }

    @Test
    void refusesADirectoryWithoutAKeyringAndBadUsage() {
        Path elsewhere = dataDir.resolve("log");
        assertEquals(1, run("--data-dir", elsewhere.toString(), "--master-key-file", masterKeyFile.toString(),
                "rotate-tenant", TENANT));
        assertTrue(err.toString().contains("not a Bulwark data directory"), err.toString());
        assertFalse(Files.exists(elsewhere.resolve("keys")), "no keyring was created");

        err.reset();
        assertEquals(1, run("--data-dir", dataDir.toString(), "rotate-tenant", TENANT), "no master key, no dev key");
        assertTrue(err.toString().contains("failed: "), err.toString());
        assertEquals(2, run("--data-dir", dataDir.toString(), "--master-key-file", masterKeyFile.toString(),
                "rotate-system"));
        assertEquals(2, run("--data-dir", dataDir.toString(), "--master-key-file", masterKeyFile.toString(),
                "rotate-master"));
        assertEquals(2, run("--data-dir", dataDir.toString(), "--master-key-file", masterKeyFile.toString(),
                "rotate-tenant", "$system"));
    }
}
