package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.EntryOpener;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit trail of a scripted session against the packaged server, read back from the journal files with the
 * broker's keys: exactly the expected events, in order; an administrative change acknowledged just before a kill -9
 * is in the journal after the restart; and the offline verifier of the packaged application proves the real journal
 * intact, then names the first bad entry once a byte is flipped.
 */
@Timeout(300)
class AuditTrailIT {

    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";

    @TempDir
    Path dir;

    /** What is checked of an event: everything but times, addresses and details. */
    private record Seen(String action, String resource, Outcome outcome, String principal) {
        static Seen of(AuditEvent e) {
            return new Seen(e.action(), e.resource(), e.outcome(), e.principal());
        }
    }

    @Test
    void aScriptedSessionLeavesExactlyItsEventsAndAKilledServerLosesNoAcknowledgedChange() throws Exception {
        Path data = dir.resolve("data");
        try (BulwarkProcess server = BulwarkProcess.startForTenants(data, OPERATOR, OPERATOR_PASSWORD)) {
            OperatorRest rest = new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD);
            rest.post("/api/v1/tenants/default/users", Map.of("name", "auditor", "password", "auditor-secret",
                    "role", "auditor"));
            String started = Instant.now().minusSeconds(1).toString();
            rest.post("/api/v1/tenants", Map.of("name", "acme"));
            rest.post("/api/v1/tenants/acme/users", Map.of("name", "app", "password", "app-secret", "role",
                    "member"));
            rest.post("/api/v1/tenants/acme/users", Map.of("name", "boss", "password", "boss-secret", "role",
                    "tenant-admin"));

            ExecutionException failed = assertThrows(ExecutionException.class, () -> {
                try (Admin admin = Admin.create(ScramClients.config(server, "app@acme", "wrong-secret"))) {
                    admin.listTopics().names().get();
                }
            });
            assertInstanceOf(SaslAuthenticationException.class, failed.getCause());

            try (Admin boss = Admin.create(ScramClients.config(server, "boss@acme", "boss-secret"))) {
                boss.createTopics(List.of(new NewTopic("payments", 1, (short) 1))).all().get();
                boss.createAcls(List.of(acl(ResourceType.TOPIC, "payments", AclOperation.DESCRIBE))).all().get();
                ExecutionException denied = assertThrows(ExecutionException.class, () -> produce(server));
                assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
                boss.createAcls(List.of(acl(ResourceType.TOPIC, "payments", AclOperation.WRITE))).all().get();
                boss.alterClientQuotas(List.of(new ClientQuotaAlteration(
                        new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "app")),
                        List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1048576.0))))).all().get();
            }
            rest.post("/api/v1/tenants/acme/keys/rotate", null);
            produce(server);
            assertEquals(1, consumeAsBoss(server));
            queryTheSession(server, started);
            assertEquals(0, server.stop());

            List<AuditEvent> events = read(data);
            List<Seen> admin = events.stream().filter(e -> !e.action().equals("authenticate")
                    && !e.action().startsWith("server.") && !e.action().startsWith("data.")).map(Seen::of).toList();
            assertEquals(List.of(
                    new Seen("user.create", "user:default/auditor", Outcome.SUCCESS, OPERATOR),
                    new Seen("tenant.create", "tenant:acme", Outcome.SUCCESS, OPERATOR),
                    new Seen("user.create", "user:acme/app", Outcome.SUCCESS, OPERATOR),
                    new Seen("user.create", "user:acme/boss", Outcome.SUCCESS, OPERATOR),
                    new Seen("create_topics", "topic:payments", Outcome.SUCCESS, "boss@acme"),
                    new Seen("create_acls", "topic:payments", Outcome.SUCCESS, "boss@acme"),
                    new Seen("produce", "topic:payments", Outcome.DENIED, "app@acme"),
                    new Seen("create_acls", "topic:payments", Outcome.SUCCESS, "boss@acme"),
                    new Seen("alter_client_quotas", "quota:user=app", Outcome.SUCCESS, "boss@acme"),
                    new Seen("key.rotate", "tenant:acme", Outcome.SUCCESS, OPERATOR),
                    new Seen("http.get", "path:/api/v1/audit/events", Outcome.DENIED, OPERATOR)), admin);
            List<Seen> authentications = events.stream().filter(e -> e.action().equals("authenticate"))
                    .map(Seen::of).distinct().toList();
            assertTrue(authentications.contains(new Seen("authenticate", "listener:SASL_PLAINTEXT",
                    Outcome.FAILURE, "app@acme")), authentications.toString());
            assertEquals(1, events.stream().filter(e -> e.action().equals("authenticate")
                    && e.outcome() == Outcome.FAILURE).count(), "one failed login");
            assertTrue(authentications.contains(new Seen("authenticate", "listener:SASL_PLAINTEXT",
                    Outcome.SUCCESS, "boss@acme")), authentications.toString());
            AuditEvent produced = events.stream().filter(e -> e.action().equals("data.produce")).findFirst()
                    .orElseThrow();
            assertEquals("app@acme", produced.principal());
            assertEquals("1", produced.details().get("records"));
            assertTrue(events.stream().anyMatch(e -> e.action().equals("data.fetch")
                    && e.principal().equals("boss@acme")), "the consumer's read is summarized");
            assertEquals("server.stop", events.get(events.size() - 1).action());

            server.restart();
            try (Admin operator = Admin.create(ScramClients.config(server, OPERATOR, OPERATOR_PASSWORD))) {
                operator.createTopics(List.of(new NewTopic("acknowledged-then-killed", 1, (short) 1))).all().get();
            }
            server.kill();
            server.restart();
            assertEquals(0, server.stop());
            assertTrue(read(data).stream().anyMatch(e -> e.action().equals("create_topics")
                    && e.resource().equals("topic:acknowledged-then-killed") && e.outcome() == Outcome.SUCCESS),
                    "the acknowledged change survived the kill");
        }

        Path keys = data.resolve("audit/signing-keys.jwks");
        Path output = dir.resolve("verify.out");
        assertEquals(0, verify(output, data.resolve("audit"), keys), Files.readString(output));
        assertTrue(Files.readString(output).startsWith("intact: "), Files.readString(output));

        Path first;
        try (Stream<Path> files = Files.list(data.resolve("audit"))) {
            first = files.filter(f -> f.toString().endsWith(".journal")).sorted().findFirst().orElseThrow();
        }
        first.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(first);
        bytes[bytes.length - 40] ^= 0x01; // inside the last entry's sealed event
        Files.write(first, bytes);
        assertEquals(1, verify(output, data.resolve("audit"), keys), Files.readString(output));
        assertTrue(Files.readString(output).startsWith("first bad entry "), Files.readString(output));
    }

    @Test
    void auditorsWithAnAclConsumeTheirTenantsTrailAsAReadOnlyTopic() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.startForTenants(dir.resolve("stream"), OPERATOR,
                OPERATOR_PASSWORD)) {
            OperatorRest rest = new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD);
            String acme = rest.post("/api/v1/tenants", Map.of("name", "acme")).get("id").asText();
            rest.post("/api/v1/tenants", Map.of("name", "globex"));
            for (String[] user : new String[][] {{"acme", "boss", "tenant-admin"}, {"acme", "inspector", "auditor"},
                {"globex", "boss", "tenant-admin"}, {"default", "watcher", "auditor"}}) {
                rest.post("/api/v1/tenants/" + user[0] + "/users", Map.of("name", user[1], "password",
                        user[1] + "-secret", "role", user[2]));
            }
            try (Admin boss = Admin.create(ScramClients.config(server, "boss@acme", "boss-secret"))) {
                boss.createTopics(List.of(new NewTopic("payments", 1, (short) 1))).all().get();
                boss.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "__audit",
                        PatternType.LITERAL), new AccessControlEntry("User:inspector", "*", AclOperation.READ,
                        AclPermissionType.ALLOW)))).all().get();
                assertTrue(boss.listTopics().names().get().equals(Set.of("payments")),
                        "the audit topic is no tenant admin's to see");
            }
            try (Admin globex = Admin.create(ScramClients.config(server, "boss@globex", "boss-secret"))) {
                globex.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get();
            }
            try (Admin operator = Admin.create(ScramClients.config(server, OPERATOR, OPERATOR_PASSWORD))) {
                operator.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "__audit",
                        PatternType.LITERAL), new AccessControlEntry("User:watcher", "*", AclOperation.READ,
                        AclPermissionType.ALLOW)))).all().get();
            }

            List<String> acmeTrail = readAudit(server, "inspector@acme", "inspector-secret",
                    v -> v.contains("\"resource\":\"topic:payments\""));
            assertTrue(acmeTrail.stream().anyMatch(v -> v.contains("\"action\":\"create_topics\"")),
                    acmeTrail.toString());
            assertTrue(acmeTrail.stream().allMatch(v -> v.contains("\"tenant\":\"" + acme + "\"")),
                    "an acme auditor sees acme's events only: " + acmeTrail);
            List<String> everything = readAudit(server, "watcher", "watcher-secret",
                    v -> v.contains("\"resource\":\"topic:orders\""));
            assertTrue(everything.stream().anyMatch(v -> v.contains("\"resource\":\"topic:payments\"")),
                    "the platform's auditors see every tenant's events");

            Map<String, Object> config = ScramClients.config(server, "inspector@acme", "inspector-secret");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                    new StringSerializer())) {
                ExecutionException refused = assertThrows(ExecutionException.class, () -> producer.send(
                        new ProducerRecord<>("__audit", "forged", "{}")).get(30, TimeUnit.SECONDS));
                assertInstanceOf(TopicAuthorizationException.class, refused.getCause());
            }
            Map<String, Object> admin = ScramClients.config(server, "boss@acme", "boss-secret");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(admin, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.assign(List.of(new TopicPartition("__audit", 0)));
                assertThrows(TopicAuthorizationException.class, () -> consumer.poll(Duration.ofSeconds(10)),
                        "a tenant admin is no auditor");
            }
        }
    }

    /** The audit topic's values as {@code user} reads them, from the start until one matches {@code until}. */
    private static List<String> readAudit(BulwarkProcess server, String user, String password,
                                          Predicate<String> until) {
        Map<String, Object> config = ScramClients.config(server, user, password);
        TopicPartition partition = new TopicPartition("__audit", 0);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.stream().noneMatch(until) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
            }
        }
        assertTrue(values.stream().anyMatch(until), user + " never saw the event it waited for: " + values);
        return values;
    }

    /** The session's events through the auditors' query API: each filter, and both exports. */
    private static void queryTheSession(BulwarkProcess server, String started) throws Exception {
        OperatorRest auditor = new OperatorRest(server, "auditor", "auditor-secret");
        JsonNode byPrincipal = auditor.call("GET", "/api/v1/audit/events?principal=boss@acme", null).get("events");
        assertTrue(byPrincipal.size() > 0 && stream(byPrincipal).allMatch(e -> e.get("principal").asText()
                .equals("boss@acme")), byPrincipal.toString());
        assertTrue(stream(byPrincipal).anyMatch(e -> e.get("action").asText().equals("create_topics")));
        JsonNode acls = auditor.call("GET", "/api/v1/audit/events?action=create_acls", null).get("events");
        assertEquals(2, acls.size(), acls.toString());
        JsonNode denied = auditor.call("GET", "/api/v1/audit/events?outcome=DENIED", null).get("events");
        assertEquals(1, denied.size(), denied.toString());
        assertEquals("produce", denied.get(0).get("action").asText());
        JsonNode onPayments = auditor.call("GET", "/api/v1/audit/events?resource=topic:payments", null)
                .get("events");
        assertTrue(stream(onPayments).anyMatch(e -> e.get("action").asText().equals("data.produce")),
                onPayments.toString());
        JsonNode ofAcme = auditor.call("GET", "/api/v1/audit/events?tenant=acme", null).get("events");
        assertTrue(ofAcme.size() >= 9 && stream(ofAcme).allMatch(e -> e.get("tenant").asText().equals("acme")),
                ofAcme.toString());
        assertTrue(auditor.call("GET", "/api/v1/audit/events?from=" + started, null).get("events").size() > 0);
        assertEquals(0, auditor.call("GET", "/api/v1/audit/events?from=" + Instant.now().plusSeconds(3600), null)
                .get("events").size());
        HttpResponse<String> ndjson = auditor.send("GET", "/api/v1/audit/events?action=create_acls&format=ndjson",
                null);
        assertEquals(200, ndjson.statusCode(), ndjson.body());
        assertEquals(2, ndjson.body().lines().count(), ndjson.body());
        HttpResponse<String> csv = auditor.send("GET", "/api/v1/audit/events?action=create_acls&format=csv", null);
        assertEquals(200, csv.statusCode(), csv.body());
        assertEquals(3, csv.body().lines().count(), "a header and two rows: " + csv.body());
        assertEquals(403, new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD)
                .send("GET", "/api/v1/audit/events", null).statusCode(), "operators are no auditors");
        JsonNode verified = auditor.call("GET", "/api/v1/audit/verify", null);
        assertTrue(verified.get("intact").asBoolean(), "the live journal verifies intact online: " + verified);
    }

    private static Stream<JsonNode> stream(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false);
    }

    private static AclBinding acl(ResourceType type, String name, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:app", "*", operation, AclPermissionType.ALLOW));
    }

    private static void produce(BulwarkProcess server) throws Exception {
        Map<String, Object> config = ScramClients.config(server, "app@acme", "app-secret");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        // Not idempotent: app has no WRITE yet at the denied send, so InitProducerId would be refused before it.
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("payments", "card-1", "charge 12.50")).get(30, TimeUnit.SECONDS);
        }
    }

    private static int consumeAsBoss(BulwarkProcess server) {
        Map<String, Object> config = ScramClients.config(server, "boss@acme", "boss-secret");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        TopicPartition partition = new TopicPartition("payments", 0);
        int read = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (read == 0 && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(500)).count();
            }
        }
        return read;
    }

    /** Every event of the journal, read with the broker's keys (the server is stopped). */
    private static List<AuditEvent> read(Path data) throws Exception {
        AesGcm gcm = new AesGcm();
        Keyring keyring = Keyring.open(data, MasterKeySource.devKey(data, gcm).kms(), gcm);
        List<AuditEvent> events = new ArrayList<>();
        new JournalReader(data.resolve("audit"), new EntryOpener(keyring, gcm))
                .scan(1, Long.MAX_VALUE, stored -> events.add(stored.event()));
        return events;
    }

    /** The offline verifier from the packaged application's jars, as an auditor runs it; its exit status. */
    private static int verify(Path output, Path journal, Path keys) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", System.getProperty("bulwark.jar"), "audit", "verify", "--journal", journal.toString(),
                "--public-keys", keys.toString()).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the verifier did not end within 120 s");
        }
        return process.exitValue();
    }
}
