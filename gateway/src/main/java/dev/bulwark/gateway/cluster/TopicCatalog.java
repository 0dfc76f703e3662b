package dev.bulwark.gateway.cluster;

import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.storage.LogManager;

import java.util.Map;

/**
 * Every tenant's topics. Handlers never use it directly for a request: they take the requesting tenant's view
 * ({@link #forTenant}), so a name or a topic id of another tenant cannot even be looked up.
 */
public final class TopicCatalog {

    private final LogManager logs;
    private final BrokerConfigs broker;

    public TopicCatalog(LogManager logs, BrokerConfigs broker) {
        this.logs = logs;
        this.broker = broker;
    }

    /** The topics of one tenant, under their plain names. */
    public Topics forTenant(String tenantId) {
        return new Topics(logs, broker, tenantId);
    }

    /** Applies new broker-level topic defaults to every tenant's topics. */
    public void updateServerDefaults(Map<String, ?> defaults) {
        logs.updateServerDefaults(defaults);
    }

    public int topicCount() {
        return logs.topics().size();
    }
}
