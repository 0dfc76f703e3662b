package dev.bulwark.gateway.config;

import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.MetadataFile;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kafka broker settings by their Kafka names, in three layers as Kafka keeps them: static (from Bulwark's
 * configuration), dynamic cluster-wide defaults and dynamic per-broker values (both set with IncrementalAlterConfigs
 * or AlterConfigs and kept in the data directory). The effective value is the first layer that has it, from the
 * per-broker one down, else Kafka's default.
 */
public final class BrokerConfigs {

    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String AUTO_CREATE_TOPICS = "auto.create.topics.enable";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String NUM_IO_THREADS = "num.io.threads";
    public static final String RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String CHECKPOINT_INTERVAL_MS = "log.flush.offset.checkpoint.interval.ms";
    public static final String CLEANER_BACKOFF_MS = "log.cleaner.backoff.ms";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";
    public static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    public static final String TRANSACTION_ABORT_CHECK_MS =
            "transaction.abort.timed.out.transaction.cleanup.interval.ms";
    public static final String TRANSACTIONAL_ID_EXPIRATION_MS = "transactional.id.expiration.ms";
    public static final String TRANSACTION_ID_EXPIRATION_CHECK_MS =
            "transaction.remove.expired.transaction.cleanup.interval.ms";
    public static final String FETCH_SESSION_SLOTS = "max.incremental.fetch.session.cache.slots";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String DELETE_TOPIC_ENABLE = "delete.topic.enable";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String GROUP_MAX_SIZE = "group.max.size";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";
    public static final String SASL_ENABLED_MECHANISMS = "sasl.enabled.mechanisms";
    public static final String CONNECTIONS_MAX_REAUTH_MS = "connections.max.reauth.ms";
    public static final String SSL_CLIENT_AUTH = "ssl.client.auth";
    public static final String SSL_PRINCIPAL_MAPPING_RULES = "ssl.principal.mapping.rules";
    public static final String SUPER_USERS = "super.users";
    public static final String QUOTA_WINDOW_NUM = "quota.window.num";
    public static final String QUOTA_WINDOW_SIZE_SECONDS = "quota.window.size.seconds";

