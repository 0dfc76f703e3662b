package dev.bulwark.gateway.group;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Consumer lag computed on the server: for each partition a group has committed, the readable end of the log (the
 * high watermark, what ListOffsets LATEST reports) minus the committed offset.
 */
public final class ConsumerLag {

    /** One partition's lag; the log end is -1 when the partition no longer exists. */
    public record PartitionLag(String topic, int partition, long committedOffset, long logEndOffset, long lag) {
    }

    private final GroupCoordinator groups;
    private final TopicCatalog catalog;

    public ConsumerLag(GroupCoordinator groups, TopicCatalog catalog) {
        this.groups = groups;
        this.catalog = catalog;
    }

    /** A tenant's group's lag by partition, sorted; empty when the group does not exist. */
    public Optional<List<PartitionLag>> of(String tenantId, String group) {
        GroupKey groupId = new GroupKey(tenantId, group);
        if (groups.describe(groupId).isEmpty()) {
            return Optional.empty();
        }
        Topics topics = catalog.forTenant(tenantId);
        List<PartitionLag> lags = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> e : groups.committed(groupId, null).entrySet()) {
            TopicPartition tp = e.getKey();
            long committed = e.getValue().offset();
            long end = topics.byName(tp.topic()).flatMap(t -> topics.partition(t, tp.partition()))
                    .map(PartitionLog::highWatermark).orElse(-1L);
            lags.add(new PartitionLag(tp.topic(), tp.partition(), committed, end,
                    end < 0 ? 0 : Math.max(0, end - committed)));
        }
        lags.sort(Comparator.comparing(PartitionLag::topic).thenComparingInt(PartitionLag::partition));
        return Optional.of(lags);
    }
}
