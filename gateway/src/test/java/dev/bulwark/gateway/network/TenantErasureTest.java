package dev.bulwark.gateway.network;

import dev.bulwark.acl.TenantAcl;
import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.TenantErasure;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.group.CommittedOffset;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.gateway.keys.ErasureRecords;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tenant deletion over the broker's real stores: everything the tenant held goes, nothing of another tenant does,
 * and a deletion that stopped after its keys were destroyed (a crash) is finished by asking again.
 */
class TenantErasureTest {

    @TempDir
    Path dir;

    private BrokerParts broker;
    private TenantStore tenants;
    private AtRestKeyManagement keys;
    private TenantErasure erasure;

    @BeforeEach
    void open() throws IOException {
        broker = new BrokerParts(dir);
        tenants = broker.security.tenants();
        keys = new AtRestKeyManagement(broker.keys, broker.logs);
        erasure = new TenantErasure(tenants, broker.security.users(), broker.acls, broker.quotas.store(),
                broker.catalog, broker.groups, broker.offsets, broker.transactions, broker.transactionLog, keys,
                new ErasureRecords(dir), broker.timer.clock());
    }

    @AfterEach
    void close() throws IOException {
        broker.close();
    }

    @Test
    void aDeletionThatStoppedAfterItsKeysWereDestroyedIsFinishedByAskingAgain() throws Exception {
        Tenant acme = tenants.create("acme");
        Tenant globex = tenants.create("globex");
        TopicMetadata acmeOrders = fill(acme);
        TopicMetadata globexOrders = fill(globex);

        // The first attempt stopped right after destroying the keys.
        tenants.markDeleting(acme.id());
        keys.shred(KeyOwner.tenant(acme.id()));

        TenantErasure.Erasure done = erasure.erase(tenants.byId(acme.id()).orElseThrow(), "admin");

        assertEquals(List.of(acme.id() + "/v1"), done.destroyedKeys());
        assertEquals(Map.of("topics", 1, "groups", 1, "transactionalIds", 1, "users", 1, "acls", 1, "quotas", 1),
                done.removed());
        assertTrue(tenants.byId(acme.id()).isEmpty());
        assertTrue(broker.catalog.forTenant(acme.id()).all().isEmpty());
        assertTrue(broker.logs.log(acmeOrders.id(), 0).isEmpty());
        assertTrue(broker.security.users().list(acme.id()).isEmpty());
        assertTrue(broker.offsets.groups().stream().noneMatch(g -> g.tenantId().equals(acme.id())));
        assertTrue(broker.transactions.describe(new TransactionalIdKey(acme.id(), "tx")).isEmpty());
        assertTrue(broker.acls.index().all().stream().noneMatch(acl -> acl.tenantId().equals(acme.id())));
        assertTrue(broker.quotas.store().snapshot().tenantLimit(acme.id(), QuotaKind.PRODUCER_BYTE_RATE).isEmpty());

        assertTrue(broker.logs.log(globexOrders.id(), 0).isPresent(), "another tenant keeps everything");
        assertEquals(1, broker.security.users().list(globex.id()).size());
        assertTrue(broker.transactions.describe(new TransactionalIdKey(globex.id(), "tx")).isPresent());
        assertTrue(broker.offsets.hasOffsets(new GroupKey(globex.id(), "readers")));
        assertFalse(keys.versions(KeyOwner.tenant(globex.id())).orElseThrow().shredded());

        List<String> records = Files.readAllLines(dir.resolve("erasures"));
        assertEquals(2, records.size());
        assertTrue(records.get(0).contains("tenant-keys-destroyed") && records.get(0).contains(acme.id() + "/v1"));
        assertTrue(records.get(1).contains("tenant-deleted") && records.get(1).contains("\"operator\":\"admin\""));
    }

    @Test
    void theDefaultTenantIsNeverDeleted() {
        assertThrows(IllegalArgumentException.class,
                () -> erasure.erase(tenants.byId(Tenant.DEFAULT_ID).orElseThrow(), "admin"));
        assertFalse(Files.exists(dir.resolve("erasures")));
    }

    /** A topic with a record, a user, an ACL, a quota, a group's offsets and a transactional id of the tenant. */
    private TopicMetadata fill(Tenant tenant) throws Exception {
        Topics topics = broker.catalog.forTenant(tenant.id());
        TopicMetadata orders = topics.creating(allowance -> topics.create(topics.plan("orders", 1, (short) -1,
                Map.of()), allowance));
        topics.partition(orders, 0).orElseThrow().append(broker.records("an order"));
        broker.security.users().create(tenant.id(), "app", Role.MEMBER, "app-secret");
        broker.acls.add(List.of(new TenantAcl(tenant.id(), new AclBinding(
                new ResourcePattern(ResourceType.TOPIC, "orders", PatternType.LITERAL),
                new AccessControlEntry("User:app", "*", AclOperation.READ, AclPermissionType.ALLOW)))));
        broker.quotas.store().alter(List.of(new QuotaStore.Alteration(new QuotaEntity.Tenant(tenant.id()),
                QuotaKind.PRODUCER_BYTE_RATE, 1024.0)));
        broker.offsets.commit(new GroupKey(tenant.id(), "readers"), Map.of(new TopicPartition("orders", 0),
                new CommittedOffset(1, -1, "", 0))).join();
        broker.transactions.initProducerId(new TransactionalIdKey(tenant.id(), "tx"), 60_000, Optional.empty())
                .join();
        return orders;
    }
}