    /** Every broker setting Bulwark knows: the topic defaults of the log store plus the broker's own. */
    public static final ConfigDef DEFINITIONS = new ConfigDef(LogConfig.SERVER_DEFAULTS)
            .define(SOCKET_REQUEST_MAX_BYTES, Type.INT, 104_857_600, Range.atLeast(1), Importance.HIGH,
                    "The largest request frame accepted; a larger size prefix closes the connection before anything "
                            + "of that size is allocated.")
            .define(AUTO_CREATE_TOPICS, Type.BOOLEAN, false, Importance.HIGH,
                    "Whether Metadata and Produce for an unknown topic create it (off by default, unlike Kafka).")
            .define(NUM_PARTITIONS, Type.INT, 1, Range.atLeast(1), Importance.MEDIUM,
                    "Partitions of a topic created without a partition count.")
            .define(DEFAULT_REPLICATION_FACTOR, Type.SHORT, (short) 1, Range.between(1, 1), Importance.MEDIUM,
                    "Replication factor of new topics; Bulwark keeps one replica.")
            .define(NUM_IO_THREADS, Type.INT, 8, Range.atLeast(1), Importance.HIGH,
                    "Threads that handle requests (appends and reads run here, never on the event loops).")
            .define(RETENTION_CHECK_INTERVAL_MS, Type.LONG, 300_000L, Range.atLeast(1), Importance.MEDIUM,
                    "How often retention deletes expired segments.")
            .define(CHECKPOINT_INTERVAL_MS, Type.INT, 60_000, Range.atLeast(1), Importance.LOW,
                    "How often recovery points and log start offsets are written.")
            .define(CLEANER_BACKOFF_MS, Type.LONG, 15_000L, Range.atLeast(1), Importance.MEDIUM,
                    "How often the log cleaner looks for compacted topics that are due for compaction.")
            .define(PRODUCER_ID_EXPIRATION_MS, Type.INT, 86_400_000, Range.atLeast(1), Importance.LOW,
                    "Idle time after which an idempotent producer's state is forgotten.")
            .define(TRANSACTION_MAX_TIMEOUT_MS, Type.INT, 900_000, Range.atLeast(1), Importance.HIGH,
                    "The longest transaction time-out a producer may ask for (INVALID_TRANSACTION_TIMEOUT above).")
            .define(TRANSACTION_ABORT_CHECK_MS, Type.INT, 10_000, Range.atLeast(1), Importance.LOW,
                    "How often ongoing transactions are checked for their time-out (then fenced and aborted).")
            .define(TRANSACTIONAL_ID_EXPIRATION_MS, Type.INT, 604_800_000, Range.atLeast(1), Importance.LOW,
                    "How long a transactional id with no transaction open is kept after its last change.")
            .define(TRANSACTION_ID_EXPIRATION_CHECK_MS, Type.INT, 3_600_000, Range.atLeast(1), Importance.LOW,
                    "How often expired transactional ids are removed.")
            .define(FETCH_SESSION_SLOTS, Type.INT, 1000, Range.atLeast(0), Importance.MEDIUM,
                    "The most incremental fetch sessions kept.")
            .define(CONNECTIONS_MAX_IDLE_MS, Type.LONG, 600_000L, Importance.MEDIUM,
                    "Idle connections are closed after this long.")
            .define(DELETE_TOPIC_ENABLE, Type.BOOLEAN, true, Importance.HIGH,
                    "Whether DeleteTopics is allowed.")
            .define(GROUP_MIN_SESSION_TIMEOUT_MS, Type.INT, 6000, Importance.MEDIUM,
                    "The shortest session timeout a group member may ask for.")
            .define(GROUP_MAX_SESSION_TIMEOUT_MS, Type.INT, 1_800_000, Importance.MEDIUM,
                    "The longest session timeout a group member may ask for.")
            .define(GROUP_INITIAL_REBALANCE_DELAY_MS, Type.INT, 3000, Range.atLeast(0), Importance.MEDIUM,
                    "How long a new group waits for more members before its first rebalance.")
            .define(GROUP_MAX_SIZE, Type.INT, Integer.MAX_VALUE, Range.atLeast(1), Importance.MEDIUM,
                    "The most members a consumer group may have (GROUP_MAX_SIZE_REACHED above).")
            .define(OFFSETS_RETENTION_MINUTES, Type.INT, 10080, Range.atLeast(1), Importance.HIGH,
                    "How long the committed offsets of a group that has become empty are kept.")
            .define(OFFSETS_RETENTION_CHECK_INTERVAL_MS, Type.LONG, 600_000L, Range.atLeast(1), Importance.HIGH,
                    "How often expired offsets are removed.")
            .define(OFFSET_METADATA_MAX_BYTES, Type.INT, 4096, Range.atLeast(0), Importance.HIGH,
                    "The largest metadata string a committed offset may carry (OFFSET_METADATA_TOO_LARGE above).")
            .define(SASL_ENABLED_MECHANISMS, Type.LIST, "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN", Importance.HIGH,
                    "SASL mechanisms SASL listeners offer: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (needs "
                            + "bulwark.jwt).")
            .define(CONNECTIONS_MAX_REAUTH_MS, Type.LONG, 0L, Range.atLeast(0), Importance.MEDIUM,
                    "The longest a SASL session lasts before the client must re-authenticate (KIP-368); 0 for no "
                            + "limit but a token's expiry.")
            .define(SSL_CLIENT_AUTH, Type.STRING, "none", ConfigDef.ValidString.in("none", "requested", "required"),
                    Importance.MEDIUM, "Whether TLS listeners ask clients for certificates (mTLS).")
            .define(SSL_PRINCIPAL_MAPPING_RULES, Type.STRING, "DEFAULT", Importance.MEDIUM,
                    "Rules that map a client certificate's distinguished name to a principal, as Kafka's; "
                            + "user@tenant names a tenant.")
            .define(SUPER_USERS, Type.STRING, "", Importance.MEDIUM,
                    "Principals that are super users in their own tenant without ACLs, separated by ';' as in "
                            + "Kafka: User:name in the default tenant, User:name@tenant in another.")
            .define(QUOTA_WINDOW_NUM, Type.INT, 11, Range.atLeast(2), Importance.LOW,
                    "The number of samples client quotas are measured over.")
            .define(QUOTA_WINDOW_SIZE_SECONDS, Type.INT, 1, Range.atLeast(1), Importance.LOW,
                    "The time span of each sample of the client quotas.");

