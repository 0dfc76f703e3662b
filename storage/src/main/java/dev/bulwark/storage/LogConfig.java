package dev.bulwark.storage;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidList;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.record.TimestampType;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The settings of one partition log, resolved from the topic's overrides and the broker's defaults.
 *
 * <p>Names, types, validators and documentation follow Apache Kafka's topic configs, so that
 * {@code kafka-configs} and {@code AdminClient} describe and alter them as they do against Kafka. Every
 * topic config here has a broker-level default under Kafka's broker name ({@link #serverDefaultName}).
 * A topic config Kafka has and this class lacks is rejected as unknown rather than stored and ignored.
 */
public final class LogConfig {

    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String FILE_DELETE_DELAY_MS = "file.delete.delay.ms";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String MAX_COMPACTION_LAG_MS = "max.compaction.lag.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    public static final String TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";
    public static final String TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MIN_IN_SYNC_REPLICAS = "min.insync.replicas";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String RETENTION_MS = "retention.ms";
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";

    public static final String POLICY_DELETE = "delete";
    public static final String POLICY_COMPACT = "compact";

    /** Topic config name to the broker config that supplies its default (Kafka's "server default property"). */
    private static final Map<String, String> SERVER_DEFAULT_NAMES = new LinkedHashMap<>();

    /** Topic-level definitions (names as {@code kafka-configs --entity-type topics} uses them). */
    public static final ConfigDef TOPIC_CONFIGS = new ConfigDef();

    /** Broker-level defaults of the topic configs, under Kafka's broker names, with Kafka's defaults. */
    public static final ConfigDef SERVER_DEFAULTS = new ConfigDef();

    static {
        define(CLEANUP_POLICY, "log.cleanup.policy", Type.LIST, POLICY_DELETE,
                ValidList.in(false, POLICY_DELETE, POLICY_COMPACT),
                "\"delete\" discards old segments when their retention time or size limit is reached. \"compact\" "
                        + "keeps, for each key, the record with the highest offset (log compaction) and removes delete "
                        + "tombstones after delete.retention.ms. Both (\"compact,delete\") compact and also apply "
                        + "retention.");
        define(COMPRESSION_TYPE, "compression.type", Type.STRING, "producer", ValidString.in("producer"),
                "Batches are stored compressed as the producer sent them (gzip, snappy, lz4, zstd or none); \"producer\" is the only value Bulwark accepts.");
        define(DELETE_RETENTION_MS, "log.cleaner.delete.retention.ms", Type.LONG, 86_400_000L, Range.atLeast(0),
                "How long delete tombstones are kept on a compacted topic, counted from the first compaction that "
                        + "sees them.");
        define(FILE_DELETE_DELAY_MS, "log.segment.delete.delay.ms", Type.LONG, 60_000L, Range.atLeast(0),
                "How long a deleted segment's file stays on disk, so reads in progress finish.");
        define(INDEX_INTERVAL_BYTES, "log.index.interval.bytes", Type.INT, 4096, Range.atLeast(0),
                "How many bytes of batches lie between two entries of the sparse offset and time indexes.");
        define(MAX_COMPACTION_LAG_MS, "log.cleaner.max.compaction.lag.ms", Type.LONG, Long.MAX_VALUE, Range.atLeast(1),
                "The longest a record stays ineligible for compaction: the cleaner compacts a log whose oldest "
                        + "uncompacted record is older, whatever its dirty ratio, and the active segment rolls by "
                        + "then.");
        define(MAX_MESSAGE_BYTES, "message.max.bytes", Type.INT, 1_048_588, Range.atLeast(0),
                "The largest record batch accepted; larger ones get MESSAGE_TOO_LARGE.");
        define(TIMESTAMP_AFTER_MAX_MS, "log.message.timestamp.after.max.ms", Type.LONG, 3_600_000L, Range.atLeast(0),
                "How far in the future a CreateTime timestamp may lie; later ones get INVALID_TIMESTAMP.");
        define(TIMESTAMP_BEFORE_MAX_MS, "log.message.timestamp.before.max.ms", Type.LONG, Long.MAX_VALUE, Range.atLeast(0),
                "How far in the past a CreateTime timestamp may lie; older ones get INVALID_TIMESTAMP.");
        define(TIMESTAMP_TYPE, "log.message.timestamp.type", Type.STRING, "CreateTime",
                ValidString.in("CreateTime", "LogAppendTime"),
                "CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch with the broker's clock.");
        define(MIN_CLEANABLE_DIRTY_RATIO, "log.cleaner.min.cleanable.ratio", Type.DOUBLE, 0.5, Range.between(0, 1),
                "The share of a compacted log that must be uncompacted before it is compacted again.");
        define(MIN_COMPACTION_LAG_MS, "log.cleaner.min.compaction.lag.ms", Type.LONG, 0L, Range.atLeast(0),
                "The shortest time a record stays uncompacted.");
        define(MIN_IN_SYNC_REPLICAS, "min.insync.replicas", Type.INT, 1, Range.atLeast(1),
                "With acks=all, the replicas that must have a batch. Bulwark keeps one replica, so a value above 1 "
                        + "makes acks=all produce fail with NOT_ENOUGH_REPLICAS, as Kafka would.");
        define(RETENTION_BYTES, "log.retention.bytes", Type.LONG, -1L, null,
                "The most bytes a partition keeps before old segments are deleted; -1 for no limit.");
        define(RETENTION_MS, "log.retention.ms", Type.LONG, 604_800_000L, Range.atLeast(-1),
                "How long a segment is kept after its newest record; -1 for no limit.");
        define(SEGMENT_BYTES, "log.segment.bytes", Type.INT, 1_073_741_824, Range.atLeast(1024),
                "The size at which a segment file is closed and a new one started.");
        define(SEGMENT_MS, "log.roll.ms", Type.LONG, 604_800_000L, Range.atLeast(1),
                "The age of a segment's first batch after which the next append starts a new segment.");
    }

