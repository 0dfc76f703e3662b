package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ACLs with Kafka's own tools and clients against the packaged server: {@code kafka-acls} (AclCommand) adds, lists
 * and removes literal and prefixed, allow and deny ACLs as a tenant admin; the Java client of a member is held to
 * them (no ACL means deny in a new tenant); another tenant's admin can neither see, create nor delete them; and they
 * survive a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AclIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.startForTenants(dir.resolve("data"), OPERATOR, OPERATOR_PASSWORD);
        rest("POST", "/api/v1/tenants", Map.of("name", "bank"));
        rest("POST", "/api/v1/tenants", Map.of("name", "globex"));
        rest("POST", "/api/v1/tenants/bank/users", Map.of("name", "badmin", "password", "badmin-secret",
                "role", "tenant-admin"));
        rest("POST", "/api/v1/tenants/bank/users", Map.of("name", "payments-api", "password", "payments-secret",
                "role", "member"));
        rest("POST", "/api/v1/tenants/globex/users", Map.of("name", "gadmin", "password", "gadmin-secret",
                "role", "tenant-admin"));
        try (Admin admin = Admin.create(client("badmin@bank", "badmin-secret"))) {
            admin.createTopics(List.of(new NewTopic("payments", 2, (short) 1), new NewTopic("ledger", 1, (short) 1),
                    new NewTopic("audit-log", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    @Order(1)
    void aclCommandAddsListsAndRemovesLiteralAndPrefixedAllowAndDeny() throws Exception {
        acls("badmin@bank", "badmin-secret", "--add", "--allow-principal", "User:payments-api",
                "--operation", "Write", "--operation", "Describe", "--topic", "payments").requireSuccess();
        acls("badmin@bank", "badmin-secret", "--add", "--allow-principal", "User:payments-api",
                "--operation", "Read", "--topic", "audit-", "--resource-pattern-type", "prefixed").requireSuccess();
        acls("badmin@bank", "badmin-secret", "--add", "--deny-principal", "User:payments-api",
                "--operation", "Read", "--topic", "audit-secrets").requireSuccess();
        acls("badmin@bank", "badmin-secret", "--add", "--allow-principal", "User:payments-api",
                "--operation", "Read", "--topic", "payments", "--group", "settlement").requireSuccess();

        String all = acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout();
        assertTrue(all.contains("name=payments, patternType=LITERAL"), all);
        assertTrue(all.contains("name=audit-, patternType=PREFIXED"), all);
        assertTrue(all.contains("principal=User:payments-api, host=*, operation=WRITE, permissionType=ALLOW"), all);
        assertTrue(all.contains("principal=User:payments-api, host=*, operation=READ, permissionType=DENY"), all);
        assertTrue(all.contains("resourceType=GROUP, name=settlement"), all);

        String one = acls("badmin@bank", "badmin-secret", "--list", "--topic", "audit-secrets").requireSuccess()
                .stdout();
        assertTrue(one.contains("permissionType=DENY"), one);
        assertFalse(one.contains("name=payments"), one);

        acls("badmin@bank", "badmin-secret", "--remove", "--force", "--deny-principal", "User:payments-api",
                "--operation", "Read", "--topic", "audit-secrets").requireSuccess();
        String after = acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout();
        assertFalse(after.contains("permissionType=DENY"), after);
        assertTrue(after.contains("name=audit-, patternType=PREFIXED"), after);
    }

    @Test
    @Order(2)
    void theJavaClientOfAMemberIsHeldToItsAcls() throws Exception {
        Map<String, Object> member = client("payments-api@bank", "payments-secret");
        try (KafkaProducer<String, String> producer = producer(member)) {
            producer.send(new ProducerRecord<>("payments", "k", "paid")).get(30, TimeUnit.SECONDS);
            ExecutionException denied = assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>("ledger", "k", "forged")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }

        Map<String, Object> consumerConfig = new HashMap<>(member);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "fraud-scoring");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("payments"));
            assertThrows(GroupAuthorizationException.class, () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200));
                }
            });
        }
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "settlement");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("payments"));
            int read = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read < 1 && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(200)).count();
            }
            assertEquals(1, read, "READ on the topic and the group lets the member consume");
            consumer.commitSync();
        }

        Map<String, Object> transactional = new HashMap<>(member);
        transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "payments-tx");
        try (KafkaProducer<String, String> producer = producer(transactional)) {
            assertThrows(TransactionalIdAuthorizationException.class, producer::initTransactions);
        }

        try (Admin admin = Admin.create(member)) {
            assertEquals(Set.of("payments", "audit-log"), admin.listTopics().names().get(30, TimeUnit.SECONDS),
                    "Metadata hides the topic the member may not describe");
        }
    }

    @Test
    @Order(3)
    void denyWinsOverAllow() throws Exception {
        acls("badmin@bank", "badmin-secret", "--add", "--deny-principal", "User:payments-api",
                "--operation", "Write", "--topic", "pay", "--resource-pattern-type", "prefixed").requireSuccess();
        Map<String, Object> plain = new HashMap<>(client("payments-api@bank", "payments-secret"));
        // An idempotent producer would be refused earlier: with WRITE denied on every topic it may write, it has no
        // right to a producer id (CLUSTER_AUTHORIZATION_FAILED from InitProducerId, as in Kafka).
        plain.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        try (KafkaProducer<String, String> producer = producer(plain)) {
            ExecutionException denied = assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>("payments", "k", "after-deny")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }
        acls("badmin@bank", "badmin-secret", "--remove", "--force", "--deny-principal", "User:payments-api",
                "--operation", "Write", "--topic", "pay", "--resource-pattern-type", "prefixed").requireSuccess();
    }

    @Test
    @Order(4)
    void anotherTenantsAdminCannotSeeCreateOrDeleteTheAcls() throws Exception {
        String before = acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout();

        String seen = acls("gadmin@globex", "gadmin-secret", "--list").requireSuccess().stdout();
        assertFalse(seen.contains("payments"), seen);
        assertFalse(seen.contains("bank"), seen);

        ExternalCommand.Result create = acls("gadmin@globex", "gadmin-secret", "--add", "--allow-principal",
                "User:intruder@bank", "--operation", "All", "--topic", "payments");
        assertTrue(create.stdout().contains("CLUSTER_AUTHORIZATION_FAILED")
                || create.stderr().contains("ClusterAuthorizationException")
                || create.stdout().contains("ClusterAuthorizationException"), create.stdout() + create.stderr());

        acls("gadmin@globex", "gadmin-secret", "--remove", "--force", "--topic", "payments");
        acls("gadmin@globex", "gadmin-secret", "--remove", "--force", "--allow-principal", "User:payments-api@bank",
                "--operation", "Write", "--topic", "payments");
        assertEquals(blocks(before), blocks(acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout()),
                "bank's ACLs are exactly as they were");

        String operatorView = acls(OPERATOR, OPERATOR_PASSWORD, "--list").requireSuccess().stdout();
        assertTrue(operatorView.contains("principal=User:payments-api@bank"), operatorView);
    }

    @Test
    @Order(5)
    void aclsSurviveARestart() throws Exception {
        String before = acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout();
        assertEquals(0, server.stop());
        server.restart();
        assertEquals(blocks(before), blocks(acls("badmin@bank", "badmin-secret", "--list").requireSuccess().stdout()));
        try (KafkaProducer<String, String> producer = producer(client("payments-api@bank", "payments-secret"))) {
            producer.send(new ProducerRecord<>("payments", "k", "after-restart")).get(30, TimeUnit.SECONDS);
        }
        assertNotEquals("", before);
    }

    // ---------------------------------------------------------------- tools, clients and REST

    /**
     * AclCommand's listing as a set of per-resource blocks, each with its lines sorted: it prints resources, and the
     * ACLs of each, in no particular order.
     */
    private static Set<String> blocks(String listing) {
        Set<String> blocks = new java.util.TreeSet<>();
        for (String block : listing.split("\\R\\s*\\R")) {
            if (!block.isBlank()) {
                blocks.add(String.join("\n", block.strip().lines().map(String::strip).sorted().toList()));
            }
        }
        return blocks;
    }

    private static ExternalCommand.Result acls(String user, String password, String... args) throws Exception {
        Path properties = Files.createTempFile(dir, "client", ".properties");
        Files.writeString(properties, ScramClients.properties(user, password));
        String[] command = new String[args.length + 4];
        command[0] = "--bootstrap-server";
        command[1] = server.bootstrap("SASL_PLAINTEXT");
        command[2] = "--command-config";
        command[3] = properties.toString();
        System.arraycopy(args, 0, command, 4, args.length);
        return ExternalCommand.kafkaTool(TIMEOUT, null, "org.apache.kafka.tools.AclCommand", command);
    }

    private static KafkaProducer<String, String> producer(Map<String, Object> config) {
        Map<String, Object> producerConfig = new HashMap<>(config);
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        producerConfig.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        return new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer());
    }

    private static Map<String, Object> client(String user, String password) {
        return ScramClients.config(server, user, password);
    }

    private static JsonNode rest(String method, String path, Map<String, ?> body) throws Exception {
        return new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD).call(method, path, body);
    }
}