    /** The settings that IncrementalAlterConfigs may change at run time: the topic defaults. */
    public static final Set<String> DYNAMIC = LogConfig.SERVER_DEFAULTS.names();

    /** Where a value comes from, in Kafka's terms. */
    public enum Source { DYNAMIC_BROKER, DYNAMIC_DEFAULT, STATIC, DEFAULT }

    private static final int FILE_MAGIC = 0x42574243; // "BWBC"
    private static final byte FILE_VERSION = 1;

    private final Map<String, String> staticValues;
    private final Path file;
    private volatile Map<String, String> dynamicDefaults;
    private volatile Map<String, String> dynamicBroker;
    private volatile Map<String, Object> effective;

    private BrokerConfigs(Map<String, String> staticValues, Path file, Map<String, String> dynamicDefaults,
                          Map<String, String> dynamicBroker) {
        this.staticValues = Map.copyOf(staticValues);
        this.file = file;
        this.dynamicDefaults = Map.copyOf(dynamicDefaults);
        this.dynamicBroker = Map.copyOf(dynamicBroker);
        this.effective = DEFINITIONS.parse(merged(this.dynamicDefaults, this.dynamicBroker));
    }

    /**
     * Validates the static settings and loads the dynamic ones kept in {@code file}.
     *
     * @throws ConfigException naming an unknown setting or an invalid value
     */
    public static BrokerConfigs load(Map<String, String> staticValues, Path file) throws IOException {
        for (String name : staticValues.keySet()) {
            if (!DEFINITIONS.names().contains(name)) {
                throw new ConfigException("Unknown Kafka broker setting bulwark.kafka." + name
                        + " (supported: " + new TreeMap<>(DEFINITIONS.configKeys()).keySet() + ")");
            }
        }
        DEFINITIONS.parse(staticValues);
        Map<String, String> defaults = new HashMap<>();
        Map<String, String> broker = new HashMap<>();
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        if (content.isPresent()) {
            ByteBuffer buffer = content.get().payload();
            readMap(buffer, defaults);
            readMap(buffer, broker);
        }
        return new BrokerConfigs(staticValues, file, defaults, broker);
    }

    private Map<String, String> merged(Map<String, String> defaults, Map<String, String> broker) {
        Map<String, String> all = new HashMap<>(staticValues);
        all.putAll(defaults);
        all.putAll(broker);
        return all;
    }

    /** Effective values, typed as {@link #DEFINITIONS} parses them. */
    public Map<String, Object> values() {
        return effective;
    }

    /** The effective value of {@code name} in Kafka's string form. */
    public String valueString(String name) {
        return ConfigDef.convertToString(effective.get(name), DEFINITIONS.configKeys().get(name).type);
    }

    public int intValue(String name) {
        return ((Number) effective.get(name)).intValue();
    }

    public long longValue(String name) {
        return ((Number) effective.get(name)).longValue();
    }

    public boolean booleanValue(String name) {
        return (Boolean) effective.get(name);
    }

