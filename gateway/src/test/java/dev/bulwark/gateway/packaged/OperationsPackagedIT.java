package dev.bulwark.gateway.packaged;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health, metrics, the REST API and the audit journal on the packaged application, twin of OperationsIT and
 * AuditTrailIT: readiness is UP with each of its parts, a produced topic shows in the Prometheus scrape, the operator
 * creates an auditor through the REST API, and the auditor verifies the signed journal intact.
 */
@QuarkusIntegrationTest
@WithTestResource(PackagedBroker.class)
@Timeout(300)
class OperationsPackagedIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @PackagedBroker.Server
    PackagedBroker.Addresses server;

    @TestHTTPResource("/")
    URL http;

    @Test
    void readinessIsUpWithEachOfItsParts() throws Exception {
        HttpResponse<String> ready = get("/q/health/ready", null);
        assertEquals(200, ready.statusCode(), ready.body());
        JsonNode checks = JSON.readTree(ready.body()).get("checks");
        assertTrue(checks.size() > 0, ready.body());
        checks.forEach(check -> assertEquals("UP", check.get("status").asText(), check.toString()));
        assertEquals(200, get("/q/health/live", null).statusCode());
        assertEquals(200, get("/q/health/started", null).statusCode());
    }

    @Test
    void theScrapeShowsTheBytesAProducerWrote() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.plaintext()))) {
            admin.createTopics(List.of(new NewTopic("telemetry", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.plaintext(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("telemetry", "meter-1", "42 kWh")).get(30, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String scrape = "";
        while (System.nanoTime() < deadline && !scrape.contains("topic=\"telemetry\"")) {
            scrape = get("/q/metrics", null).body();
            Thread.sleep(200);
        }
        assertTrue(scrape.lines().anyMatch(line -> line.startsWith("bulwark_topic_bytes_in_total{")
                && line.contains("topic=\"telemetry\"")), scrape);
    }

    @Test
    void anAuditorTheOperatorCreatesVerifiesTheJournalIntact() throws Exception {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/api/v1/tenants/default/users"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("name", "examiner",
                        "password", "examiner-secret", "role", "auditor")))),
                PackagedBroker.OPERATOR, PackagedBroker.OPERATOR_PASSWORD);
        assertEquals(2, created.statusCode() / 100, created.body());

        HttpResponse<String> verified = get("/api/v1/audit/verify", "examiner:examiner-secret");
        assertEquals(200, verified.statusCode(), verified.body());
        assertTrue(JSON.readTree(verified.body()).get("intact").asBoolean(), verified.body());
        HttpResponse<String> keys = get("/api/v1/audit/keys", "examiner:examiner-secret");
        assertEquals(200, keys.statusCode(), keys.body());
        assertTrue(JSON.readTree(keys.body()).get("keys").size() > 0, "the signing keys as a JWKS: " + keys.body());
    }

    private URI uri(String path) {
        return URI.create(http.toString()).resolve(path);
    }

    private HttpResponse<String> get(String path, String credentials) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        return credentials == null ? HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString())
                : send(request, credentials.split(":")[0], credentials.split(":")[1]);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request, String user, String password)
            throws Exception {
        request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8)));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
