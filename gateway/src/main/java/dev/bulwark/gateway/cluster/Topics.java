package dev.bulwark.gateway.cluster;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
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
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * One tenant's topics, with Kafka's rules on top of the log store: legal names, no '.'/'_' collisions, replication
 * factor 1, defaults from the broker settings, and auto-creation when enabled; and the tenant's limits on topics,
 * partitions and stored bytes. Another tenant's topics do not exist
 * here: not by name, not by topic id.
 */
public final class Topics {

    /** Each tenant's read-only stream of its audit trail, written by the broker alone (see AuditStream). */
    public static final String AUDIT_TOPIC = "__audit";

    private final LogManager logs;
    private final BrokerConfigs broker;
    private final String tenantId;
    private final TenantStore tenants;
    private final TenantStoredBytes storedBytes;
    private final Object creationLock;

    Topics(LogManager logs, BrokerConfigs broker, String tenantId, TenantStore tenants, TenantStoredBytes storedBytes,
           Object creationLock) {
        this.logs = logs;
        this.broker = broker;
        this.tenantId = tenantId;
        this.tenants = tenants;
        this.storedBytes = storedBytes;
        this.creationLock = creationLock;
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

    /** How many partitions this tenant's topics have together (not counting its audit topic). */
    public int partitionCount() {
        int partitions = 0;
        for (TopicMetadata topic : all()) {
            partitions += AUDIT_TOPIC.equals(topic.name()) ? 0 : topic.partitions();
        }
        return partitions;
    }

    /** How many topics this tenant has made, against its max-topics (its audit topic is the broker's). */
    public int topicCount() {
        return (int) all().stream().filter(t -> !AUDIT_TOPIC.equals(t.name())).count();
    }

    /** The bytes this tenant's partitions' logs hold, summed now. */
    public long storedBytes() {
        return storedBytes.measure(tenantId);
    }

    private Tenant tenant() {
        return tenants.byId(tenantId).orElseThrow(() -> new IllegalStateException("no tenant has id " + tenantId));
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
        if (AUDIT_TOPIC.equals(name)) {
            throw new InvalidTopicException("Topic name " + name + " is reserved for the audit trail");
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

    /**
     * Runs {@code work}, which creates topics or partitions, holding this tenant's creation lock, with an allowance
     * that counts the tenant's topics and partitions against its limits: counting and creating are one step, so
     * concurrent requests cannot both slip past a limit. Creation is not a hot path; other tenants are not held up.
     */
    public <T> T creating(Function<TopicAllowance, T> work) {
        synchronized (creationLock) {
            Tenant tenant = tenant();
            return work.apply(new TopicAllowance(tenant.name(), tenant.limits(), topicCount(), partitionCount()));
        }
    }

    /**
     * Creates a planned topic, when {@code allowance} (of {@link #creating}) admits it.
     *
     * @throws org.apache.kafka.common.errors.PolicyViolationException when it would take the tenant past a limit
     */
    public TopicMetadata create(Plan plan, TopicAllowance allowance) {
        allowance.admitTopic(plan.partitions());
        try {
            return logs.createTopic(tenantId, plan.name(), plan.partitions(), plan.configs());
        } catch (IOException e) {
            throw new KafkaStorageException("Creating topic " + plan.name() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The tenant's audit topic, created when missing: one partition, kept as long as the audit trail keeps its events.
     * Created by the broker only, outside the tenant's limits (which count what the tenant does, not its audit).
     */
    public TopicMetadata auditTopic(long retentionMs) {
        synchronized (creationLock) {
            Optional<TopicMetadata> existing = byName(AUDIT_TOPIC);
            if (existing.isPresent()) {
                return existing.get();
            }
            try {
                return logs.createTopic(tenantId, AUDIT_TOPIC, 1, Map.of(LogConfig.RETENTION_MS,
                        Long.toString(retentionMs), LogConfig.CLEANUP_POLICY, "delete"));
            } catch (IOException e) {
                throw new KafkaStorageException("Creating the audit topic failed: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Creates {@code name} with the broker's defaults when auto-creation is on and the name is valid.
     *
     * @throws org.apache.kafka.common.errors.PolicyViolationException when it would take the tenant past a limit
     */
    public Optional<TopicMetadata> autoCreate(String name) {
        if (!broker.booleanValue(BrokerConfigs.AUTO_CREATE_TOPICS) || !Topic.isValid(name)) {
            return Optional.empty();
        }
        return creating(allowance -> {
            Optional<TopicMetadata> existing = byName(name);
            if (existing.isPresent()) {
                return existing;
            }
            return Optional.of(create(plan(name, -1, (short) -1, Map.of()), allowance));
        });
    }

    public void delete(TopicMetadata topic) throws IOException {
        if (owned(topic)) {
            logs.deleteTopic(topic.id());
        }
    }

    /**
     * Grows a topic to {@code count} partitions, when {@code allowance} (of {@link #creating}) admits the new ones.
     *
     * @throws org.apache.kafka.common.errors.PolicyViolationException when they would take the tenant past
     *                                                                 max-partitions
     */
    public TopicMetadata addPartitions(TopicMetadata topic, int count, TopicAllowance allowance) throws IOException {
        requireOwned(topic);
        allowance.admitPartitions(count - topic.partitions());
        return logs.addPartitions(topic.id(), count);
    }

    /**
     * Reserves room for a batch of {@code bytes} under the tenant's max-stored-bytes: nothing when it has none.
     *
     * @return what was reserved, for {@link #releaseStorage} when the batch is not written after all
     * @throws org.apache.kafka.common.errors.PolicyViolationException naming the limit when the batch does not fit
     */
    public long reserveStorage(long bytes) {
        Tenant tenant = tenant();
        OptionalLong limit = tenant.limits().maxStoredBytes();
        if (limit.isEmpty()) {
            return 0;
        }
        storedBytes.reserve(tenantId, tenant.name(), limit.getAsLong(), bytes);
        return bytes;
    }

    /** Gives back a {@link #reserveStorage reservation} whose batch was not written. */
    public void releaseStorage(long reserved) {
        if (reserved > 0) {
            storedBytes.release(tenantId, reserved);
        }
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