    private static void define(String name, String serverName, Type type, Object defaultValue, ConfigDef.Validator validator,
                               String doc) {
        TOPIC_CONFIGS.define(name, type, defaultValue, validator, Importance.MEDIUM, doc);
        SERVER_DEFAULTS.define(serverName, type, defaultValue, validator, Importance.MEDIUM,
                "The default of the topic config " + name + ". " + doc);
        SERVER_DEFAULT_NAMES.put(name, serverName);
    }

    public final List<String> cleanupPolicy;
    public final long deleteRetentionMs;
    public final long fileDeleteDelayMs;
    public final int indexIntervalBytes;
    public final long maxCompactionLagMs;
    public final int maxMessageBytes;
    public final long timestampAfterMaxMs;
    public final long timestampBeforeMaxMs;
    public final TimestampType timestampType;
    public final double minCleanableDirtyRatio;
    public final long minCompactionLagMs;
    public final int minInSyncReplicas;
    public final long retentionBytes;
    public final long retentionMs;
    public final int segmentBytes;
    public final long segmentMs;

    @SuppressWarnings("unchecked")
    private LogConfig(Map<String, Object> parsed) {
        cleanupPolicy = List.copyOf((List<String>) parsed.get(CLEANUP_POLICY));
        deleteRetentionMs = (Long) parsed.get(DELETE_RETENTION_MS);
        fileDeleteDelayMs = (Long) parsed.get(FILE_DELETE_DELAY_MS);
        indexIntervalBytes = (Integer) parsed.get(INDEX_INTERVAL_BYTES);
        maxCompactionLagMs = (Long) parsed.get(MAX_COMPACTION_LAG_MS);
        maxMessageBytes = (Integer) parsed.get(MAX_MESSAGE_BYTES);
        timestampAfterMaxMs = (Long) parsed.get(TIMESTAMP_AFTER_MAX_MS);
        timestampBeforeMaxMs = (Long) parsed.get(TIMESTAMP_BEFORE_MAX_MS);
        timestampType = TimestampType.forName((String) parsed.get(TIMESTAMP_TYPE));
        minCleanableDirtyRatio = (Double) parsed.get(MIN_CLEANABLE_DIRTY_RATIO);
        minCompactionLagMs = (Long) parsed.get(MIN_COMPACTION_LAG_MS);
        minInSyncReplicas = (Integer) parsed.get(MIN_IN_SYNC_REPLICAS);
        retentionBytes = (Long) parsed.get(RETENTION_BYTES);
        retentionMs = (Long) parsed.get(RETENTION_MS);
        segmentBytes = (Integer) parsed.get(SEGMENT_BYTES);
        segmentMs = (Long) parsed.get(SEGMENT_MS);
    }

    /** The config with Kafka's defaults and no overrides. */
    public static LogConfig defaults() {
        return resolve(Map.of(), Map.of());
    }

    /**
     * Resolves a topic's effective config: a topic override wins over the broker default, which wins over
     * Kafka's default.
     *
     * @param topicOverrides topic-level values by topic config name
     * @param serverDefaults broker-level values by broker config name ({@code log.retention.ms}, ...)
     * @throws ConfigException when a name is unknown or a value is invalid
     */
    public static LogConfig resolve(Map<String, String> topicOverrides, Map<String, ?> serverDefaults) {
        Map<String, Object> merged = new HashMap<>();
        Map<String, Object> server = SERVER_DEFAULTS.parse(serverDefaults);
        SERVER_DEFAULT_NAMES.forEach((topicName, serverName) -> merged.put(topicName, server.get(serverName)));
        for (Map.Entry<String, String> override : topicOverrides.entrySet()) {
            if (!TOPIC_CONFIGS.names().contains(override.getKey())) {
                throw new ConfigException("Unknown topic config name: " + override.getKey());
            }
            merged.put(override.getKey(), override.getValue());
        }
        return new LogConfig(TOPIC_CONFIGS.parse(merged));
    }

    /** Kafka's broker config that supplies the default of a topic config. */
    public static Optional<String> serverDefaultName(String topicConfigName) {
        return Optional.ofNullable(SERVER_DEFAULT_NAMES.get(topicConfigName));
    }

    public boolean compact() {
        return cleanupPolicy.contains(POLICY_COMPACT);
    }

    public boolean delete() {
        return cleanupPolicy.contains(POLICY_DELETE);
    }

    /**
     * The age of the active segment's first batch after which the next append rolls it: segment.ms, or, on a compacted
     * topic, max.compaction.lag.ms when that is shorter, since the active segment is never compacted (as in Kafka).
     */
    public long maxSegmentMs() {
        return compact() ? Math.min(segmentMs, maxCompactionLagMs) : segmentMs;
    }
}
