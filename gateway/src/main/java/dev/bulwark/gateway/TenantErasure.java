package dev.bulwark.gateway;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.OffsetStore;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.gateway.keys.ErasureRecords;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionLog;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.storage.crypto.KeyOwner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Deleting a tenant, keys first (right to erasure). The order is what makes the erasure provable:
 * <ol>
 *   <li>the tenant is marked deleting, durably: nobody authenticates into it any more and its connections' requests
 *   are refused;</li>
 *   <li>every version of its key-encryption key is destroyed ({@link AtRestKeyManagement#shred}), so its topics'
 *   segments, indexes, snapshots and metadata no longer open, here or in any copy of them, and the destruction is
 *   recorded in {@link ErasureRecords};</li>
 *   <li>then its files and records go: topics, groups and their committed offsets, transactional ids (the two
 *   internal logs are snapshotted so that the records naming them leave the disk), users and credentials, ACLs,
 *   quotas, and last the tenant itself, which is recorded too.</li>
 * </ol>
 * Every step is idempotent, so a deletion interrupted by a crash is finished by asking again: the tenant stays
 * {@link Tenant.State#DELETING} (and unusable) until then, and after a restart its topics are no longer loaded
 * (their metadata does not open) but removed.
 *
 * <p>Deletions are serialised.
 */
public final class TenantErasure {

    private static final Logger LOG = LoggerFactory.getLogger(TenantErasure.class);

    /** How long the steps that wait on a coordinator's durable write may take before the deletion is reported failed. */
    private static final long STEP_TIMEOUT_MS = 30_000;
    private static final long IN_FLIGHT_RETRY_MS = 50;

    private final TenantStore tenants;
    private final UserStore users;
    private final AclStore acls;
    private final QuotaStore quotas;
    private final TopicCatalog topics;
    private final GroupCoordinator groups;
    private final OffsetStore offsets;
    private final TransactionCoordinator transactions;
    private final TransactionLog transactionLog;
    private final AtRestKeyManagement keys;
    private final ErasureRecords records;
    private final Clock clock;

    public TenantErasure(TenantStore tenants, UserStore users, AclStore acls, QuotaStore quotas, TopicCatalog topics,
                         GroupCoordinator groups, OffsetStore offsets, TransactionCoordinator transactions,
                         TransactionLog transactionLog, AtRestKeyManagement keys, ErasureRecords records,
                         Clock clock) {
        this.tenants = tenants;
        this.users = users;
        this.acls = acls;
        this.quotas = quotas;
        this.topics = topics;
        this.groups = groups;
        this.offsets = offsets;
        this.transactions = transactions;
        this.transactionLog = transactionLog;
        this.keys = keys;
        this.records = records;
        this.clock = clock;
    }

    /**
     * What a deletion destroyed and removed.
     *
     * @param destroyedKeys the ids of every key-encryption key version the tenant had, all destroyed
     * @param removed       how many of each kind went: topics, groups, transactionalIds, users, acls, quotas
     */
    public record Erasure(String tenantId, List<String> destroyedKeys, Map<String, Integer> removed) {
    }

    /**
     * Deletes {@code tenant}, keys first; durable when this returns.
     *
     * @param operator who asked, as the erasure record names them
     * @throws IllegalArgumentException for the default tenant, which is never deleted
     * @throws IOException              when a step fails; what was done stays done, and asking again finishes it
     */
    public synchronized Erasure erase(Tenant tenant, String operator) throws IOException {
        String id = tenant.id();
        tenants.markDeleting(id);
        List<String> destroyed = keys.shred(KeyOwner.tenant(id));
        records.keysDestroyed(clock.instant(), id, operator, destroyed);
        LOG.info("Tenant {} ({}): key-encryption key versions {} destroyed; removing its data", tenant.name(), id,
                destroyed);

        Map<String, Integer> removed = new LinkedHashMap<>();
        removed.put("topics", deleteTopics(id));
        removed.put("groups", await(groups.removeTenant(id)));
        removed.put("transactionalIds", removeTransactionalIds(id));
        // Tombstones alone leave the records they delete in the internal logs until the next snapshot: take it now.
        offsets.maybeSnapshot(0);
        transactionLog.maybeSnapshot(0);
        removed.put("users", users.removeTenant(id));
        removed.put("acls", acls.removeTenant(id).size());
        removed.put("quotas", quotas.removeTenant(id));
        tenants.delete(id);
        records.tenantDeleted(clock.instant(), id, operator, removed);
        LOG.info("Tenant {} ({}) deleted by {}: removed {}", tenant.name(), id, operator, removed);
        return new Erasure(id, destroyed, removed);
    }

    private int deleteTopics(String tenantId) throws IOException {
        Topics owned = topics.forTenant(tenantId);
        List<TopicMetadata> doomed = List.copyOf(owned.all());
        for (TopicMetadata topic : doomed) {
            owned.delete(topic);
        }
        return doomed.size();
    }

    /** Removes the tenant's transactional ids, waiting out changes that were being written when it started. */
    private int removeTransactionalIds(String tenantId) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STEP_TIMEOUT_MS);
        int removed = 0;
        while (true) {
            TransactionCoordinator.TenantRemoval removal = transactions.removeTenant(tenantId);
            await(removal.durable());
            removed += removal.removed();
            if (removal.remaining() == 0) {
                return removed;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(removal.remaining() + " transactional id(s) of tenant " + tenantId
                        + " are still being written; delete the tenant again to finish");
            }
            try {
                Thread.sleep(IN_FLIGHT_RETRY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while deleting tenant " + tenantId, e);
            }
        }
    }

    private static <T> T await(CompletableFuture<T> durable) throws IOException {
        try {
            return durable.get(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while deleting a tenant", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("a coordinator did not record the deletion durably: " + e, e);
        }
    }
}
