package dev.bulwark.gateway.txn;

import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;

import java.util.Optional;

/**
 * Where the coordinator writes a transaction's markers: the log of a partition of the transaction's tenant, looked up
 * by the plain topic name the producer used. Empty when the topic or partition no longer exists.
 */
@FunctionalInterface
public interface TransactionPartitions {

    Optional<PartitionLog> log(String tenantId, TopicPartition partition);

    /** The partitions of the broker's topics, each tenant seeing only its own. */
    static TransactionPartitions of(TopicCatalog catalog) {
        return (tenantId, partition) -> {
            Topics topics = catalog.forTenant(tenantId);
            return topics.byName(partition.topic()).flatMap(topic -> topics.partition(topic, partition.partition()));
        };
    }
}
