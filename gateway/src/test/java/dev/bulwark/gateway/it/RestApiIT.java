package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.RSAKey;
import dev.bulwark.auth.jwt.TestTokens;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The REST API's security against the packaged server: who may call what (HTTP Basic with SASL credentials, bearer
 * JWTs signed with a key of the test's own), tenants and their users, and the tenant-scoped consumer lag.
 */
@Timeout(300)
class RestApiIT {

    private static final String ROOT = basic("root", "root-secret");
    private static final String ALICE = basic("alice@acme", "alice-secret");
    private static final String BOB = basic("bob@acme", "bob-secret");
    private static final Duration FAILURE_DELAY = Duration.ofMillis(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static RSAKey signingKey;

    @BeforeAll
    static void start() throws Exception {
        signingKey = TestTokens.rsa("it-key");
        Path jwks = TestTokens.jwksFile(dir.resolve("jwks.json"), signingKey);
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_OPERATOR", "root:root-secret",
                "BULWARK_JWT_JWKS_FILE", jwks.toString(),
                "BULWARK_JWT_ISSUER", TestTokens.ISSUER,
                "BULWARK_JWT_AUDIENCE", TestTokens.AUDIENCE,
                "BULWARK_SASL_FAILURE_DELAY", FAILURE_DELAY.toMillis() + "ms",
                "BULWARK_SASL_FAILURE_DELAY_MAX", "200ms"));
        assertEquals(201, post("/api/v1/tenants", ROOT, "{\"name\": \"acme\"}").status());
        assertEquals(201, post("/api/v1/tenants", ROOT, "{\"name\": \"globex\"}").status());
        assertEquals(201, post("/api/v1/tenants/acme/users", ROOT,
                "{\"name\": \"alice\", \"password\": \"alice-secret\", \"role\": \"member\"}").status());
        assertEquals(201, post("/api/v1/tenants/acme/users", ROOT,
                "{\"name\": \"bob\", \"password\": \"bob-secret\", \"role\": \"tenant-admin\"}").status());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void healthNeedsNoCredentials() throws Exception {
        assertEquals(200, get("/q/health/live", null).status());
        assertEquals(200, get("/q/health/ready", null).status());
    }

    @Test
    void everythingButHealthAsksForCredentials() throws Exception {
        List<Reply> replies = new ArrayList<>();
        replies.add(get("/api/v1/tenants", null));
        replies.add(post("/api/v1/tenants", null, "{\"name\": \"intruders\"}"));
        replies.add(get("/api/v1/tenants/acme", null));
        replies.add(put("/api/v1/tenants/acme/state", null, "{\"state\": \"suspended\"}"));
        replies.add(get("/api/v1/tenants/acme/users", null));
        replies.add(post("/api/v1/tenants/acme/users", null, "{\"name\": \"x\", \"password\": \"y\"}"));
        replies.add(get("/api/v1/tenants/acme/users/alice", null));
        replies.add(delete("/api/v1/tenants/acme/users/alice", null));
        replies.add(get("/api/v1/tenants/acme/groups/g/lag", null));
        replies.add(get("/api/v1/no-such-endpoint", null));
        replies.add(get("/q/health/../../api/v1/tenants", null));
        for (Reply reply : replies) {
            assertEquals(401, reply.status(), reply.toString());
            assertEquals("authentication required", reply.json().get("error").asText(), reply.toString());
            assertEquals(List.of("Basic realm=\"bulwark\"", "Bearer realm=\"bulwark\""),
                    reply.response().headers().allValues("WWW-Authenticate"), reply.toString());
        }
        assertEquals(200, get("/api/v1/tenants/acme", ROOT).status(), "nothing was suspended");
        assertEquals(200, get("/api/v1/tenants/acme/users/alice", ROOT).status(), "nothing was deleted");
    }

    @Test
    void aWrongPasswordAnUnknownUserAndAnUnknownTenantLookTheSameAndAreDelayed() throws Exception {
        List<Reply> failures = List.of(get("/api/v1/tenants", basic("root", "guess")),
                get("/api/v1/tenants", basic("mallory@acme", "guess")),
                get("/api/v1/tenants", basic("alice@nowhere", "alice-secret")),
                get("/api/v1/tenants", basic("alice", "alice-secret")));
        for (Reply reply : failures) {
            assertEquals(401, reply.status(), reply.toString());
            assertEquals("{\"error\":\"authentication failed\"}", reply.body());
            assertTrue(reply.elapsed().compareTo(FAILURE_DELAY) >= 0, "answered after the failure delay: "
                    + reply.elapsed());
        }
        String log = server.log();
        assertTrue(log.contains("REST authentication failed for root from 127.0.0.1: wrong password"), log);
        assertTrue(log.contains("REST authentication failed for mallory@acme from 127.0.0.1: unknown user"), log);
        assertTrue(log.contains("REST authentication failed for alice@nowhere from 127.0.0.1: unknown tenant"), log);
        assertFalse(log.contains("alice-secret"), "passwords never reach the log");
    }

