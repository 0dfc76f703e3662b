package dev.bulwark.auth.store;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
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
import java.util.OptionalInt;
import java.util.OptionalLong;
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
        assertEquals(2, content.version());
        ByteBuffer expected = ByteBuffer.allocate(4 + 4 + 7 + 4 + 7 + 1 + 8 + 1 + 4 + 4 + 8 + 4);
        expected.putInt(1);
        expected.putInt(7).put("default".getBytes(StandardCharsets.UTF_8));
        expected.putInt(7).put("default".getBytes(StandardCharsets.UTF_8));
        expected.put((byte) 1).putLong(MutableClock.START_MS);
        expected.put((byte) 1).putInt(-1).putInt(-1).putLong(-1).putInt(-1);
        assertArrayEquals(expected.array(), payload(content));
    }

    @Test
    void pinsHowLimitsAreWritten() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        Tenant acme = store.create("acme", new TenantLimits(OptionalInt.of(10), OptionalInt.empty(),
                OptionalLong.of(1L << 40), OptionalInt.of(0)), false);

        MetadataFile.Content content = MetadataFile.read(dir.resolve("tenants"), 0x4257544E).orElseThrow();
        byte[] id = acme.id().getBytes(StandardCharsets.UTF_8);
        ByteBuffer acmeEntry = ByteBuffer.allocate(4 + id.length + 4 + 4 + 1 + 8 + 1 + 4 + 4 + 8 + 4);
        acmeEntry.putInt(id.length).put(id);
        acmeEntry.putInt(4).put("acme".getBytes(StandardCharsets.UTF_8));
        acmeEntry.put((byte) 1).putLong(MutableClock.START_MS);
        acmeEntry.put((byte) 0).putInt(10).putInt(-1).putLong(1L << 40).putInt(0);
        byte[] payload = payload(content);
        byte[] first = java.util.Arrays.copyOfRange(payload, 4, 4 + acmeEntry.capacity());
        assertArrayEquals(acmeEntry.array(), first, "acme sorts before default");
    }

    @Test
    void theDefaultTenantAllowsEveryoneWhenNoAclMatchesAndNewTenantsDoNotUnlessAsked() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        assertTrue(store.byId(Tenant.DEFAULT_ID).orElseThrow().allowEveryoneIfNoAcl());
        assertEquals(TenantLimits.UNLIMITED, store.byId(Tenant.DEFAULT_ID).orElseThrow().limits());

        Tenant acme = store.create("acme");
        assertFalse(acme.allowEveryoneIfNoAcl());
        assertEquals(TenantLimits.UNLIMITED, acme.limits());
        assertTrue(store.create("open", TenantLimits.UNLIMITED, true).allowEveryoneIfNoAcl());

        TenantStore reopened = TenantStore.open(dir, clock);
        assertFalse(reopened.byName("acme").orElseThrow().allowEveryoneIfNoAcl());
        assertTrue(reopened.byName("open").orElseThrow().allowEveryoneIfNoAcl());
    }

    @Test
    void limitsAndTheNoAclRuleRoundTripAndChangeDurably() throws IOException {
        TenantStore store = TenantStore.open(dir, clock);
        TenantLimits limits = TenantLimits.of(10, 20, 5_000_000L, 3);
        Tenant acme = store.create("acme", limits, true);
        assertEquals(limits, acme.limits());
        assertEquals(acme, TenantStore.open(dir, clock).byName("acme").orElseThrow());

        TenantLimits fewer = TenantLimits.of(null, 4, null, 0);
        Tenant changed = store.setLimits(acme.id(), fewer);
        assertEquals(fewer, changed.limits());
        assertTrue(changed.allowEveryoneIfNoAcl(), "changing limits leaves the no-ACL rule alone");
        assertEquals(changed, store.byId(acme.id()).orElseThrow());
        assertFalse(store.setAllowEveryoneIfNoAcl(acme.id(), false).allowEveryoneIfNoAcl());
        store.setState(acme.id(), Tenant.State.SUSPENDED);

        Tenant reopened = TenantStore.open(dir, clock).byId(acme.id()).orElseThrow();
        assertEquals(fewer, reopened.limits());
        assertFalse(reopened.allowEveryoneIfNoAcl());
        assertEquals(Tenant.State.SUSPENDED, reopened.state(), "changing the state keeps the limits");

        assertThrows(ResourceNotFoundException.class, () -> store.setLimits("nope", limits));
        assertThrows(ResourceNotFoundException.class, () -> store.setAllowEveryoneIfNoAcl("nope", true));
        assertTrue(store.setAllowEveryoneIfNoAcl(Tenant.DEFAULT_ID, false).isDefault(),
                "the default tenant's rule may change too");
    }

    @Test
    void readsVersionOneFilesAsUnlimitedWithTheDefaultTenantOpen() throws IOException {
        String acmeId = Uuid.randomUuid().toString();
        byte[] v1 = new MetadataPayload.Writer().i32(2)
                .string(acmeId).string("acme").i8(2).i64(42)
                .string("default").string("default").i8(1).i64(7)
                .toByteArray();
        MetadataFile.write(dir.resolve("tenants"), 0x4257544E, (byte) 1, v1);

        TenantStore store = TenantStore.open(dir, clock);
        Tenant acme = store.byName("acme").orElseThrow();
        assertEquals(new Tenant(acmeId, "acme", Tenant.State.SUSPENDED, 42, TenantLimits.UNLIMITED, false), acme);
        assertEquals(new Tenant(Tenant.DEFAULT_ID, "default", Tenant.State.ACTIVE, 7, TenantLimits.UNLIMITED, true),
                store.byId(Tenant.DEFAULT_ID).orElseThrow());

        store.setLimits(acme.id(), TenantLimits.of(1, null, null, null));
        assertEquals(2, MetadataFile.read(dir.resolve("tenants"), 0x4257544E).orElseThrow().version(),
                "the first change writes the current version");
        assertEquals(TenantLimits.of(1, null, null, null),
                TenantStore.open(dir, clock).byName("acme").orElseThrow().limits());
    }

    @Test
    void negativeLimitsAreRefusedAndNamed() {
        IllegalArgumentException topics = assertThrows(IllegalArgumentException.class,
                () -> TenantLimits.of(-1, null, null, null));
        assertTrue(topics.getMessage().contains("max-topics must be 0 or more"), topics.getMessage());
        IllegalArgumentException partitions = assertThrows(IllegalArgumentException.class,
                () -> TenantLimits.of(null, -5, null, null));
        assertTrue(partitions.getMessage().contains("max-partitions"), partitions.getMessage());
        IllegalArgumentException bytes = assertThrows(IllegalArgumentException.class,
                () -> TenantLimits.of(null, null, -1L, null));
        assertTrue(bytes.getMessage().contains("max-stored-bytes"), bytes.getMessage());
        IllegalArgumentException connections = assertThrows(IllegalArgumentException.class,
                () -> TenantLimits.of(null, null, null, Integer.MIN_VALUE));
        assertTrue(connections.getMessage().contains("max-connections"), connections.getMessage());
        assertEquals(OptionalInt.of(0), TenantLimits.of(0, null, null, null).maxTopics(), "zero is a limit");
    }

    @Test
    void aFileWithANegativeLimitOrAnUnknownRuleCodeIsRefused() throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(4 + 2 * (4 + 7) + 1 + 8 + 1 + 4 + 4 + 8 + 4);
        entry.putInt(1);
        entry.putInt(7).put("default".getBytes(StandardCharsets.UTF_8)).putInt(7).put("default".getBytes(StandardCharsets.UTF_8));
        entry.put((byte) 1).putLong(7).put((byte) 1).putInt(-2).putInt(-1).putLong(-1).putInt(-1);
        MetadataFile.write(dir.resolve("tenants"), 0x4257544E, (byte) 2, entry.array());
        MetadataFile.CorruptFileException negative = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(negative.getMessage().contains("max-topics"), negative.getMessage());

        entry.put(4 + 2 * (4 + 7) + 1 + 8, (byte) 7).putInt(4 + 2 * (4 + 7) + 1 + 8 + 1, -1);
        MetadataFile.write(dir.resolve("tenants"), 0x4257544E, (byte) 2, entry.array());
        MetadataFile.CorruptFileException code = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(code.getMessage().contains("allow-everyone code 7"), code.getMessage());
    }

    private static byte[] payload(MetadataFile.Content content) {
        byte[] actual = new byte[content.payload().remaining()];
        content.payload().get(actual);
        return actual;
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

        MetadataFile.write(file, 0x4257544E, (byte) 3, new byte[] {0, 0, 0, 0});
        MetadataFile.CorruptFileException version = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, clock));
        assertTrue(version.getMessage().contains("unsupported tenant file version 3"), version.getMessage());
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
