package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client quotas with real clients: {@code kafka-configs} sets, shows and deletes user and client-id quotas as an
 * operator and as a tenant-admin (who never sees or touches another tenant's), the REST API sets tenant-wide quotas,
 * and a producer under a 1 MB/s quota is throttled and keeps to it while another tenant's producer, running at the
 * same time, is not slowed down. The rate bounds are generous: the machine may be small and busy.
 */
@Timeout(300)
class QuotaIT {

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(90);
    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long QUOTA = 1_048_576;
    private static final int QUOTA_WINDOW_SECONDS = 4;

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        // A 4-second quota window (Kafka's is 11 x 1 s): rates settle, and the test ends, sooner.
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_LISTENERS", "SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", OPERATOR + ":" + OPERATOR_PASSWORD,
                "BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0",
                "BULWARK_KAFKA_QUOTA_WINDOW_NUM", Integer.toString(QUOTA_WINDOW_SECONDS)));
        for (String tenant : List.of("acme", "globex")) {
            // Quotas are what this test measures, apart from ACLs: principals may use what no ACL names.
            rest(OPERATOR, OPERATOR_PASSWORD, "POST", "/api/v1/tenants", Map.of("name", tenant,
                    "allowEveryoneIfNoAcl", true), 201);
            rest(OPERATOR, OPERATOR_PASSWORD, "POST", "/api/v1/tenants/" + tenant + "/users",
                    Map.of("name", "admin", "password", tenant + "-admin-secret", "role", "tenant-admin"), 201);
            for (String user : List.of("alice", "producer", "consumer")) {
                rest(OPERATOR, OPERATOR_PASSWORD, "POST", "/api/v1/tenants/" + tenant + "/users",
                        Map.of("name", user, "password", user + "-secret", "role", "member"), 201);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void kafkaConfigsManagesUserAndClientQuotasWithinTheCallersTenant() throws Exception {
        String operator = commandConfig("operator", OPERATOR, OPERATOR_PASSWORD);
        String acmeAdmin = commandConfig("acme-admin", "admin@acme", "acme-admin-secret");
        String globexAdmin = commandConfig("globex-admin", "admin@globex", "globex-admin-secret");
        String acmeMember = commandConfig("acme-member", "alice@acme", "alice-secret");

        // The operator names acme's alice as she logs in; her tenant's admin names her plainly and sees the same.
        configs(operator, "--alter", "--entity-type", "users", "--entity-name", "alice@acme",
                "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152").requireSuccess();
        String byOperator = configs(operator, "--describe", "--entity-type", "users", "--entity-name", "alice@acme")
                .requireSuccess().stdout();
        assertTrue(byOperator.contains("producer_byte_rate=1048576") && byOperator.contains("consumer_byte_rate=2097152"),
                byOperator);
        String byAdmin = configs(acmeAdmin, "--describe", "--entity-type", "users", "--entity-name", "alice")
                .requireSuccess().stdout();
        assertTrue(byAdmin.contains("producer_byte_rate=1048576"), byAdmin);

        // A tenant-admin manages its own tenant's client ids, user defaults and user / client-id pairs.
        configs(acmeAdmin, "--alter", "--entity-type", "clients", "--entity-name", "reporting",
                "--add-config", "producer_byte_rate=500000,request_percentage=25").requireSuccess();
        configs(acmeAdmin, "--alter", "--entity-type", "users", "--entity-default",
                "--add-config", "consumer_byte_rate=4000000").requireSuccess();
        String clients = configs(acmeAdmin, "--describe", "--entity-type", "clients", "--entity-name", "reporting")
                .requireSuccess().stdout();
        assertTrue(clients.contains("producer_byte_rate=500000") && clients.contains("request_percentage=25"), clients);
        configs(acmeAdmin, "--alter", "--entity-type", "clients", "--entity-name", "reporting",
                "--delete-config", "producer_byte_rate").requireSuccess();
        clients = configs(acmeAdmin, "--describe", "--entity-type", "clients", "--entity-name", "reporting")
                .requireSuccess().stdout();
        assertFalse(clients.contains("producer_byte_rate"), clients);
        assertTrue(clients.contains("request_percentage=25"), clients);

        // globex's admin sees none of acme's quotas and cannot change them; its own entity of the same name is its own.
        String globexView = configs(globexAdmin, "--describe", "--entity-type", "users").requireSuccess().stdout();
        assertFalse(globexView.contains("1048576") || globexView.contains("4000000"), globexView);
        assertNotEquals(0, configs(globexAdmin, "--alter", "--entity-type", "users", "--entity-name", "alice@acme",
                "--add-config", "producer_byte_rate=1").exitCode());
        String globexClients = configs(globexAdmin, "--describe", "--entity-type", "clients",
                "--entity-name", "reporting").requireSuccess().stdout();
        assertFalse(globexClients.contains("request_percentage"), globexClients);
        configs(globexAdmin, "--alter", "--entity-type", "users", "--entity-name", "alice",
                "--add-config", "producer_byte_rate=7777777").requireSuccess();
        byAdmin = configs(acmeAdmin, "--describe", "--entity-type", "users", "--entity-name", "alice")
                .requireSuccess().stdout();
        assertTrue(byAdmin.contains("producer_byte_rate=1048576") && !byAdmin.contains("7777777"), byAdmin);

        // Members manage no quotas; ip entities are the operator's.
        assertNotEquals(0, configs(acmeMember, "--alter", "--entity-type", "users", "--entity-name", "alice",
                "--add-config", "producer_byte_rate=1").exitCode());
        assertNotEquals(0, configs(acmeAdmin, "--alter", "--entity-type", "ips", "--entity-name", "10.0.0.7",
                "--add-config", "connection_creation_rate=5").exitCode());
        configs(operator, "--alter", "--entity-type", "ips", "--entity-name", "10.0.0.7",
                "--add-config", "connection_creation_rate=5").requireSuccess();
        String ips = configs(operator, "--describe", "--entity-type", "ips", "--entity-name", "10.0.0.7")
                .requireSuccess().stdout();
        assertTrue(ips.contains("connection_creation_rate=5"), ips);
        // Kafka's validation: connection_creation_rate belongs to ip entities, unknown keys are refused.
        assertNotEquals(0, configs(operator, "--alter", "--entity-type", "users", "--entity-name", "alice",
                "--add-config", "connection_creation_rate=5").exitCode());

        // The operator deletes what it set; the tenant-admin sees that.
        configs(operator, "--alter", "--entity-type", "users", "--entity-name", "alice@acme",
                "--delete-config", "producer_byte_rate,consumer_byte_rate").requireSuccess();
        byAdmin = configs(acmeAdmin, "--describe", "--entity-type", "users", "--entity-name", "alice")
                .requireSuccess().stdout();
        assertFalse(byAdmin.contains("producer_byte_rate"), byAdmin);
    }

    @Test
    void tenantWideQuotasAreSetByOperatorsThroughRest() throws Exception {
        String path = "/api/v1/tenants/globex/quotas";
        JsonNode initial = rest(OPERATOR, OPERATOR_PASSWORD, "GET", path, null, 200);
        assertTrue(initial.get("producerByteRate").isNull(), initial.toString());
        Map<String, Object> quotas = new HashMap<>();
        quotas.put("producerByteRate", 50_000_000);
        quotas.put("connectionCreationRate", 1000);
        quotas.put("consumerByteRate", null);
        JsonNode set = rest(OPERATOR, OPERATOR_PASSWORD, "PUT", path, quotas, 200);
        assertEquals(50_000_000, set.get("producerByteRate").asDouble());
        assertEquals(1000, set.get("connectionCreationRate").asDouble());
        assertTrue(set.get("consumerByteRate").isNull());

        JsonNode seen = rest("admin@globex", "globex-admin-secret", "GET", path, null, 200);
        assertEquals(50_000_000, seen.get("producerByteRate").asDouble());
        rest("admin@globex", "globex-admin-secret", "PUT", path, Map.of("producerByteRate", 1), 403);
        rest("admin@acme", "acme-admin-secret", "GET", path, null, 403);
        rest(OPERATOR, OPERATOR_PASSWORD, "PUT", path, Map.of("producerByteRate", -5), 400);

        rest(OPERATOR, OPERATOR_PASSWORD, "PUT", path, Map.of(), 200);
        assertTrue(rest(OPERATOR, OPERATOR_PASSWORD, "GET", path, null, 200).get("producerByteRate").isNull());
    }

    /**
     * The acceptance test: acme's producer under a 1 MB/s quota and globex's unlimited one send as fast as they can
     * at the same time for 20 s. acme's is throttled (its client reports throttle time) and keeps within 2x the
     * quota; globex's reports no throttle and goes well above the quota.
     */
    @Test
    void aProducerOverItsQuotaIsThrottledWhileAnotherTenantsIsNot() throws Exception {
        try (Admin admin = Admin.create(client(OPERATOR, OPERATOR_PASSWORD))) {
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                    new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "producer@acme")),
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", (double) QUOTA))))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        for (String tenant : List.of("acme", "globex")) {
            try (Admin admin = Admin.create(client("producer@" + tenant, "producer-secret"))) {
                admin.createTopics(List.of(new NewTopic("load", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
        }
        CompletableFuture<ProducerRun> acme = CompletableFuture.supplyAsync(() -> produce("acme"));
        CompletableFuture<ProducerRun> globex = CompletableFuture.supplyAsync(() -> produce("globex"));
        ProducerRun throttled = acme.get(120, TimeUnit.SECONDS);
        ProducerRun free = globex.get(120, TimeUnit.SECONDS);
        System.out.println("QuotaIT producers: " + throttled + "; " + free);

        assertTrue(throttled.throttleTimeMaxMs() > 0, "acme's producer reports throttle time: " + throttled);
        assertTrue(throttled.bytesPerSecond() <= 2.0 * QUOTA, "acme's producer keeps to its quota: " + throttled);
        assertFalse(free.throttleTimeMaxMs() > 0, "globex's producer is never throttled: " + free);
        assertTrue(free.bytesPerSecond() > 3.0 * QUOTA, "globex's producer is not held back: " + free);

        // The throttled records are all there, none lost or refused.
        assertTrue(endOffset("acme") >= throttled.records(), "acme's records are all stored: " + throttled);
    }

    @Test
    void aConsumerOverItsQuotaIsThrottled() throws Exception {
        long quota = 512 * 1024;
        try (Admin admin = Admin.create(client("admin@acme", "acme-admin-secret"))) {
            admin.createTopics(List.of(new NewTopic("history", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                    new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "consumer")),
                    List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", (double) quota))))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> producerConfig = client("alice@acme", "alice-secret");
        byte[] value = randomBytes(10_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < 3_000; i++) {
                producer.send(new ProducerRecord<>("history", value));
            }
            producer.flush();
        }
        Map<String, Object> config = client("consumer@acme", "consumer-secret");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition("history", 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            // Like Kafka's, the quota lets a new consumer read a window's worth (quota x the window) at once; the rate
            // is measured after that, once the consumer is held to the quota.
            long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(QUOTA_WINDOW_SECONDS + 2);
            while (System.nanoTime() < warmUpEnd) {
                consumer.poll(Duration.ofMillis(200));
            }
            long bytes = 0;
            long started = System.nanoTime();
            while (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(2L * QUOTA_WINDOW_SECONDS)) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    bytes += record.value().length;
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            double throttle = metric(consumer.metrics(), "fetch-throttle-time-max");
            System.out.printf("QuotaIT consumer: %.0f B/s over %.1f s, fetch-throttle-time-max %.0f ms%n",
                    bytes / seconds, seconds, throttle);
            assertTrue(throttle > 0, "the consumer reports throttle time");
            assertTrue(bytes / seconds <= 2.0 * quota, "the consumer keeps to its quota: " + bytes / seconds
                    + " B/s");
            assertTrue(bytes > 0, "the throttled consumer still reads");
        }
    }

    // ---------------------------------------------------------------- producers

    /** What one producer achieved: records and bytes acknowledged, over how long, and its worst throttle time. */
    record ProducerRun(String tenant, long records, long bytes, double seconds, double throttleTimeMaxMs) {
        double bytesPerSecond() {
            return bytes / seconds;
        }

        @Override
        public String toString() {
            return String.format("%s: %d records, %.0f B/s over %.1f s, produce-throttle-time-max %.0f ms", tenant,
                    records, bytesPerSecond(), seconds, throttleTimeMaxMs);
        }
    }

    /** Sends 10 KB records as fast as the producer lets it for 3 windows, then waits for the rest to be acknowledged. */
    private static ProducerRun produce(String tenant) {
        Map<String, Object> config = client("producer@" + tenant, "producer-secret");
        config.put(ProducerConfig.ACKS_CONFIG, "1");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        // A small buffer, so that what is still queued when sending stops drains in a few seconds even throttled.
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 2 * 1024 * 1024);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        byte[] value = randomBytes(10_000);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            long started = System.nanoTime();
            while (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(3L * QUOTA_WINDOW_SECONDS)) {
                producer.send(new ProducerRecord<>("load", value), (metadata, error) -> {
                    if (error == null) {
                        acked.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                });
            }
            producer.flush();
            double seconds = (System.nanoTime() - started) / 1e9;
            double throttle = metric(producer.metrics(), "produce-throttle-time-max");
            assertEquals(0, failed.get(), tenant + ": throttling fails no send");
            return new ProducerRun(tenant, acked.get(), acked.get() * value.length, seconds, throttle);
        }
    }

    private static long endOffset(String tenant) {
        Map<String, Object> config = client("producer@" + tenant, "producer-secret");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition("load", 0);
            return consumer.endOffsets(List.of(partition), Duration.ofSeconds(30)).get(partition);
        }
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
        return metrics.entrySet().stream()
                .filter(e -> e.getKey().name().equals(name) && e.getKey().tags().get("node-id") == null)
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .filter(v -> !Double.isNaN(v))
                .max().orElse(Double.NaN);
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        return bytes;
    }

    // ---------------------------------------------------------------- clients, tools and REST

    private static Map<String, Object> client(String user, String password) {
        return ScramClients.config(server, user, password);
    }

    private static String commandConfig(String name, String user, String password) throws IOException {
        Path file = dir.resolve(name + ".properties");
        Properties properties = new Properties();
        client(user, password).forEach((k, v) -> properties.setProperty(k, v.toString()));
        properties.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
        try (OutputStream out = Files.newOutputStream(file)) {
            properties.store(out, null);
        }
        return file.toString();
    }

    /** {@code kafka-configs} with the given client configuration. */
    private static ExternalCommand.Result configs(String commandConfig, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", server.bootstrap("SASL_PLAINTEXT"),
                "--command-config", commandConfig));
        all.addAll(List.of(args));
        return ExternalCommand.kafkaTool(TOOL_TIMEOUT, null, "kafka.admin.ConfigCommand", all.toArray(String[]::new));
    }

    /** A REST call with HTTP Basic that must answer {@code status}; returns the body, or null when it has none. */
    private static JsonNode rest(String user, String password, String method, String path, Object body, int status)
            throws Exception {
        String credentials = Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http() + path))
                .header("Authorization", "Basic " + credentials);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(status, response.statusCode(), method + " " + path + " as " + user + ": " + response.body());
        return response.body().isEmpty() ? null : JSON.readTree(response.body());
    }
}