    @Test
    void anOperatorCreatesTenantsAndUsersAndNoPasswordComesBack() throws Exception {
        Reply tenant = post("/api/v1/tenants", ROOT, "{\"name\": \"initech\"}");
        assertEquals(201, tenant.status(), tenant.toString());
        assertEquals("initech", tenant.json().get("name").asText());
        assertEquals("active", tenant.json().get("state").asText());
        assertFalse(tenant.json().get("id").asText().isEmpty());
        Instant.parse(tenant.json().get("createdAt").asText());
        assertEquals(server.http() + "/api/v1/tenants/initech",
                tenant.response().headers().firstValue("Location").orElseThrow());
        assertEquals(409, post("/api/v1/tenants", ROOT, "{\"name\": \"initech\"}").status());
        Reply invalid = post("/api/v1/tenants", ROOT, "{\"name\": \"not.a.name\"}");
        assertEquals(400, invalid.status());
        assertTrue(invalid.json().get("error").asText().contains("invalid tenant name"), invalid.toString());
        assertEquals(400, post("/api/v1/tenants", ROOT, "{\"name\": ").status(), "not JSON");

        Reply peter = post("/api/v1/tenants/initech/users", ROOT,
                "{\"name\": \"peter\", \"password\": \"tps-report\", \"role\": \"tenant-admin\"}");
        assertEquals(201, peter.status(), peter.toString());
        assertEquals(JSON.readTree("{\"name\": \"peter\", \"tenant\": \"initech\", \"role\": \"tenant-admin\", "
                + "\"saslUsername\": \"peter@initech\", \"mechanisms\": [\"PLAIN\", \"SCRAM-SHA-256\", "
                + "\"SCRAM-SHA-512\"]}"), withoutCreatedAt(peter.json()));
        assertFalse(peter.body().contains("tps-report"));
        assertEquals(409, post("/api/v1/tenants/initech/users", ROOT,
                "{\"name\": \"peter\", \"password\": \"other\"}").status());
        assertEquals(400, post("/api/v1/tenants/initech/users", ROOT,
                "{\"name\": \"bill\", \"password\": \"x\", \"role\": \"operator\"}").status(),
                "operators come from bulwark.operator only");
        assertEquals(404, post("/api/v1/tenants/nowhere/users", ROOT,
                "{\"name\": \"bill\", \"password\": \"x\"}").status());
        Reply member = post("/api/v1/tenants/initech/users", ROOT, "{\"name\": \"milton\", \"password\": \"stapler\"}");
        assertEquals("member", member.json().get("role").asText(), "member unless said otherwise");
        assertEquals(200, get("/api/v1/tenants/initech", basic("milton@initech", "stapler")).status(),
                "a user created through the API logs in with name@tenant");
    }

