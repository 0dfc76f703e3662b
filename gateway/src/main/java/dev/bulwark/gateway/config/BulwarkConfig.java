package dev.bulwark.gateway.config;

import dev.bulwark.storage.FlushPolicy;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
    @WithDefault("PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093")
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
     * A file holding the master key of encryption at rest, which wraps every key that seals the data directory:
     * typically a mounted Kubernetes secret; 32 random bytes, raw or base64. Set this or {@code master-key}, not
     * both. With neither, a dev key is generated in {@code <data-dir>/keys}, beside the data it is meant to protect.
     */
    Optional<String> masterKeyFile();

    /**
     * The master key of encryption at rest as base64 of 32 random bytes, for the environment variable
     * {@code BULWARK_MASTER_KEY} (never put it in a file that is committed). Set this or {@code master-key-file}.
     */
    Optional<String> masterKey();

    /** Where Bulwark's own cryptography comes from. */
    Crypto crypto();

    /**
     * An operator (super user) to create at start when absent, as {@code name:password}: SCRAM-SHA-256, SCRAM-SHA-512
     * and PLAIN credentials in the default tenant. An existing operator is never changed.
     */
    Optional<String> operator();

    /** SASL on SASL_PLAINTEXT and SASL_SSL listeners. */
    Sasl sasl();

    /** TLS on SSL and SASL_SSL listeners. */
    Tls tls();

    /** JWT validation, for OAUTHBEARER and the REST API's bearer tokens. */
    Jwt jwt();

    /** The REST API ({@code /api/v1}) on the Quarkus HTTP port. */
    Rest rest();

    /** The audit trail, {@code <data-dir>/audit}. */
    Audit audit();

    /** Metrics on {@code /q/metrics} and the health checks on {@code /q/health}. */
    Telemetry telemetry();

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

        /**
         * Whether topics' record batches are sealed. Only {@code bench/encryption.sh} turns it off, to measure what
         * sealing costs; a store that seals refuses the segments written without.
         */
        @WithDefault("true")
        boolean sealBatches();
    }

    interface Sasl {
        /** Iterations of the SCRAM credentials Bulwark derives from passwords (4096 to 16384). */
        @WithDefault("4096")
        int scramIterations();

        /** The delay before answering a first failed authentication; it doubles with each further failure. */
        @WithDefault("100ms")
        Duration failureDelay();

        /** The longest a failed authentication is delayed. */
        @WithDefault("5s")
        Duration failureDelayMax();

        /** How long failures of a source address or a username are remembered after the last one. */
        @WithDefault("5m")
        Duration failureWindow();
    }

    interface Tls {
        /**
         * The server's certificate chain, PEM (end entity first). With neither this nor a keystore, a development
         * CA and server certificate are generated under {@code <data-dir>/tls}.
         */
        Optional<String> certificateFile();

        /** The server's private key, PEM (PKCS#8, PKCS#1 or SEC1; encrypted with key-password-file). */
        Optional<String> keyFile();

        /** A file holding the password of an encrypted key-file. */
        Optional<String> keyPasswordFile();

        /** The server's key and certificate chain as a PKCS12 keystore, instead of certificate-file and key-file. */
        Optional<String> keystoreFile();

        /** A file holding the keystore's password. */
        Optional<String> keystorePasswordFile();

        /** CA certificates trusted for client certificates (mTLS): PEM, or PKCS12 when it ends in .p12 or .pfx. */
        Optional<String> truststoreFile();

        /** A file holding the PKCS12 truststore's password. */
        Optional<String> truststorePasswordFile();

        /** How often the TLS files are checked for changes; changed material is used by new connections. */
        @WithDefault("30s")
        Duration reloadInterval();
    }

    interface Audit {
        /** A signed checkpoint after this many entries. */
        @WithDefault("1000")
        int checkpointEvery();

        /** And after this much time in which there were entries. */
        @WithDefault("1m")
        Duration checkpointInterval();

        /** Journal files are deleted once everything in them is older than this (7 years). */
        @WithDefault("2557d")
        Duration retention();

        /** A journal file is closed (and made read-only) once it reaches this many bytes. */
        @WithDefault("67108864")
        long fileBytes();

        /**
         * About how much memory the indexes of closed journal files may take (5 to 8 bytes an entry): beyond it, the
         * least recently queried are dropped and read again from their sidecars when a query needs them.
         */
        @WithDefault("134217728")
        long indexCacheBytes();
    }

    interface Telemetry {
        /**
         * How often the gauges of what the broker holds are sampled: partition sizes and consumer group lag. Each
         * sample walks every partition and group, so not on every scrape.
         */
        @WithDefault("15s")
        Duration gaugeInterval();

        /** Liveness reports DOWN when an event loop has not run a queued task for this long. */
        @WithDefault("10s")
        Duration eventLoopStallTimeout();
    }

    interface Crypto {
        /**
         * FIPS mode: Bulwark's own cryptography (encryption at rest and its key hierarchy, SCRAM and PLAIN
         * credentials, random numbers, decryption of PEM keys) comes from Bouncy Castle's FIPS 140 module in
         * approved-only mode, which refuses every algorithm FIPS does not approve. Needs the FIPS build
         * ({@code mvn -Dfips package}); the start fails without it. TLS stays on the JDK's JSSE.
         */
        @WithDefault("false")
        boolean fips();
    }

    interface Rest {
        /**
         * Whether REST API requests must come over HTTPS with a client certificate that the HTTP server's trust
         * store verified (mutual TLS), on top of their Basic or Bearer credentials. Health stays open, for probes.
         */
        @WithDefault("false")
        boolean requireClientCertificate();
    }

    interface Jwt {
        /** A JWK Set file of the keys that sign accepted JWTs (re-read when it changes). */
        Optional<String> jwksFile();

        /** A JWK Set URL (https, or http on loopback), cached; instead of jwks-file. */
        Optional<String> jwksUrl();

        /** The required {@code iss}. */
        Optional<String> issuer();

        /** The required {@code aud}. */
        Optional<String> audience();

        /** Allowed signature algorithms (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512). */
        @WithDefault("RS256,ES256")
        List<String> algorithms();

        /** Tolerated clock difference for {@code exp} and {@code nbf}. */
        @WithDefault("30s")
        Duration clockSkew();

        /** The claim naming the principal inside its tenant. */
        @WithDefault("sub")
        String principalClaim();

        /** The claim naming the principal's tenant (the default tenant when absent); a dotted path for nested claims. */
        @WithDefault("tenant")
        String tenantClaim();

        /** The claim listing roles: operator, tenant-admin, auditor; anything else is a member. */
        @WithDefault("roles")
        String rolesClaim();
    }
}
