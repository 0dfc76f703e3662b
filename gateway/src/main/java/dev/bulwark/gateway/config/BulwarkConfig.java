package dev.bulwark.gateway.config;

import dev.bulwark.storage.FlushPolicy;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Map;

/**
 * Bulwark's settings. Each key is documented in the README with its default; environment variables follow Quarkus's
 * mapping ({@code bulwark.data-dir} is {@code BULWARK_DATA_DIR}).
 */
@ConfigMapping(prefix = "bulwark")
public interface BulwarkConfig {

    /** Directory of the embedded log store and of Bulwark's own state. */
    @WithDefault("./data")
    String dataDir();

    /**
     * Kafka listeners, as Kafka's {@code listeners} setting: comma-separated {@code PROTOCOL://host:port}. Port 0
     * binds a free port (it is logged and advertised).
     */
    @WithDefault("PLAINTEXT://127.0.0.1:9092")
    String listeners();

    /** The host clients are told to connect to (Metadata, FindCoordinator, DescribeCluster). */
    @WithDefault("127.0.0.1")
    String advertisedHost();

    /** This broker's node id in Metadata; Bulwark runs as a single node. */
    @WithDefault("1")
    int nodeId();

    /** The embedded log store. */
    Storage storage();

    /**
     * Apache Kafka broker settings Bulwark honours, by their Kafka name: {@code bulwark.kafka.log.retention.ms=...}
     * or {@code BULWARK_KAFKA_LOG_RETENTION_MS=...}. The README lists every supported name and its default.
     */
    Map<String, String> kafka();

    interface Storage {
        /**
         * {@code durable}: acks=all is answered after fsync and consumers see only fsynced records (group commit);
         * {@code page-cache}: like Apache Kafka, acknowledged once written, fsynced every flush-interval.
         */
        @WithDefault("durable")
        FlushPolicy flushPolicy();

        /** Under the page-cache policy, how often unflushed partitions are fsynced. */
        @WithDefault("1s")
        Duration flushInterval();

        /** Threads that run fsyncs in parallel. */
        @WithDefault("4")
        int flushThreads();
    }
}