    @Test
    void aTenantAdminManagesItsOwnTenantsUsersAndLearnsNothingOfOthers() throws Exception {
        Reply users = get("/api/v1/tenants/acme/users", BOB);
        assertEquals(200, users.status(), users.toString());
        List<String> names = new ArrayList<>();
        users.json().forEach(user -> names.add(user.get("name").asText()));
        assertTrue(names.containsAll(List.of("alice", "bob")), names.toString());

        assertEquals(201, post("/api/v1/tenants/acme/users", BOB,
                "{\"name\": \"carol\", \"password\": \"carol-secret\", \"role\": \"member\"}").status());
        String carol = basic("carol@acme", "carol-secret");
        assertEquals(200, get("/api/v1/tenants/acme", carol).status());

        Reply existing = get("/api/v1/tenants/globex/users", BOB);
        Reply missing = get("/api/v1/tenants/no-such-tenant/users", BOB);
        assertEquals(403, existing.status());
        assertEquals(existing.status(), missing.status());
        assertEquals(existing.body(), missing.body(), "the same refusal whether or not the tenant exists");
        Reply createExisting = post("/api/v1/tenants/globex/users", BOB, "{\"name\": \"x\", \"password\": \"y\"}");
        Reply createMissing = post("/api/v1/tenants/no-such-tenant/users", BOB,
                "{\"name\": \"x\", \"password\": \"y\"}");
        assertEquals(403, createExisting.status());
        assertEquals(createExisting.body(), createMissing.body());
        assertEquals(get("/api/v1/tenants/globex", BOB).body(), get("/api/v1/tenants/no-such-tenant", BOB).body());
        assertEquals(403, get("/api/v1/tenants/default/users", BOB).status(), "operators' tenant: operators only");
        assertEquals(403, post("/api/v1/tenants", BOB, "{\"name\": \"bobs-own\"}").status());
        assertEquals(403, put("/api/v1/tenants/acme/state", BOB, "{\"state\": \"suspended\"}").status());

        Reply tenants = get("/api/v1/tenants", BOB);
        assertEquals(1, tenants.json().size(), tenants.toString());
        assertEquals("acme", tenants.json().get(0).get("name").asText());

        assertEquals(409, delete("/api/v1/tenants/acme/users/bob", BOB).status(), "no deleting oneself");
        assertEquals(204, delete("/api/v1/tenants/acme/users/carol", BOB).status());
        assertEquals(401, get("/api/v1/tenants/acme", carol).status(), "a deleted user no longer logs in");
        assertEquals(404, delete("/api/v1/tenants/acme/users/carol", BOB).status());
    }

    @Test
    void aMemberReadsItsTenantAndManagesNoUsers() throws Exception {
        assertEquals(403, post("/api/v1/tenants/acme/users", ALICE,
                "{\"name\": \"mallory\", \"password\": \"x\", \"role\": \"tenant-admin\"}").status());
        assertEquals(403, get("/api/v1/tenants/acme/users", ALICE).status());
        assertEquals(403, delete("/api/v1/tenants/acme/users/bob", ALICE).status());
        Reply own = get("/api/v1/tenants/acme", ALICE);
        assertEquals(200, own.status());
        assertEquals("acme", own.json().get("name").asText());
        assertEquals(1, get("/api/v1/tenants", ALICE).json().size());
    }

    @Test
    void theOperatorSeesEveryTenant() throws Exception {
        List<String> names = new ArrayList<>();
        get("/api/v1/tenants", ROOT).json().forEach(tenant -> names.add(tenant.get("name").asText()));
        assertTrue(names.containsAll(List.of("acme", "default", "globex")), names.toString());
        assertEquals(404, get("/api/v1/tenants/no-such-tenant", ROOT).status());
    }

    @Test
    void aSuspendedTenantsUsersCannotAuthenticateUntilItIsActiveAgain() throws Exception {
        assertEquals(201, post("/api/v1/tenants", ROOT, "{\"name\": \"hooli\"}").status());
        assertEquals(201, post("/api/v1/tenants/hooli/users", ROOT,
                "{\"name\": \"gavin\", \"password\": \"gavin-secret\"}").status());
        String gavin = basic("gavin@hooli", "gavin-secret");
        assertEquals(200, get("/api/v1/tenants/hooli", gavin).status());

        Reply suspended = put("/api/v1/tenants/hooli/state", ROOT, "{\"state\": \"suspended\"}");
        assertEquals(200, suspended.status(), suspended.toString());
        assertEquals("suspended", suspended.json().get("state").asText());
        Reply refused = get("/api/v1/tenants/hooli", gavin);
        assertEquals(401, refused.status());
        assertEquals("authentication failed: the principal's tenant is suspended",
                refused.json().get("error").asText(), "told only to whom the right password proved");
        assertEquals("{\"error\":\"authentication failed\"}",
                get("/api/v1/tenants/hooli", basic("gavin@hooli", "guess")).body());

        assertEquals("active", put("/api/v1/tenants/hooli/state", ROOT, "{\"state\": \"active\"}").json()
                .get("state").asText());
        assertEquals(200, get("/api/v1/tenants/hooli", gavin).status());
        assertEquals(409, put("/api/v1/tenants/default/state", ROOT, "{\"state\": \"suspended\"}").status());
        assertEquals(400, put("/api/v1/tenants/hooli/state", ROOT, "{\"state\": \"paused\"}").status());
    }

