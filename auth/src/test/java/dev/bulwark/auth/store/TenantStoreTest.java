package dev.bulwark.auth.store;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.auth.TestSealedFiles;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.junit.jupiter.api.BeforeEach;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TenantStoreTest {

    @TempDir
    Path dir;
    private SealedFiles sealed;

    @BeforeEach
    void openKeys() throws IOException {
        sealed = TestSealedFiles.in(dir);
    }

    private final MutableClock clock = new MutableClock();

    @Test
    void theDefaultTenantExistsFromTheStartAndKeepsItsCreationTime() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        Tenant tenant = store.byId(Tenant.DEFAULT_ID).orElseThrow();
        assertEquals(Tenant.DEFAULT_NAME, tenant.name());
        assertEquals(Tenant.State.ACTIVE, tenant.state());
        assertEquals(MutableClock.START_MS, tenant.createdMs());
        assertEquals(List.of(tenant), store.list());

        clock.advance(Duration.ofHours(1));
        assertEquals(tenant, TenantStore.open(dir, sealed, clock).byName(Tenant.DEFAULT_NAME).orElseThrow());
    }

    @Test
    void createdTenantsSurviveReopen() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        clock.advance(Duration.ofSeconds(5));
        Tenant acme = store.create("acme");
        Tenant globex = store.create("Globex_2-eu");

        assertEquals("acme", acme.name());
        assertEquals(Tenant.State.ACTIVE, acme.state());
        assertEquals(MutableClock.START_MS + 5000, acme.createdMs());
        assertDoesNotThrow(() -> Uuid.fromString(acme.id()), "ids are Kafka Uuid strings");
        assertFalse(acme.id().equals(globex.id()));

        TenantStore reopened = TenantStore.open(dir, sealed, clock);
        assertEquals(acme, reopened.byName("acme").orElseThrow());
        assertEquals(globex, reopened.byId(globex.id()).orElseThrow());
        assertEquals(List.of("Globex_2-eu", "acme", "default"), reopened.list().stream().map(Tenant::name).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a.b", "a@b", "a b", "ümlaut", "tab\t", "slash/", "x1234567890123456789012345678901234567890123456789012345678901234"})
    void refusesInvalidNames(String name) throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.create(name));
        assertTrue(e.getMessage().contains("invalid tenant name"), e.getMessage());
        assertEquals(1, store.list().size());
    }

    @Test
    void acceptsSixtyFourCharacters() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        assertEquals(64, store.create("t".repeat(64)).name().length());
    }

    @Test
    void namesAreUnique() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        store.create("acme");
        assertThrows(DuplicateResourceException.class, () -> store.create("acme"));
        assertThrows(DuplicateResourceException.class, () -> store.create(Tenant.DEFAULT_NAME));
        assertEquals(2, TenantStore.open(dir, sealed, clock).list().size());
    }

    @Test
    void suspensionIsDurableAndReversible() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        Tenant acme = store.create("acme");

        assertEquals(Tenant.State.SUSPENDED, store.setState(acme.id(), Tenant.State.SUSPENDED).state());
        assertEquals(Tenant.State.SUSPENDED, store.byName("acme").orElseThrow().state());
        assertEquals(Tenant.State.SUSPENDED, TenantStore.open(dir, sealed, clock).byId(acme.id()).orElseThrow().state());

        store.setState(acme.id(), Tenant.State.ACTIVE);
        assertEquals(Tenant.State.ACTIVE, TenantStore.open(dir, sealed, clock).byId(acme.id()).orElseThrow().state());
    }

    @Test
    void aTenantMarkedDeletingStaysSoDurablyUntilItIsDeleted() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        Tenant acme = store.create("acme");
        assertThrows(IllegalStateException.class, () -> store.delete(acme.id()), "only after markDeleting");

        assertEquals(Tenant.State.DELETING, store.markDeleting(acme.id()).state());
        assertEquals(Tenant.State.DELETING, store.markDeleting(acme.id()).state(), "a retried deletion");
        assertEquals(Tenant.State.DELETING, TenantStore.open(dir, sealed, clock).byId(acme.id()).orElseThrow().state());
        assertThrows(IllegalArgumentException.class, () -> store.setState(acme.id(), Tenant.State.ACTIVE),
                "a deletion is not undone: its keys are gone");
        assertThrows(IllegalArgumentException.class, () -> store.setState(acme.id(), Tenant.State.DELETING));

        store.delete(acme.id());
        assertTrue(store.byName("acme").isEmpty());
        assertTrue(TenantStore.open(dir, sealed, clock).byId(acme.id()).isEmpty());
        assertThrows(ResourceNotFoundException.class, () -> store.markDeleting(acme.id()));
        assertNotEquals(acme.id(), store.create("acme").id(), "the name is free again, under a new id");
    }

    @Test
    void theDefaultTenantIsNeverDeleted() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        assertThrows(IllegalArgumentException.class, () -> store.markDeleting(Tenant.DEFAULT_ID));
        assertEquals(Tenant.State.ACTIVE, store.byId(Tenant.DEFAULT_ID).orElseThrow().state());
    }

    @Test
    void theDefaultTenantCannotBeSuspendedAndUnknownIdsAreNotFound() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        assertThrows(IllegalArgumentException.class, () -> store.setState(Tenant.DEFAULT_ID, Tenant.State.SUSPENDED));
        assertEquals(Tenant.State.ACTIVE, store.setState(Tenant.DEFAULT_ID, Tenant.State.ACTIVE).state());
        assertThrows(ResourceNotFoundException.class, () -> store.setState("nope", Tenant.State.SUSPENDED));
    }

    @Test
    void pinsTheFileFormat() throws IOException {
        TenantStore.open(dir, sealed, clock);

        ByteBuffer content = read();
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
        TenantStore store = TenantStore.open(dir, sealed, clock);
        Tenant acme = store.create("acme", new TenantLimits(OptionalInt.of(10), OptionalInt.empty(),
                OptionalLong.of(1L << 40), OptionalInt.of(0)), false);

        ByteBuffer content = read();
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
        TenantStore store = TenantStore.open(dir, sealed, clock);
        assertTrue(store.byId(Tenant.DEFAULT_ID).orElseThrow().allowEveryoneIfNoAcl());
        assertEquals(TenantLimits.UNLIMITED, store.byId(Tenant.DEFAULT_ID).orElseThrow().limits());

        Tenant acme = store.create("acme");
        assertFalse(acme.allowEveryoneIfNoAcl());
        assertEquals(TenantLimits.UNLIMITED, acme.limits());
        assertTrue(store.create("open", TenantLimits.UNLIMITED, true).allowEveryoneIfNoAcl());

        TenantStore reopened = TenantStore.open(dir, sealed, clock);
        assertFalse(reopened.byName("acme").orElseThrow().allowEveryoneIfNoAcl());
        assertTrue(reopened.byName("open").orElseThrow().allowEveryoneIfNoAcl());
    }

    @Test
    void limitsAndTheNoAclRuleRoundTripAndChangeDurably() throws IOException {
        TenantStore store = TenantStore.open(dir, sealed, clock);
        TenantLimits limits = TenantLimits.of(10, 20, 5_000_000L, 3);
        Tenant acme = store.create("acme", limits, true);
        assertEquals(limits, acme.limits());
        assertEquals(acme, TenantStore.open(dir, sealed, clock).byName("acme").orElseThrow());

        TenantLimits fewer = TenantLimits.of(null, 4, null, 0);
        Tenant changed = store.setLimits(acme.id(), fewer);
        assertEquals(fewer, changed.limits());
        assertTrue(changed.allowEveryoneIfNoAcl(), "changing limits leaves the no-ACL rule alone");
        assertEquals(changed, store.byId(acme.id()).orElseThrow());
        assertFalse(store.setAllowEveryoneIfNoAcl(acme.id(), false).allowEveryoneIfNoAcl());
        store.setState(acme.id(), Tenant.State.SUSPENDED);

        Tenant reopened = TenantStore.open(dir, sealed, clock).byId(acme.id()).orElseThrow();
        assertEquals(fewer, reopened.limits());
        assertFalse(reopened.allowEveryoneIfNoAcl());
        assertEquals(Tenant.State.SUSPENDED, reopened.state(), "changing the state keeps the limits");

        assertThrows(ResourceNotFoundException.class, () -> store.setLimits("nope", limits));
        assertThrows(ResourceNotFoundException.class, () -> store.setAllowEveryoneIfNoAcl("nope", true));
        assertTrue(store.setAllowEveryoneIfNoAcl(Tenant.DEFAULT_ID, false).isDefault(),
                "the default tenant's rule may change too");
    }

    @Test
    void anUnsealedFileIsRefused() throws IOException {
        byte[] v1 = new MetadataPayload.Writer().i32(1).string("default").string("default").i8(1).i64(7).toByteArray();
        MetadataFile.write(dir.resolve("tenants"), 0x4257544E, (byte) 1, v1);

        SealedFiles.SealedFileException e = assertThrows(SealedFiles.SealedFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(e.getMessage().contains("unsealed file from before encryption at rest"), e.getMessage());
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
        write(entry.array());
        MetadataFile.CorruptFileException negative = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(negative.getMessage().contains("max-topics"), negative.getMessage());

        entry.put(4 + 2 * (4 + 7) + 1 + 8, (byte) 7).putInt(4 + 2 * (4 + 7) + 1 + 8 + 1, -1);
        write(entry.array());
        MetadataFile.CorruptFileException code = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(code.getMessage().contains("allow-everyone code 7"), code.getMessage());
    }

    /** The sealed payload of the tenant file, as written now. */
    private ByteBuffer read() throws IOException {
        return sealed.read(dir.resolve("tenants"), 0x4257544E, (byte) 3, KeyOwner.SYSTEM, "tenants").orElseThrow();
    }

    private void write(byte[] payload) throws IOException {
        sealed.write(dir.resolve("tenants"), 0x4257544E, (byte) 3, KeyOwner.SYSTEM, "tenants", payload);
    }

    private static byte[] payload(ByteBuffer content) {
        byte[] actual = new byte[content.remaining()];
        content.get(actual);
        return actual;
    }

    @Test
    void aDamagedFileIsRefusedAndNamed() throws IOException {
        TenantStore.open(dir, sealed, clock).create("acme");
        Path file = dir.resolve("tenants");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);

        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aTruncatedOrForeignFileIsRefused() throws IOException {
        TenantStore.open(dir, sealed, clock).create("acme");
        Path file = dir.resolve("tenants");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertThrows(MetadataFile.CorruptFileException.class, () -> TenantStore.open(dir, sealed, clock));

        MetadataFile.write(file, 0x42575553, (byte) 1, new byte[] {1, 2, 3}); // a user file's magic
        assertThrows(MetadataFile.CorruptFileException.class, () -> TenantStore.open(dir, sealed, clock));
    }

    @Test
    void aChecksummedButUnreadablePayloadIsRefusedClearly() throws IOException {
        Path file = dir.resolve("tenants");
        write(new byte[] {0, 0, 0, 9, 0, 0});
        MetadataFile.CorruptFileException count = assertThrows(MetadataFile.CorruptFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(count.getMessage().contains("entry count 9"), count.getMessage());

        MetadataFile.write(file, 0x4257544E, (byte) 4, new byte[] {0, 0, 0, 0});
        SealedFiles.SealedFileException version = assertThrows(SealedFiles.SealedFileException.class,
                () -> TenantStore.open(dir, sealed, clock));
        assertTrue(version.getMessage().contains("format version 4"), version.getMessage());
    }

    @Test
    void concurrentCreatesAllLand() throws Exception {
        TenantStore store = TenantStore.open(dir, sealed, clock);
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
        assertEquals(41, TenantStore.open(dir, sealed, clock).list().size());
    }
}
