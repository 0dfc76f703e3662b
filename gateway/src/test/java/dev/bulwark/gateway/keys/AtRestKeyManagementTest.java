package dev.bulwark.gateway.keys;

import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.KeysDirectory;
import dev.bulwark.storage.crypto.LocalKeyManagementService;
import dev.bulwark.storage.crypto.MasterKeyException;
import dev.bulwark.storage.crypto.WrongMasterKeyException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtRestKeyManagementTest {

    private static final String ACME = "acme-id";
    private static final String GLOBEX = "globex-id";
    private static final KeyOwner ACME_KEYS = KeyOwner.tenant(ACME);

    @TempDir
    Path dir;

    private AtRestKeys keys;
    private LogManager logs;
    private AtRestKeyManagement management;

    @BeforeEach
    void open() throws IOException {
        keys = TestLogs.keys(dir);
        logs = LogManager.open(dir.resolve("log"), TestLogs.settings(), keys, Map.of(), Clock.systemUTC(), log -> { });
        management = new AtRestKeyManagement(keys, logs);
    }

    @AfterEach
    void close() throws IOException {
        logs.close();
    }

    /** A topic of {@code tenant} with small segments, holding {@code count} records over several of them. */
    private PartitionLog filled(String tenant, int count) throws IOException {
        var topic = logs.createTopic(tenant, "payments", 1, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        PartitionLog log = logs.log(topic.id(), 0).orElseThrow();
        for (int i = 0; i < count; i++) {
            log.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(
                    ("key-" + i).getBytes(StandardCharsets.UTF_8), ("value-" + i).repeat(20)
                    .getBytes(StandardCharsets.UTF_8))));
        }
        return log;
    }

    @Test
    void rotatingATenantKeyRewrapsEverySegmentDestroysTheOldVersionAndEverythingStillReads() throws Exception {
        PartitionLog acme = filled(ACME, 20);
        PartitionLog globex = filled(GLOBEX, 5);
        byte[] oldKek = wrappedKeks().get(ACME).get(1);
        byte[] globexKek = wrappedKeks().get(GLOBEX).get(1);

        AtRestKeyManagement.Rotation rotation = management.rotate(ACME_KEYS);

        assertEquals(2, rotation.version());
        assertTrue(rotation.rewrapped() > 2, "several segments: " + rotation.rewrapped());
        assertEquals(List.of(ACME + "/v1"), rotation.destroyed());
        assertEquals(Optional.of(new Keyring.Versions(List.of(2), 2)), management.versions(ACME_KEYS));
        assertEquals(values(20), values(acme));
        assertFalse(isUnder(KeysDirectory.of(dir), oldKek), "the old wrapped KEK is gone from keys/");
        assertTrue(isUnder(KeysDirectory.of(dir), globexKek), "another tenant's key is untouched");
        assertEquals(values(5), values(globex));

        logs.close();
        open();
        assertEquals(values(20), values(logs.log(acme.id().topicId(), 0).orElseThrow()));
        assertEquals(values(5), values(logs.log(globex.id().topicId(), 0).orElseThrow()));
    }

    @Test
    void aSecondRotationDestroysTheVersionTheFirstLeft() throws Exception {
        PartitionLog acme = filled(ACME, 10);
        management.rotate(ACME_KEYS);
        acme.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("k".getBytes(StandardCharsets.UTF_8),
                "after".getBytes(StandardCharsets.UTF_8))));

        AtRestKeyManagement.Rotation second = management.rotate(ACME_KEYS);

        assertEquals(List.of(ACME + "/v2"), second.destroyed());
        assertEquals(11, values(acme).size());
    }

    @Test
    void theSystemKeyIsNotRotated() throws Exception {
        PartitionLog offsets = logs.internalLog("consumer-offsets", Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        offsets.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(
                "group".getBytes(StandardCharsets.UTF_8), "offset".getBytes(StandardCharsets.UTF_8))));
        Keyring.Versions before = keys.keyring().versions(KeyOwner.SYSTEM).orElseThrow();

        assertThrows(IllegalArgumentException.class, () -> management.rotate(KeyOwner.SYSTEM));

        assertEquals(before, keys.keyring().versions(KeyOwner.SYSTEM).orElseThrow(), "no version added or destroyed");
        assertEquals(1, values(offsets).size());
    }

    @Test
    void theMasterKeyRotatesToTheKeyInAFileAndTheOldOneNoLongerOpensTheKeyring() throws Exception {
        PartitionLog acme = filled(ACME, 5);
        byte[] newKey = new AesGcm().newKey().getEncoded();
        Path file = dir.resolve("new-master.key");
        Files.writeString(file, Base64.getEncoder().encodeToString(newKey) + "\n");
        String expectedId = new LocalKeyManagementService(newKey, keys.gcm()).keyId();

        assertEquals(expectedId, management.rotateMaster(file));

        assertEquals(expectedId, management.masterKeyId());
        assertEquals(values(5), values(acme));
        logs.close();
        assertTrue(assertThrows(IOException.class, () -> TestLogs.keys(dir)).getCause()
                instanceof WrongMasterKeyException, "the old master key no longer opens the keyring");
        Keyring reopened = Keyring.open(dir, new LocalKeyManagementService(newKey, keys.gcm()), keys.gcm());
        assertEquals(Optional.of(new Keyring.Versions(List.of(1), 1)), reopened.versions(ACME_KEYS));
        logs = LogManager.open(dir.resolve("log"), TestLogs.settings(), new AtRestKeys(reopened, keys.gcm()), Map.of(),
                Clock.systemUTC(), log -> { });
        assertEquals(values(5), values(logs.log(acme.id().topicId(), 0).orElseThrow()));
    }

    @Test
    void aMissingOrUnusableMasterKeyFileChangesNothing() throws Exception {
        filled(ACME, 1);
        byte[] before = Files.readAllBytes(KeysDirectory.of(dir).resolve(Keyring.FILE_NAME));
        Path text = dir.resolve("password.txt");
        Files.writeString(text, "correct horse battery staple");

        assertThrows(MasterKeyException.class, () -> management.rotateMaster(dir.resolve("absent.key")));
        assertThrows(MasterKeyException.class, () -> management.rotateMaster(text));

        assertEquals(ByteBuffer.wrap(before),
                ByteBuffer.wrap(Files.readAllBytes(KeysDirectory.of(dir).resolve(Keyring.FILE_NAME))));
    }

    @Test
    void aShreddedTenantCannotBeRotatedAndItsDataNoLongerOpens() throws Exception {
        PartitionLog acme = filled(ACME, 5);
        management.rotate(ACME_KEYS);
        byte[] kek = wrappedKeks().get(ACME).get(2);

        keys.keyring().shred(ACME_KEYS);

        assertThrows(KeyDestroyedException.class, () -> management.rotate(ACME_KEYS));
        assertFalse(isUnder(KeysDirectory.of(dir), kek));
        logs.close();
        open();
        assertTrue(logs.log(acme.id().topicId(), 0).isEmpty(),
                "the shredded tenant's topic metadata no longer opens, so its partitions are not served");
    }

    @Test
    void anOfflinePartitionKeepsTheOldVersions() throws Exception {
        PartitionLog acme = filled(ACME, 5);
        Path segment;
        try (Stream<Path> files = Files.list(dir.resolve("log/topics/" + acme.id().topicId() + "/0"))) {
            segment = files.filter(f -> f.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
        logs.close();
        // The last tag byte of both wrapped data keys in the header (slots at 32 and 164, each a 2-byte length and
        // the key) flipped: the key does not open and the partition starts offline.
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            for (int slot : new int[] {32, 164}) {
                ByteBuffer length = ByteBuffer.allocate(2);
                channel.read(length, slot);
                ByteBuffer last = ByteBuffer.allocate(1);
                long position = slot + 2 + length.getShort(0) - 1;
                channel.read(last, position);
                channel.write(ByteBuffer.wrap(new byte[] {(byte) ~last.get(0)}), position);
            }
        }
        open();

        AtRestKeyManagement.RotationIncompleteException incomplete = assertThrows(
                AtRestKeyManagement.RotationIncompleteException.class, () -> management.rotate(ACME_KEYS));

        assertTrue(incomplete.getMessage().contains("older versions were kept"), incomplete.getMessage());
        assertEquals(Optional.of(new Keyring.Versions(List.of(1, 2), 1)), management.versions(ACME_KEYS));
    }

    private static List<String> values(int count) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(("value-" + i).repeat(20));
        }
        return values;
    }

    private static List<String> values(PartitionLog log) throws IOException {
        List<String> values = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.highWatermark()) {
            LogSlice slice = log.read(offset, Integer.MAX_VALUE, true).slice().orElseThrow();
            ByteBuffer buffer = ByteBuffer.allocate(slice.length());
            slice.readInto(buffer);
            buffer.flip();
            for (RecordBatch batch : MemoryRecords.readableRecords(buffer).batches()) {
                for (Record record : batch) {
                    values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
                }
                offset = batch.nextOffset();
            }
        }
        return values;
    }

    /**
     * The wrapped KEKs of the keyring file, by owner id and version, read as its format is documented (a
     * MetadataFile of 9 header bytes, then the payload of {@code KeyringFormat}).
     */
    private Map<String, Map<Integer, byte[]>> wrappedKeks() throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(KeysDirectory.of(dir).resolve(Keyring.FILE_NAME)));
        in.position(9);
        int masterKeyIdLength = in.get() & 0xFF;
        in.position(in.position() + masterKeyIdLength);
        Map<String, Map<Integer, byte[]>> owners = new HashMap<>();
        int ownerCount = in.getInt();
        for (int o = 0; o < ownerCount; o++) {
            byte[] id = new byte[in.get() & 0xFF];
            in.get(id);
            in.getInt();
            Map<Integer, byte[]> keks = new HashMap<>();
            int kekCount = in.getInt();
            for (int k = 0; k < kekCount; k++) {
                int version = in.getInt();
                byte[] wrapped = new byte[in.getShort() & 0xFFFF];
                in.get(wrapped);
                keks.put(version, wrapped);
            }
            owners.put(new String(id, StandardCharsets.US_ASCII), keks);
        }
        return owners;
    }

    /** Whether any file under {@code directory} holds {@code secret} at any offset. */
    private static boolean isUnder(Path directory, byte[] secret) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(directory)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            byte[] bytes = Files.readAllBytes(file);
            for (int i = 0; i + secret.length <= bytes.length; i++) {
                if (ByteBuffer.wrap(bytes, i, secret.length).equals(ByteBuffer.wrap(secret))) {
                    return true;
                }
            }
        }
        return false;
    }
}
