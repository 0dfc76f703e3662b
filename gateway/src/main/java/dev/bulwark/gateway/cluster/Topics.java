package dev.bulwark.gateway.cluster;

import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.internals.Topic;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * One tenant's topics, with Kafka's rules on top of the log store: legal names, no '.'/'_' collisions, replication
 * factor 1, defaults from the broker settings, and auto-creation when enabled. Another tenant's topics do not exist
 * here: not by name, not by topic id.
 */
public final class Topics {

    private final LogManager logs;
    private final BrokerConfigs broker;
    private final String tenantId;

    Topics(LogManager logs, BrokerConfigs broker, String tenantId) {
        this.logs = logs;
        this.broker = broker;
        this.tenantId = tenantId;
    }

    public String tenantId() {
        return tenantId;
    }

    public Optional<TopicMetadata> byName(String name) {
        return logs.topic(tenantId, name);
    }

    public Optional<TopicMetadata> byId(Uuid id) {
        return logs.topic(id).filter(t -> t.tenantId().equals(tenantId));
    }

    public Collection<TopicMetadata> all() {
        return logs.topics(tenantId);
    }

    public Optional<PartitionLog> partition(TopicMetadata topic, int partition) {
        return owned(topic) ? logs.log(topic.id(), partition) : Optional.empty();
    }

    private boolean owned(TopicMetadata topic) {
        return topic.tenantId().equals(tenantId);
    }

    /** A topic as it would be created, after every check that creation makes. */
    public record Plan(String name, int partitions, short replicationFactor, Map<String, String> configs) {
    }

    /**
     * Checks a creation: the name, the partition count and replication factor (-1 for the broker default) and the
     * configs.
     *
     * @throws org.apache.kafka.common.errors.ApiException with Kafka's error for the first fault
     */
    public Plan plan(String name, int partitions, short replicationFactor, Map<String, String> configs) {
        Topic.validate(name);
        if (Topic.isInternal(name)) {
            throw new InvalidTopicException("Topic name " + name + " is reserved for Kafka's internal topics");
        }
        if (Topic.hasCollisionChars(name)) {
            for (TopicMetadata existing : all()) {
                if (!existing.name().equals(name) && Topic.hasCollision(name, existing.name())) {
                    throw new InvalidTopicException("Topic '" + name + "' collides with existing topic: "
                            + existing.name());
                }
            }
        }
        int count = partitions == -1 ? broker.intValue(BrokerConfigs.NUM_PARTITIONS) : partitions;
        if (count < 1) {
            throw new InvalidPartitionsException("Number of partitions must be larger than 0.");
        }
        short factor = replicationFactor == -1 ? (short) broker.intValue(BrokerConfigs.DEFAULT_REPLICATION_FACTOR)
                : replicationFactor;
        if (factor != 1) {
            throw new InvalidReplicationFactorException("Unable to replicate the partition " + factor
                    + " time(s): The target replication factor of " + factor
                    + " cannot be reached because only 1 broker(s) are registered.");
        }
        logs.validateConfig(configs);
        return new Plan(name, count, factor, configs);
    }

    public TopicMetadata create(Plan plan) {
        try {
            return logs.createTopic(tenantId, plan.name(), plan.partitions(), plan.configs());
        } catch (IOException e) {
            throw new KafkaStorageException("Creating topic " + plan.name() + " failed: " + e.getMessage(), e);
        }
    }

    /** Creates {@code name} with the broker's defaults when auto-creation is on and the name is valid. */
    public Optional<TopicMetadata> autoCreate(String name) {
        if (!broker.booleanValue(BrokerConfigs.AUTO_CREATE_TOPICS) || !Topic.isValid(name)) {
            return Optional.empty();
        }
        synchronized (logs) {
            Optional<TopicMetadata> existing = byName(name);
            if (existing.isPresent()) {
                return existing;
            }
            return Optional.of(create(plan(name, -1, (short) -1, Map.of())));
        }
    }

    public void delete(TopicMetadata topic) throws IOException {
        if (owned(topic)) {
            logs.deleteTopic(topic.id());
        }
    }

    public TopicMetadata addPartitions(TopicMetadata topic, int count) throws IOException {
        return logs.addPartitions(requireOwned(topic).id(), count);
    }

    /** Checks topic config overrides against the current broker defaults without applying them. */
    public LogConfig validateConfig(Map<String, String> overrides) {
        return logs.validateConfig(overrides);
    }

    public TopicMetadata alterConfigs(TopicMetadata topic, Map<String, String> overrides) throws IOException {
        return logs.alterTopicConfigs(requireOwned(topic).id(), overrides);
    }

    /** DeleteRecords on one of this tenant's partitions; returns the new log start offset. */
    public long deleteRecords(PartitionLog log, long offset) throws IOException {
        TopicMetadata topic = logs.topic(log.id().topicId()).orElseThrow();
        requireOwned(topic);
        return logs.deleteRecords(log, offset);
    }

    private TopicMetadata requireOwned(TopicMetadata topic) {
        if (!owned(topic)) {
            throw new IllegalArgumentException("topic " + topic.id() + " is not this tenant's");
        }
        return topic;
    }
}
