package dev.bulwark.acl.quota;

import dev.bulwark.acl.TestSealedFiles;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuotaStoreTest {

    @TempDir
    Path dir;
    private SealedFiles sealed;

    @BeforeEach
    void openKeys() throws IOException {
        sealed = TestSealedFiles.in(dir);
    }

    private static final QuotaEntity ALICE_APP = new QuotaEntity.Client("t1", EntityName.of("alice"), EntityName.of("app"));
    private static final QuotaEntity DEFAULT_USER = new QuotaEntity.Client("t1", EntityName.DEFAULT, null);
    private static final QuotaEntity DEFAULT_CLIENT = new QuotaEntity.Client("t2", null, EntityName.DEFAULT);
    private static final QuotaEntity IP = new QuotaEntity.Ip(EntityName.of("10.0.0.7"));
    private static final QuotaEntity DEFAULT_IP = new QuotaEntity.Ip(EntityName.DEFAULT);
    private static final QuotaEntity TENANT = new QuotaEntity.Tenant("t1");

    @Test
    void everyKindOfEntityAndQuotaSurvivesAReopen() throws IOException {
        QuotaStore store = QuotaStore.open(dir, sealed);
        store.alter(List.of(
                new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, 1048576.0),
                new QuotaStore.Alteration(ALICE_APP, QuotaKind.CONSUMER_BYTE_RATE, 2048.5),
                new QuotaStore.Alteration(DEFAULT_USER, QuotaKind.REQUEST_PERCENTAGE, 25.0),
                new QuotaStore.Alteration(DEFAULT_CLIENT, QuotaKind.PRODUCER_BYTE_RATE, 10.0),
                new QuotaStore.Alteration(IP, QuotaKind.CONNECTION_CREATION_RATE, 3.0),
                new QuotaStore.Alteration(DEFAULT_IP, QuotaKind.CONNECTION_CREATION_RATE, 100.0)));
        store.replace(TENANT, QuotaLimits.of(Map.of(QuotaKind.PRODUCER_BYTE_RATE, 5e6,
                QuotaKind.CONNECTION_CREATION_RATE, 20.0)));

        Map<QuotaEntity, QuotaLimits> written = store.snapshot().entries();
        assertEquals(6, written.size());
        assertEquals(written, QuotaStore.open(dir, sealed).snapshot().entries());
        assertEquals(2048.5, written.get(ALICE_APP).get(QuotaKind.CONSUMER_BYTE_RATE).getAsDouble());
    }

    @Test
    void removingATenantRemovesItsClientAndTenantQuotasOnly() throws IOException {
        QuotaStore store = QuotaStore.open(dir, sealed);
        store.alter(List.of(
                new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, 100.0),
                new QuotaStore.Alteration(DEFAULT_USER, QuotaKind.CONSUMER_BYTE_RATE, 100.0),
                new QuotaStore.Alteration(TENANT, QuotaKind.PRODUCER_BYTE_RATE, 100.0),
                new QuotaStore.Alteration(DEFAULT_CLIENT, QuotaKind.PRODUCER_BYTE_RATE, 100.0),
                new QuotaStore.Alteration(IP, QuotaKind.CONNECTION_CREATION_RATE, 5.0)));

        assertEquals(3, store.removeTenant("t1"));
        assertEquals(0, store.removeTenant("t1"));

        assertEquals(Set.of(DEFAULT_CLIENT, IP), QuotaStore.open(dir, sealed).snapshot().entries().keySet());
    }

    @Test
    void removingTheLastQuotaRemovesTheEntity() throws IOException {
        QuotaStore store = QuotaStore.open(dir, sealed);
        store.alter(List.of(new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, 100.0)));
        long generation = store.snapshot().generation();
        store.alter(List.of(new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, null)));
        assertTrue(store.snapshot().isEmpty());
        assertTrue(store.snapshot().generation() > generation);
        assertTrue(QuotaStore.open(dir, sealed).snapshot().isEmpty());
    }

    @Test
    void anInvalidValueChangesNothing() throws IOException {
        QuotaStore store = QuotaStore.open(dir, sealed);
        store.alter(List.of(new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, 100.0)));
        QuotaSnapshot before = store.snapshot();
        assertThrows(IllegalArgumentException.class, () -> store.alter(List.of(
                new QuotaStore.Alteration(TENANT, QuotaKind.PRODUCER_BYTE_RATE, 5.0),
                new QuotaStore.Alteration(ALICE_APP, QuotaKind.CONSUMER_BYTE_RATE, -1.0))));
        assertEquals(before, store.snapshot());
        assertEquals(before.entries(), QuotaStore.open(dir, sealed).snapshot().entries());
    }

    @Test
    void aDamagedFileIsRefused() throws IOException {
        QuotaStore.open(dir, sealed).alter(List.of(new QuotaStore.Alteration(ALICE_APP, QuotaKind.PRODUCER_BYTE_RATE, 1.0)));
        Path file = dir.resolve(QuotaStore.FILE_NAME);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(file, bytes);
        assertThrows(MetadataFile.CorruptFileException.class, () -> QuotaStore.open(dir, sealed));
    }

    @Test
    void aWellFormedFileWithAnUnknownKindIsRefused() throws IOException {
        byte[] payload = new MetadataPayload.Writer().i32(1).i8(3).string("t1")
                .i32(1).i8(99).i64(Double.doubleToLongBits(1.0)).toByteArray();
        sealed.write(dir.resolve(QuotaStore.FILE_NAME), QuotaStore.FILE_MAGIC, QuotaStore.FILE_VERSION, KeyOwner.SYSTEM,
                QuotaStore.FILE_NAME, payload);
        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class,
                () -> QuotaStore.open(dir, sealed));
        assertTrue(e.getMessage().contains("unknown quota kind 99"), e.getMessage());
    }

    @Test
    void aNegativeStoredValueIsRefused() throws IOException {
        byte[] payload = new MetadataPayload.Writer().i32(1).i8(3).string("t1")
                .i32(1).i8(1).i64(Double.doubleToLongBits(-5.0)).toByteArray();
        sealed.write(dir.resolve(QuotaStore.FILE_NAME), QuotaStore.FILE_MAGIC, QuotaStore.FILE_VERSION, KeyOwner.SYSTEM,
                QuotaStore.FILE_NAME, payload);
        assertThrows(MetadataFile.CorruptFileException.class, () -> QuotaStore.open(dir, sealed));
    }

    @Test
    void anUnsealedFileIsRefused() throws IOException {
        MetadataFile.write(dir.resolve(QuotaStore.FILE_NAME), QuotaStore.FILE_MAGIC, (byte) 1,
                new MetadataPayload.Writer().i32(0).toByteArray());
        assertThrows(SealedFiles.SealedFileException.class, () -> QuotaStore.open(dir, sealed));
    }

    @Test
    void theFormatIsPinned() throws IOException {
        QuotaStore.open(dir, sealed).replace(TENANT, QuotaLimits.of(Map.of(QuotaKind.PRODUCER_BYTE_RATE, 1.0)));
        byte[] expectedPayload = new MetadataPayload.Writer().i32(1).i8(3).string("t1")
                .i32(1).i8(1).i64(0x3FF0000000000000L).toByteArray();
        ByteBuffer payload = sealed.read(dir.resolve(QuotaStore.FILE_NAME), QuotaStore.FILE_MAGIC, (byte) 2,
                KeyOwner.SYSTEM, QuotaStore.FILE_NAME).orElseThrow();
        byte[] actual = new byte[payload.remaining()];
        payload.get(actual);
        assertEquals(java.util.HexFormat.of().formatHex(expectedPayload), java.util.HexFormat.of().formatHex(actual));
        assertFalse(Files.exists(dir.resolve(QuotaStore.FILE_NAME + ".tmp")));
    }
}
