package dev.bulwark.gateway;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.network.TenantConnections;

/** What a tenant holds now, against its limits: for the tenant's description in the REST API. */
public final class TenantUsage {

    /**
     * @param topics      its topics
     * @param partitions  its topics' partitions together
     * @param storedBytes the bytes its partitions' logs hold
     * @param connections its live authenticated connections
     */
    public record Usage(int topics, int partitions, long storedBytes, int connections) {
    }

    private final TopicCatalog catalog;
    private final TenantConnections connections;

    TenantUsage(TopicCatalog catalog, TenantConnections connections) {
        this.catalog = catalog;
        this.connections = connections;
    }

    /** Counted now: topics and partitions from the catalog, bytes summed from the logs. */
    public Usage of(String tenantId) {
        Topics topics = catalog.forTenant(tenantId);
        return new Usage(topics.topicCount(), topics.partitionCount(), topics.storedBytes(),
                connections.count(tenantId));
    }
}
