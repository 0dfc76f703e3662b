package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tenant limits, set through the REST API and met by stock clients: the Java admin client's topic and partition
 * creations past max-topics and max-partitions, a Java producer past max-stored-bytes, connections past
 * max-connections on a SASL listener and on a PLAINTEXT one; and the tenant's description showing limits and usage.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TenantLimitsIT {

    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_LISTENERS", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", OPERATOR + ":" + OPERATOR_PASSWORD));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void tenantsAreCreatedWithLimitsAndTheNoAclRuleAndDescribedWithThem() throws Exception {
        JsonNode acme = ok(rest("POST", "/api/v1/tenants", "{\"name\": \"acme\", \"limits\": {\"maxTopics\": 2}, "
                + "\"allowEveryoneIfNoAcl\": true}"));
        assertEquals(2, acme.get("limits").get("maxTopics").asInt());
        assertTrue(acme.get("limits").get("maxPartitions").isNull(), acme.toString());
        assertTrue(acme.get("allowEveryoneIfNoAcl").asBoolean());
        assertEquals(0, acme.get("usage").get("topics").asInt());

        JsonNode plain = ok(rest("POST", "/api/v1/tenants", "{\"name\": \"globex\"}"));
        assertFalse(plain.get("allowEveryoneIfNoAcl").asBoolean(), "a new tenant denies what no ACL allows");
        assertTrue(plain.get("limits").get("maxStoredBytes").isNull(), plain.toString());
        assertTrue(ok(rest("GET", "/api/v1/tenants/default", null)).get("allowEveryoneIfNoAcl").asBoolean(),
                "the default tenant's anonymous clients have no ACLs");

        JsonNode changed = ok(rest("PUT", "/api/v1/tenants/globex/acl-default", "{\"allowEveryoneIfNoAcl\": true}"));
        assertTrue(changed.get("allowEveryoneIfNoAcl").asBoolean());

        ok(rest("POST", "/api/v1/tenants/acme/users", "{\"name\": \"boss\", \"password\": \"boss-secret\", "
                + "\"role\": \"tenant-admin\"}"));
        JsonNode limits = ok(rest("PUT", "/api/v1/tenants/acme/limits", "{\"maxTopics\": 2, \"maxPartitions\": 4}"));
        assertEquals(4, limits.get("limits").get("maxPartitions").asInt());
        assertTrue(limits.get("allowEveryoneIfNoAcl").asBoolean(), "limits leave the no-ACL rule alone");
    }

    @Test
    @Order(2)
    void badLimitsAndStrangersAreRefusedClearly() throws Exception {
        HttpResponse<String> negative = rest("PUT", "/api/v1/tenants/acme/limits", "{\"maxPartitions\": -1}");
        assertEquals(400, negative.statusCode());
        assertTrue(negative.body().contains("max-partitions must be 0 or more"), negative.body());

        HttpResponse<String> misspelt = rest("PUT", "/api/v1/tenants/acme/limits", "{\"maxTopic\": 3}");
        assertEquals(400, misspelt.statusCode());
        assertTrue(misspelt.body().contains("unknown field 'maxTopic'"), misspelt.body());

        HttpResponse<String> nestedNegative = rest("POST", "/api/v1/tenants",
                "{\"name\": \"initech\", \"limits\": {\"maxConnections\": -3}}");
        assertEquals(400, nestedNegative.statusCode());
        assertTrue(nestedNegative.body().contains("max-connections"), nestedNegative.body());
        assertEquals(404, rest("GET", "/api/v1/tenants/initech", null).statusCode(), "nothing was created");

        HttpResponse<String> noRule = rest("PUT", "/api/v1/tenants/acme/acl-default", "{}");
        assertEquals(400, noRule.statusCode());
        assertTrue(noRule.body().contains("allowEveryoneIfNoAcl"), noRule.body());

        HttpResponse<String> byTenantAdmin = rest("boss@acme", "boss-secret", "PUT", "/api/v1/tenants/acme/limits",
                "{}");
        assertEquals(403, byTenantAdmin.statusCode(), byTenantAdmin.body());
        assertEquals(2, ok(rest("GET", "/api/v1/tenants/acme", null)).get("limits").get("maxTopics").asInt());
    }

    @Test
    @Order(3)
    void topicsAndPartitionsPastTheLimitsFailWithPolicyViolation() throws Exception {
        try (Admin admin = Admin.create(client("boss@acme", "boss-secret"))) {
            admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);

            CreateTopicsResult validated = admin.createTopics(List.of(new NewTopic("a", 1, (short) 1),
                    new NewTopic("b", 1, (short) 1)), new CreateTopicsOptions().validateOnly(true));
            validated.values().get("a").get(30, TimeUnit.SECONDS);
            assertPolicyViolation(validated.values().get("b"),
                    "tenant acme may have at most 2 topics (max-topics); it has 1 and this request adds 2");

            CreateTopicsResult created = admin.createTopics(List.of(new NewTopic("a", 1, (short) 1),
                    new NewTopic("b", 1, (short) 1)));
            created.values().get("a").get(30, TimeUnit.SECONDS);
            assertPolicyViolation(created.values().get("b"), "(max-topics)");

            assertPolicyViolation(admin.createPartitions(Map.of("a", NewPartitions.increaseTo(3))).all(),
                    "tenant acme may have at most 4 partitions (max-partitions); it has 3 and this request adds 2");
            admin.createPartitions(Map.of("a", NewPartitions.increaseTo(2))).all().get(30, TimeUnit.SECONDS);
            assertEquals(java.util.Set.of("orders", "a"), admin.listTopics().names().get(30, TimeUnit.SECONDS));
        }
        JsonNode usage = ok(rest("GET", "/api/v1/tenants/acme", null)).get("usage");
        assertEquals(2, usage.get("topics").asInt());
        assertEquals(4, usage.get("partitions").asInt());
    }

    @Test
    @Order(4)
    void produceBeyondTheStorageLimitFailsWithoutRetriesAndWhatCameBeforeStays() throws Exception {
        ok(rest("PUT", "/api/v1/tenants/acme/limits", "{\"maxTopics\": 2, \"maxPartitions\": 4, "
                + "\"maxStoredBytes\": 4000}"));
        Map<String, Object> config = client("boss@acme", "boss-secret");
        String value = "v".repeat(500);
        int acknowledged = 0;
        ExecutionException refused = null;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 20 && refused == null; i++) {
                try {
                    producer.send(new ProducerRecord<>("orders", 0, "k" + i, value)).get(30, TimeUnit.SECONDS);
                    acknowledged++;
                } catch (ExecutionException e) {
                    refused = e;
                }
            }
        }
        assertTrue(refused != null, "20 records of 500 bytes fit under 4000 bytes");
        assertInstanceOf(PolicyViolationException.class, refused.getCause(), refused.toString());
        assertFalse(refused.getCause() instanceof RetriableException);
        assertTrue(refused.getCause().getMessage().contains("tenant acme may store at most 4000 bytes "
                + "(max-stored-bytes)"), refused.getCause().getMessage());
        assertTrue(acknowledged >= 5, acknowledged + " records were acknowledged before the limit");

        assertEquals(acknowledged, countRecords(client("boss@acme", "boss-secret"), new TopicPartition("orders", 0)));
        long stored = ok(rest("GET", "/api/v1/tenants/acme", null)).get("usage").get("storedBytes").asLong();
        assertTrue(stored > 0 && stored <= 4000, "stored bytes " + stored);
        assertTrue(server.log().contains("(max-stored-bytes)"), "the refusal is logged");
    }

    @Test
    @Order(5)
    void aSaslConnectionPastMaxConnectionsFailsItsAuthenticationAndAClosedOneFreesItsPlace() throws Exception {
        awaitConnections("acme", 0);
        ok(rest("PUT", "/api/v1/tenants/acme/limits", "{\"maxConnections\": 2}"));
        int port = port("SASL_PLAINTEXT");
        try (KafkaWire first = KafkaWire.connect(port).authenticatePlain("boss@acme", "boss-secret");
             KafkaWire second = KafkaWire.connect(port).authenticatePlain("boss@acme", "boss-secret");
             KafkaWire third = KafkaWire.connect(port)) {
            IOException refused = assertThrows(IOException.class,
                    () -> third.authenticatePlain("boss@acme", "boss-secret"));
            assertTrue(refused.getMessage().contains("tenant acme may have at most 2 connections (max-connections); "
                    + "it has 2"), refused.getMessage());
            assertTrue(third.closedByServer(Duration.ofSeconds(10)));
            assertEquals(2, ok(rest("GET", "/api/v1/tenants/acme", null)).get("usage").get("connections").asInt());
            assertTrue(apiVersionsAnswered(second), "the connections within the limit keep working");

            first.close();
            awaitConnections("acme", 1);
            try (KafkaWire again = KafkaWire.connect(port).authenticatePlain("boss@acme", "boss-secret")) {
                assertTrue(apiVersionsAnswered(again));
            }
        }
        awaitConnections("acme", 0);
        assertThrows(ExecutionException.class, () -> {
            try (KafkaWire a = KafkaWire.connect(port).authenticatePlain("boss@acme", "boss-secret");
                 KafkaWire b = KafkaWire.connect(port).authenticatePlain("boss@acme", "boss-secret");
                 Admin admin = Admin.create(withTimeouts(client("boss@acme", "boss-secret")))) {
                admin.listTopics().names().get(30, TimeUnit.SECONDS);
            }
        }, "a Java client past the limit is refused too");
        ok(rest("PUT", "/api/v1/tenants/acme/limits", "{}"));
    }

    @Test
    @Order(6)
    void anAnonymousPlaintextConnectionPastTheDefaultTenantsLimitIsClosedAndLogged() throws Exception {
        awaitConnections("default", 0);
        ok(rest("PUT", "/api/v1/tenants/default/limits", "{\"maxConnections\": 1}"));
        int port = port("PLAINTEXT");
        try (KafkaWire first = KafkaWire.connect(port)) {
            assertTrue(apiVersionsAnswered(first));
            try (KafkaWire second = KafkaWire.connect(port)) {
                assertTrue(second.closedByServer(Duration.ofSeconds(10)));
            }
            assertTrue(server.log().contains("tenant default may have at most 1 connections (max-connections)"),
                    "the refusal is logged");
        }
        awaitConnections("default", 0);
        ok(rest("PUT", "/api/v1/tenants/default/limits", "{\"maxConnections\": null}"));
        try (KafkaWire first = KafkaWire.connect(port); KafkaWire second = KafkaWire.connect(port)) {
            assertTrue(apiVersionsAnswered(first) && apiVersionsAnswered(second));
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void assertPolicyViolation(KafkaFuture<?> future, String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        assertInstanceOf(PolicyViolationException.class, e.getCause(), e.toString());
        assertTrue(e.getCause().getMessage().contains(message), e.getCause().getMessage());
    }

    private static boolean apiVersionsAnswered(KafkaWire wire) throws IOException {
        RequestHeader header = wire.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                .setClientSoftwareName("tenant-limits-it").setClientSoftwareVersion("1"));
        return ((ApiVersionsResponse) wire.receive(header)).data().errorCode() == 0;
    }

    private static void awaitConnections(String tenant, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int connections;
        do {
            connections = ok(rest("GET", "/api/v1/tenants/" + tenant, null)).get("usage").get("connections").asInt();
            if (connections == expected) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        assertEquals(expected, connections, "connections of " + tenant);
    }

    private static long countRecords(Map<String, Object> client, TopicPartition partition) {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (consumer.position(partition) < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values.size();
    }

    private static Map<String, Object> client(String user, String password) {
        return ScramClients.config(server, user, password);
    }

    private static Map<String, Object> withTimeouts(Map<String, Object> config) {
        config.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        return config;
    }

    private static int port(String listener) {
        return Integer.parseInt(server.bootstrap(listener).split(":")[1]);
    }

    private static JsonNode ok(HttpResponse<String> response) throws IOException {
        assertTrue(response.statusCode() / 100 == 2, response.request().method() + " " + response.request().uri()
                + ": " + response.statusCode() + " " + response.body());
        return JSON.readTree(response.body());
    }

    private static HttpResponse<String> rest(String method, String path, String body) throws Exception {
        return rest(OPERATOR, OPERATOR_PASSWORD, method, path, body);
    }

    private static HttpResponse<String> rest(String user, String password, String method, String path, String body)
            throws Exception {
        String credentials = Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http() + path))
                .header("Authorization", "Basic " + credentials)
                .timeout(Duration.ofSeconds(30));
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