    @Test
    void bearerTokensSignedByTheConfiguredKeysAuthenticate() throws Exception {
        Instant now = Instant.now();
        String operator = bearer(TestTokens.sign(signingKey, TestTokens.claims(now, "ops", null, "operator").build()));
        Reply tenants = get("/api/v1/tenants", operator);
        assertEquals(200, tenants.status(), tenants.toString());
        assertTrue(tenants.json().size() >= 3, tenants.toString());

        String tina = bearer(TestTokens.sign(signingKey, TestTokens.claims(now, "tina", "acme", "tenant-admin").build()));
        assertEquals(200, get("/api/v1/tenants/acme/users", tina).status());
        assertEquals(403, get("/api/v1/tenants/globex/users", tina).status());

        Reply expired = get("/api/v1/tenants", bearer(TestTokens.sign(signingKey,
                TestTokens.claims(now.minusSeconds(3600), "ops", null, "operator").build())));
        assertEquals(401, expired.status());
        assertTrue(expired.json().get("error").asText().startsWith("token expired"), expired.toString());

        Reply audience = get("/api/v1/tenants", bearer(TestTokens.sign(signingKey,
                TestTokens.claims(now, "ops", null, "operator").audience("another-service").build())));
        assertEquals(401, audience.status());
        assertTrue(audience.json().get("error").asText().contains("audience"), audience.toString());

        Reply forged = get("/api/v1/tenants", bearer(TestTokens.sign(TestTokens.rsa(signingKey.getKeyID()),
                TestTokens.claims(now, "ops", null, "operator").build())));
        assertEquals(401, forged.status());
        assertEquals("token signature does not verify", forged.json().get("error").asText());

        Reply tenantOperator = get("/api/v1/tenants", bearer(TestTokens.sign(signingKey,
                TestTokens.claims(now, "eve", "acme", "operator").build())));
        assertEquals(401, tenantOperator.status(), "an operator belongs to the default tenant");
    }

    @Test
    void consumerLagIsReadUnderItsTenant() throws Exception {
        // Anonymous PLAINTEXT clients are principals of the default tenant.
        Map<String, Object> kafka = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
        try (Admin admin = Admin.create(kafka)) {
            admin.createTopics(List.of(new NewTopic("ledger", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafka, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>("ledger", "record-" + i)).get();
            }
        }
        Map<String, Object> consumerConfig = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "reconciliation");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.commitSync(Map.of(new TopicPartition("ledger", 0), new OffsetAndMetadata(1)));
        }

        Reply lag = get("/api/v1/tenants/default/groups/reconciliation/lag", ROOT);
        assertEquals(200, lag.status(), lag.toString());
        assertEquals(2, lag.json().get("totalLag").asLong(), lag.toString());
        assertEquals(403, get("/api/v1/tenants/default/groups/reconciliation/lag", ALICE).status());
        Reply otherTenant = get("/api/v1/tenants/acme/groups/reconciliation/lag", BOB);
        assertEquals(404, otherTenant.status(), "acme has no group of that name: " + otherTenant);
        assertEquals(404, get("/api/v1/tenants/acme/groups/reconciliation/lag", ALICE).status());
        assertEquals(404, get("/api/v1/groups/reconciliation/lag", ROOT).status(), "the old path is gone");
    }

    // ---------------------------------------------------------------- HTTP

    /** An answer, with how long it took. */
    private record Reply(HttpResponse<String> response, Duration elapsed) {
        int status() {
            return response.statusCode();
        }

        String body() {
            return response.body();
        }

        JsonNode json() throws Exception {
            return JSON.readTree(response.body());
        }

        @Override
        public String toString() {
            return response.request().method() + " " + response.request().uri() + " -> " + status() + " " + body();
        }
    }

    private static String basic(String username, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    private static String bearer(String token) {
        return "Bearer " + token;
    }

    private static JsonNode withoutCreatedAt(JsonNode user) {
        Instant.parse(user.get("createdAt").asText());
        ((ObjectNode) user).remove("createdAt");
        return user;
    }

    private static Reply get(String path, String authorization) throws Exception {
        return send(request(path, authorization).GET());
    }

    private static Reply delete(String path, String authorization) throws Exception {
        return send(request(path, authorization).DELETE());
    }

    private static Reply post(String path, String authorization, String json) throws Exception {
        return send(request(path, authorization).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static Reply put(String path, String authorization, String json) throws Exception {
        return send(request(path, authorization).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static HttpRequest.Builder request(String path, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http() + path))
                .timeout(Duration.ofSeconds(30));
        return authorization == null ? request : request.header("Authorization", authorization);
    }

    private static Reply send(HttpRequest.Builder request) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response, Duration.ofNanos(System.nanoTime() - start));
    }
}
