package dev.bulwark.auth.store;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Tenant;
import dev.bulwark.storage.MetadataFile;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TenantStoreTest {

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();

    @Test
    void theDefaultTenantExistsFromTheStartAndKeepsItsCreationTime() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        Tenant tenant = store.byId(Tenant.DEFAULT_ID).orElseThrow();
        assertEquals(Tenant.DEFAULT_NAME, tenant.name());
        assertEquals(Tenant.State.ACTIVE, tenant.state());
        assertEquals(MutableClock.START_MS, tenant.createdMs());
        assertEquals(List.of(tenant), store.list());

        clock.advance(Duration.ofHours(1));
        assertEquals(tenant, TenantStore.open(dir, clock).byName(Tenant.DEFAULT_NAME).orElseThrow());
    }

    @Test
    void createdTenantsSurviveReopen() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        clock.advance(Duration.ofSeconds(5));
        Tenant acme = store.create("acme");
        Tenant globex = store.create("Globex_2-eu");

        assertEquals("acme", acme.name());
        assertEquals(Tenant.State.ACTIVE, acme.state());
        assertEquals(MutableClock.START_MS + 5000, acme.createdMs());
        assertDoesNotThrow(() -> Uuid.fromString(acme.id()), "ids are Kafka Uuid strings");
        assertFalse(acme.id().equals(globex.id()));

        TenantStore reopened = TenantStore.open(dir, clock);
        assertEquals(acme, reopened.byName("acme").orElseThrow());
        assertEquals(globex, reopened.byId(globex.id()).orElseThrow());
        assertEquals(List.of("Globex_2-eu", "acme", "default"), reopened.list().stream().map(Tenant::name).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a.b", "a@b", "a b", "ümlaut", "tab\t", "slash/", "x1234567890123456789012345678901234567890123456789012345678901234"})
    void refusesInvalidNames(String name) throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.create(name));
        assertTrue(e.getMessage().contains("invalid tenant name"), e.getMessage());
        assertEquals(1, store.list().size());
    }

    @Test
    void acceptsSixtyFourCharacters() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        assertEquals(64, store.create("t".repeat(64)).name().length());
    }

    @Test
    void namesAreUnique() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        store.create("acme");
        assertThrows(DuplicateResourceException.class, () -> store.create("acme"));
        assertThrows(DuplicateResourceException.class, () -> store.create(Tenant.DEFAULT_NAME));
        assertEquals(2, TenantStore.open(dir, clock).list().size());
    }

    @Test
    void suspensionIsDurableAndReversible() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        Tenant acme = store.create("acme");

        assertEquals(Tenant.State.SUSPENDED, store.setState(acme.id(), Tenant.State.SUSPENDED).state());
        assertEquals(Tenant.State.SUSPENDED, store.byName("acme").orElseThrow().state());
        assertEquals(Tenant.State.SUSPENDED, TenantStore.open(dir, clock).byId(acme.id()).orElseThrow().state());

        store.setState(acme.id(), Tenant.State.ACTIVE);
        assertEquals(Tenant.State.ACTIVE, TenantStore.open(dir, clock).byId(acme.id()).orElseThrow().state());
    }

    @Test
    void theDefaultTenantCannotBeSuspendedAndUnknownIdsAreNotFound() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        assertThrows(IllegalArgumentException.class, () -> store.setState(Tenant.DEFAULT_ID, Tenant.State.SUSPENDED));
        assertEquals(Tenant.State.ACTIVE, store.setState(Tenant.DEFAULT_ID, Tenant.State.ACTIVE).state());
        assertThrows(ResourceNotFoundException.class, () -> store.setState("nope", Tenant.State.SUSPENDED));
    }

    @Test
    void pinsTheFileFormat() throws IOException {
        TenantStore.open(dir, clock);

        MetadataFile.Content content = MetadataFile.read(dir.resolve("tenants"), 0x4257544E).orElseThrow();
        assertEquals(1, content.version());
        ByteBuffer expected = ByteBuffer.allocate(4 + 4 + 7 + 4 + 7 + 1 + 8);
        expected.putInt(1);
        expected.putInt(7).put("default".getBytes(StandardCharsets.UTF_8));
        expected.putInt(7).put("default".getBytes(StandardCharsets.UTF_8));
        expected.put((byte) 1).putLong(MutableClock.START_MS);
        byte[] actual = new byte[content.payload().remaining()];
        content.payload().get(actual);
        assertArrayEquals(expected.array(), actual);
    }

    @Test
    void aDamagedFileIsRefusedAndNamed() throws IOException {
        TenantStore.open(dir, clock).create("acme");
        Path file = dir.resolve("tenants");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);

        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aTruncatedOrForeignFileIsRefused() throws IOException {
        TenantStore.open(dir, clock).create("acme");
        Path file = dir.resolve("tenants");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertThrows(MetadataFile.CorruptFileException.class, () -> TenantStore.open(dir, clock));

        MetadataFile.write(file, 0x42575553, (byte) 1, new byte[] {1, 2, 3}); // a user file's magic
        assertThrows(MetadataFile.CorruptFileException.class, () -> TenantStore.open(dir, clock));
    }

    @Test
    void aChecksummedButUnreadablePayloadIsRefusedClearly() throws IOException {
        Path file = dir.resolve("tenants");
        MetadataFile.write(file, 0x4257544E, (byte) 1, new byte[] {0, 0, 0, 9, 0, 0});
        MetadataFile.CorruptFileException count = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(count.getMessage().contains("entry count 9"), count.getMessage());

        MetadataFile.write(file, 0x4257544E, (byte) 2, new byte[] {0, 0, 0, 0});
        MetadataFile.CorruptFileException version = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(version.getMessage().contains("unsupported tenant file version 2"), version.getMessage());
    }

    @Test
    void concurrentCreatesAllLand() throws Exception {
        TenantStore store = TenantStore.open(dir, clock);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Tenant>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String name = "t" + i;
                futures.add(pool.submit(() -> store.create(name)));
            }
            for (Future<Tenant> future : futures) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(41, store.list().size());
        assertEquals(41, TenantStore.open(dir, clock).list().size());
    }
}
