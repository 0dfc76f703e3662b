package dev.bulwark.gateway.cluster;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A tenant's topic, partition and stored-byte limits as {@link Topics} keeps to them, on a real log store. */
class TenantLimitsTest {

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private LogManager logs;
    private TenantStore tenants;
    private TopicCatalog catalog;
    private Tenant acme;

    @BeforeEach
    void open() throws Exception {
        BrokerConfigs broker = BrokerConfigs.load(Map.of(BrokerConfigs.AUTO_CREATE_TOPICS, "true"),
                dir.resolve("broker.configs"));
        logs = TestLogs.open(dir.resolve("log"), time.clock());
        tenants = TenantStore.open(dir.resolve("security"), TestLogs.sealedFiles(dir), time.clock());
        acme = tenants.create("acme");
        catalog = new TopicCatalog(logs, broker, tenants, time.clock());
    }

    @AfterEach
    void close() throws Exception {
        logs.close();
    }

    @Test
    void concurrentCreationsCannotBothSlipPastMaxTopics() throws Exception {
        tenants.setLimits(acme.id(), TenantLimits.of(5, null, null, null));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> attempts = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                String name = "t" + i;
                attempts.add(pool.submit(() -> {
                    go.await();
                    Topics topics = catalog.forTenant(acme.id());
                    try {
                        topics.creating(allowance -> topics.create(topics.plan(name, 1, (short) -1, Map.of()),
                                allowance));
                        return true;
                    } catch (PolicyViolationException e) {
                        return false;
                    }
                }));
            }
            go.countDown();
            int created = 0;
            for (Future<Boolean> attempt : attempts) {
                created += attempt.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(5, created);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(5, catalog.forTenant(acme.id()).all().size());
    }

    @Test
    void partitionsAreCountedOverAllTheTenantsTopicsAndOtherTenantsAreNotHeldToThem() throws Exception {
        tenants.setLimits(acme.id(), TenantLimits.of(null, 3, null, null));
        Topics topics = catalog.forTenant(acme.id());
        TopicMetadata orders = create(topics, "orders", 2);

        PolicyViolationException tooMany = assertThrows(PolicyViolationException.class,
                () -> topics.creating(allowance -> {
                    try {
                        return topics.addPartitions(orders, 4, allowance);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
        assertEquals("tenant acme may have at most 3 partitions (max-partitions); it has 2 and this request adds 2",
                tooMany.getMessage());
        assertThrows(PolicyViolationException.class, () -> create(topics, "more", 2));
        create(topics, "last", 1);
        assertEquals(3, topics.partitionCount());

        Topics others = catalog.forTenant(tenants.create("globex").id());
        create(others, "orders", 8);
        assertEquals(8, others.partitionCount());
    }

    @Test
    void storedBytesAreReservedPerBatchAndRecountedFromTheLogsAfterTheyShrink() throws Exception {
        Topics topics = catalog.forTenant(acme.id());
        TopicMetadata orders = create(topics, "orders", 1);
        TopicMetadata scratch = create(topics, "scratch", 1);
        assertEquals(0, topics.reserveStorage(1_000_000), "without a limit nothing is reserved");
        int size = records().sizeInBytes();
        tenants.setLimits(acme.id(), TenantLimits.of(null, null, 3L * size, null));

        for (TopicMetadata topic : List.of(orders, scratch, scratch)) {
            assertEquals(size, topics.reserveStorage(size));
            topics.partition(topic, 0).orElseThrow().append(records());
        }
        PolicyViolationException full = assertThrows(PolicyViolationException.class,
                () -> topics.reserveStorage(size));
        assertEquals("tenant acme may store at most " + 3 * size + " bytes (max-stored-bytes); it stores " + 3 * size
                + " and this batch adds " + size, full.getMessage());
        // On disk a batch is sealed, which takes more room than the producer's batch the counter reserves.
        long sealed = topics.partition(orders, 0).orElseThrow().sizeInBytes();
        assertEquals(3L * sealed, topics.storedBytes());

        topics.delete(scratch);
        assertEquals(sealed, topics.storedBytes());
        assertThrows(PolicyViolationException.class, () -> topics.reserveStorage(size),
                "the counter learns of shrinking logs only when it is recounted");
        time.advance(TenantStoredBytes.REFRESH);
        assertEquals(size, topics.reserveStorage(size), "the recount finds the room the deletion made");
    }

    @Test
    void autoCreationKeepsToTheLimitsToo() throws Exception {
        tenants.setLimits(acme.id(), TenantLimits.of(1, null, null, null));
        Topics topics = catalog.forTenant(acme.id());
        assertEquals("first", topics.autoCreate("first").orElseThrow().name());
        assertEquals("first", topics.autoCreate("first").orElseThrow().name(), "an existing topic is no creation");
        PolicyViolationException refused = assertThrows(PolicyViolationException.class,
                () -> topics.autoCreate("second"));
        assertEquals("tenant acme may have at most 1 topics (max-topics); it has 1 and this request adds 1",
                refused.getMessage());
    }

    private static TopicMetadata create(Topics topics, String name, int partitions) {
        return topics.creating(allowance -> topics.create(topics.plan(name, partitions, (short) -1, Map.of()),
                allowance));
    }

    private MemoryRecords records() {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(time.nowMs(), "k".getBytes(
                StandardCharsets.UTF_8), "x".repeat(200).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aRefusedBatchReservesNothing() throws Exception {
        Topics topics = catalog.forTenant(acme.id());
        create(topics, "orders", 1);
        tenants.setLimits(acme.id(), TenantLimits.of(null, null, 100L, null));
        assertThrows(PolicyViolationException.class, () -> topics.reserveStorage(101));
        assertEquals(100, topics.reserveStorage(100), "the refused 101 bytes were not kept");
        topics.releaseStorage(100);
        assertEquals(60, topics.reserveStorage(60));
        assertEquals(0, topics.storedBytes(), "reservations are not bytes in the logs");
    }
}
