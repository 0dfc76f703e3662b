package dev.bulwark.gateway.it;

import com.sun.net.httpserver.HttpServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Operating the packaged server: the health endpoints as Kubernetes probes them, the Prometheus scrape as a monitoring
 * system reads it, and the spans a tracing backend receives over OTLP.
 */
@Timeout(240)
class OperationsIT {

    private static final String OPERATOR = "root";
    private static final String OPERATOR_PASSWORD = "root-secret";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    @Test
    void readinessGoesDownWhileTheDataDirectoryTakesNoWritesAndUpWhenItDoesAgain() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir)) {
            assertEquals(200, get(server, "/q/health/ready").statusCode());
            assertEquals(200, get(server, "/q/health/started").statusCode());
            assertEquals(200, get(server, "/q/health/live").statusCode());

            try (UnwritableDirectory unwritable = UnwritableDirectory.of(server.dataDir())) {
                HttpResponse<String> ready = awaitStatus(server, "/q/health/ready", 503);
                assertTrue(ready.body().contains("does not take writes"), ready.body());
                // Not a reason to restart the pod: liveness stays up.
                assertEquals(200, get(server, "/q/health/live").statusCode());
            }
            HttpResponse<String> ready = awaitStatus(server, "/q/health/ready", 200);
            assertTrue(ready.body().contains("\"storage\": \"writable\""), ready.body());
        }
    }

    @Test
    void theScrapeShowsAProducingTenantsBytesAndAConsumerGroupsLag() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir, Map.of(
                "BULWARK_LISTENERS", "SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", OPERATOR + ":" + OPERATOR_PASSWORD,
                "BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0",
                "BULWARK_TELEMETRY_GAUGE_INTERVAL", "500ms"))) {
            OperatorRest rest = new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD);
            rest.post("/api/v1/tenants", Map.of("name", "acme", "allowEveryoneIfNoAcl", true));
            rest.post("/api/v1/tenants/acme/users", Map.of("name", "app", "password", "app-secret", "role", "member"));
            Map<String, Object> client = ScramClients.config(server, "app@acme", "app-secret");
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic("vitals", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            Map<String, Object> producerConfig = new HashMap<>(client);
            producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 40; i++) {
                    producer.send(new ProducerRecord<>("vitals", 0, "bed-" + i, "x".repeat(500))).get();
                }
            }
            Map<String, Object> consumerConfig = new HashMap<>(client);
            consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "ward-monitor");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.commitSync(Map.of(new TopicPartition("vitals", 0), new OffsetAndMetadata(15)));
            }

            String lag = "bulwark_consumer_group_lag{group=\"ward-monitor\",partition=\"0\",tenant=\"acme\","
                    + "topic=\"vitals\"}";
            String scrape = awaitScrape(server, s -> value(s, lag) == 25);
            double bytesIn = value(scrape, "bulwark_topic_bytes_in_total{tenant=\"acme\",topic=\"vitals\"}");
            assertTrue(bytesIn >= 40 * 500, "bytes in: " + bytesIn);
            assertEquals(40, value(scrape, "bulwark_topic_records_in_total{tenant=\"acme\",topic=\"vitals\"}"));
            assertTrue(value(scrape, "bulwark_partition_size_bytes{partition=\"0\",tenant=\"acme\","
                    + "topic=\"vitals\"}") >= bytesIn, scrape);
            assertTrue(value(scrape, "bulwark_request_latency_seconds_count{api=\"Produce\"}") >= 40, scrape);
            assertTrue(value(scrape, "bulwark_fsync_latency_seconds_count") > 0, scrape);
        }
    }

    @Test
    void withTracingOnEachRequestIsASpanNamingItsApiTenantAndTopic() throws Exception {
        LinkedBlockingQueue<byte[]> exports = new LinkedBlockingQueue<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/v1/traces", exchange -> {
            exports.add(exchange.getRequestBody().readAllBytes());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try (BulwarkProcess server = BulwarkProcess.start(dir, Map.of(
                "QUARKUS_OTEL_SDK_DISABLED", "false",
                "QUARKUS_OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://127.0.0.1:" + collector.getAddress().getPort(),
                "QUARKUS_OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf",
                "QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "100ms"))) {
            Map<String, Object> client = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic("payments", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(client, new StringSerializer(),
                    new StringSerializer())) {
                producer.send(new ProducerRecord<>("payments", "k", "v")).get();
            }
            assertEquals(200, get(server, "/q/health/ready").statusCode());

            // OTLP protobuf carries span names and string attributes as plain UTF-8.
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(contains(received, "kafka Produce") && contains(received, "payments")
                    && contains(received, "kafka CreateTopics"))) {
                byte[] export = exports.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (export == null) {
                    fail("no Produce span naming its topic reached the collector; got: "
                            + received.toString(StandardCharsets.ISO_8859_1));
                }
                received.write(export);
            }
            assertTrue(contains(received, "bulwark.tenant") && contains(received, "default"));
            assertTrue(contains(received, "bulwark.outcome"));
        } finally {
            collector.stop(0);
        }
    }

    /**
     * Takes writes away from a directory until closed: the write bits, and for root (whom permissions do not stop)
     * the immutable attribute. The test is skipped where neither holds.
     */
    private record UnwritableDirectory(Path directory, boolean immutable) implements AutoCloseable {

        static UnwritableDirectory of(Path directory) throws IOException, InterruptedException {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("r-xr-xr-x"));
            boolean immutable = "root".equals(System.getProperty("user.name"))
                    && new ProcessBuilder("chattr", "+i", directory.toString()).start().waitFor() == 0;
            UnwritableDirectory unwritable = new UnwritableDirectory(directory, immutable);
            Path probe = directory.resolve("writable-check");
            try {
                Files.writeString(probe, "x");
                Files.delete(probe);
                unwritable.close();
                Assumptions.abort("cannot make " + directory + " unwritable here (root without chattr)");
            } catch (IOException expected) {
                // It takes no writes.
            }
            return unwritable;
        }

        @Override
        public void close() throws IOException {
            if (immutable) {
                try {
                    new ProcessBuilder("chattr", "-i", directory.toString()).start().waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static boolean contains(ByteArrayOutputStream received, String text) {
        return received.toString(StandardCharsets.ISO_8859_1).contains(text);
    }

    private static HttpResponse<String> get(BulwarkProcess server, String path) throws IOException,
            InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.http() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> awaitStatus(BulwarkProcess server, String path, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<String> response = get(server, path);
            if (response.statusCode() == status) {
                return response;
            }
            if (System.nanoTime() > deadline) {
                fail(path + " stayed " + response.statusCode() + ", not " + status + ": " + response.body());
            }
            Thread.sleep(200);
        }
    }

    private static String awaitScrape(BulwarkProcess server, Predicate<String> until) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            String scrape = get(server, "/q/metrics").body();
            if (until.test(scrape)) {
                return scrape;
            }
            if (System.nanoTime() > deadline) {
                fail("the scrape never showed what was expected:\n" + scrape);
            }
            Thread.sleep(200);
        }
    }

    /** The value of one series in a Prometheus text scrape; -1 when absent. */
    private static double value(String scrape, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
