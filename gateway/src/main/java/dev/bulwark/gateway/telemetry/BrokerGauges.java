package dev.bulwark.gateway.telemetry;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.group.ConsumerLag;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.storage.TopicMetadata;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;

/**
 * What the broker holds, sampled by {@link #sample} every {@code bulwark.telemetry.gauge-interval}: each partition's
 * size ({@code bulwark_partition_size_bytes{tenant,topic,partition}}) and each consumer group's lag per partition
 * ({@code bulwark_consumer_group_lag{tenant,group,topic,partition}}, as the REST API's lag reports it). Gone topics and
 * groups leave the gauges at the next sample.
 */
public final class BrokerGauges {

    private final TenantStore tenants;
    private final TopicCatalog topics;
    private final GroupCoordinator groups;
    private final ConsumerLag lag;
    private final MultiGauge partitionSizes;
    private final MultiGauge groupLag;

    public BrokerGauges(MeterRegistry registry, TenantStore tenants, TopicCatalog topics, GroupCoordinator groups,
                         ConsumerLag lag) {
        this.tenants = tenants;
        this.topics = topics;
        this.groups = groups;
        this.lag = lag;
        this.partitionSizes = MultiGauge.builder("bulwark.partition.size").baseUnit("bytes")
                .description("Bytes a partition's log holds on disk").register(registry);
        this.groupLag = MultiGauge.builder("bulwark.consumer.group.lag")
                .description("High watermark minus the group's committed offset").register(registry);
    }

    /** Takes a new sample of every partition size and group lag. */
    public void sample() {
        List<MultiGauge.Row<?>> sizes = new ArrayList<>();
        List<MultiGauge.Row<?>> lags = new ArrayList<>();
        for (Tenant tenant : tenants.list()) {
            Topics owned = topics.forTenant(tenant.id());
            for (TopicMetadata topic : owned.all()) {
                for (int p = 0; p < topic.partitions(); p++) {
                    int partition = p;
                    owned.partition(topic, p).ifPresent(log -> sizes.add(MultiGauge.Row.of(Tags.of(
                            "tenant", tenant.name(), "topic", topic.name(), "partition", Integer.toString(partition)),
                            log.sizeInBytes())));
                }
            }
            for (GroupCoordinator.GroupOverview group : groups.list(tenant.id())) {
                lag.of(tenant.id(), group.groupId()).ifPresent(partitions -> partitions.forEach(l -> lags.add(
                        MultiGauge.Row.of(Tags.of("tenant", tenant.name(), "group", group.groupId(),
                                "topic", l.topic(), "partition", Integer.toString(l.partition())), l.lag()))));
            }
        }
        partitionSizes.register(sizes, true);
        groupLag.register(lags, true);
    }
}