    /** Where the effective value of {@code name} comes from. */
    public Source source(String name) {
        if (dynamicBroker.containsKey(name)) {
            return Source.DYNAMIC_BROKER;
        }
        if (dynamicDefaults.containsKey(name)) {
            return Source.DYNAMIC_DEFAULT;
        }
        return staticValues.containsKey(name) ? Source.STATIC : Source.DEFAULT;
    }

    /** The value a layer holds for {@code name}, if it holds one. */
    public Optional<String> layerValue(Source source, String name) {
        return Optional.ofNullable(switch (source) {
            case DYNAMIC_BROKER -> dynamicBroker.get(name);
            case DYNAMIC_DEFAULT -> dynamicDefaults.get(name);
            case STATIC -> staticValues.get(name);
            case DEFAULT -> {
                Object value = DEFINITIONS.configKeys().get(name).defaultValue;
                yield value == null ? null : ConfigDef.convertToString(value, DEFINITIONS.configKeys().get(name).type);
            }
        });
    }

    /** The dynamic values of a layer (per-broker when {@code perBroker}, else cluster-wide defaults). */
    public Map<String, String> dynamicValues(boolean perBroker) {
        return perBroker ? dynamicBroker : dynamicDefaults;
    }

    /**
     * Replaces one dynamic layer after validating it, and keeps it durably.
     *
     * @throws ConfigException when a name is unknown, not dynamic, or a value invalid
     */
    public synchronized void replaceDynamic(boolean perBroker, Map<String, String> values) throws IOException {
        for (String name : values.keySet()) {
            if (!DEFINITIONS.names().contains(name)) {
                throw new ConfigException("Unknown broker config " + name);
            }
            if (!DYNAMIC.contains(name)) {
                throw new ConfigException("Cannot update these configs dynamically: [" + name + "]");
            }
        }
        Map<String, String> defaults = perBroker ? dynamicDefaults : Map.copyOf(values);
        Map<String, String> broker = perBroker ? Map.copyOf(values) : dynamicBroker;
        Map<String, Object> parsed = DEFINITIONS.parse(merged(defaults, broker));
        write(defaults, broker);
        dynamicDefaults = defaults;
        dynamicBroker = broker;
        effective = parsed;
    }

    /** Checks a dynamic layer without applying it. */
    public void validateDynamic(boolean perBroker, Map<String, String> values) {
        for (String name : values.keySet()) {
            if (!DYNAMIC.contains(name)) {
                throw new ConfigException(DEFINITIONS.names().contains(name)
                        ? "Cannot update these configs dynamically: [" + name + "]"
                        : "Unknown broker config " + name);
            }
        }
        DEFINITIONS.parse(merged(perBroker ? dynamicDefaults : values, perBroker ? values : dynamicBroker));
    }

    private void write(Map<String, String> defaults, Map<String, String> broker) throws IOException {
        int size = 8;
        for (Map<String, String> map : java.util.List.of(defaults, broker)) {
            for (Map.Entry<String, String> e : map.entrySet()) {
                size += 8 + e.getKey().getBytes(StandardCharsets.UTF_8).length
                        + e.getValue().getBytes(StandardCharsets.UTF_8).length;
            }
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        writeMap(buffer, defaults);
        writeMap(buffer, broker);
        MetadataFile.write(file, FILE_MAGIC, FILE_VERSION, buffer.array());
    }

    private static void writeMap(ByteBuffer buffer, Map<String, String> map) {
        buffer.putInt(map.size());
        for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = e.getValue().getBytes(StandardCharsets.UTF_8);
            buffer.putInt(key.length).put(key).putInt(value.length).put(value);
        }
    }

    private static void readMap(ByteBuffer buffer, Map<String, String> into) {
        int count = buffer.getInt();
        for (int i = 0; i < count; i++) {
            byte[] key = new byte[buffer.getInt()];
            buffer.get(key);
            byte[] value = new byte[buffer.getInt()];
            buffer.get(value);
            into.put(new String(key, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
        }
    }
}
