package dev.bulwark.gateway.cluster;

import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.storage.LogManager;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every tenant's topics. Handlers never use it directly for a request: they take the requesting tenant's view
 * ({@link #forTenant}), so a name or a topic id of another tenant cannot even be looked up.
 */
public final class TopicCatalog {

    private final LogManager logs;
    private final BrokerConfigs broker;
    private final TenantStore tenants;
    private final TenantStoredBytes storedBytes;
    /** Per tenant id: held while counting its topics and partitions and creating more ({@link Topics#creating}). */
    private final Map<String, Object> creationLocks = new ConcurrentHashMap<>();

    /** @param tenants the tenants, whose limits topic creation and produce keep to */
    public TopicCatalog(LogManager logs, BrokerConfigs broker, TenantStore tenants, Clock clock) {
        this.logs = logs;
        this.broker = broker;
        this.tenants = tenants;
        this.storedBytes = new TenantStoredBytes(logs, clock);
    }

    /** The topics of one tenant, under their plain names. */
    public Topics forTenant(String tenantId) {
        return new Topics(logs, broker, tenantId, tenants, storedBytes,
                creationLocks.computeIfAbsent(tenantId, id -> new Object()));
    }

    /** Applies new broker-level topic defaults to every tenant's topics. */
    public void updateServerDefaults(Map<String, ?> defaults) {
        logs.updateServerDefaults(defaults);
    }

    public int topicCount() {
        return logs.topics().size();
    }
}
