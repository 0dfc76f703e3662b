package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import dev.bulwark.storage.crypto.WrappedDataKey;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crypto-shredding against the packaged server: a tenant's topic directory is copied aside, the tenant is deleted
 * over the REST API, and the copy is put back. Its data stays unreadable (the keyring holds no key of the tenant, and
 * the restored files name only destroyed keys), the restarted server removes the copy instead of serving it, and
 * another tenant's data is untouched throughout.
 */
@Timeout(300)
class CryptoShredIT {

    private static final String OPERATOR = "ops";
    private static final String OPERATOR_PASSWORD = "ops-secret";
    /** topic.meta's magic ("BWTP"): the file names its data key in the clear, which is what is checked here. */
    private static final int TOPIC_META_MAGIC = 0x42575450;

    private final String marker = "shred-" + UUID.randomUUID();

    @TempDir
    Path dir;

    @Test
    void aDeletedTenantStaysUnreadableWhenItsFilesAreRestoredAndOtherTenantsAreUntouched() throws Exception {
        Path data = dir.resolve("data");
        try (BulwarkProcess server = BulwarkProcess.startForTenants(data, OPERATOR, OPERATOR_PASSWORD)) {
            OperatorRest rest = new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD);
            String acmeId = rest.post("/api/v1/tenants", Map.of("name", "acme", "allowEveryoneIfNoAcl", true))
                    .get("id").asText();
            rest.post("/api/v1/tenants", Map.of("name", "globex", "allowEveryoneIfNoAcl", true));
            for (String tenant : List.of("acme", "globex")) {
                rest.post("/api/v1/tenants/" + tenant + "/users",
                        Map.of("name", "app", "password", "app-secret", "role", "member"));
            }
            Uuid acmeTopic = produce(server, "acme", 200);
            produce(server, "globex", 50);
            assertEquals(expected("acme", 200), consume(server, "acme", "readers-" + marker));
            commitTransaction(server, "acme");
            Path acmeDir = data.resolve("log/topics").resolve(acmeTopic.toString());
            Path aside = dir.resolve("aside");
            copyTree(acmeDir, aside);

            JsonNode erasure = rest.call("DELETE", "/api/v1/tenants/acme", null);
            assertEquals(acmeId, erasure.get("tenantId").asText());
            assertEquals(acmeId + "/v1", erasure.get("destroyedKeys").get(0).asText(), erasure.toString());
            JsonNode removed = erasure.get("removed");
            assertEquals(2, removed.get("topics").asInt(), "payments and the copy of its audit trail, "
                    + erasure);
            assertEquals(1, removed.get("groups").asInt(), erasure.toString());
            assertEquals(1, removed.get("transactionalIds").asInt(), erasure.toString());
            assertEquals(1, removed.get("users").asInt(), erasure.toString());
            assertFalse(Files.exists(acmeDir));
            assertEquals(404, rest.send("GET", "/api/v1/tenants/acme", null).statusCode());
            assertEquals(404, rest.send("DELETE", "/api/v1/tenants/acme", null).statusCode());
            assertEquals(409, rest.send("DELETE", "/api/v1/tenants/default", null).statusCode());
            ExecutionException refused = assertThrows(ExecutionException.class, () -> {
                try (Admin admin = Admin.create(ScramClients.config(server, "app@acme", "app-secret"))) {
                    admin.listTopics().names().get();
                }
            });
            assertInstanceOf(SaslAuthenticationException.class, refused.getCause());

            List<String> records = Files.readAllLines(data.resolve("erasures"));
            assertEquals(2, records.size(), records.toString());
            assertTrue(records.get(0).contains("\"event\":\"tenant-keys-destroyed\"") && records.get(0)
                    .contains(acmeId + "/v1"), records.get(0));
            assertTrue(records.get(1).contains("\"event\":\"tenant-deleted\""), records.get(1));
            assertFalse(String.join("\n", records).contains("acme"), "the record names the tenant by id only");

            assertEquals(expected("globex", 50), consume(server, "globex", "readers"));
            assertEquals(0, server.stop());

            copyTree(aside, acmeDir);
            AesGcm gcm = new AesGcm();
            Keyring keyring = Keyring.open(data, MasterKeySource.devKey(data, gcm).kms(), gcm);
            assertTrue(keyring.versions(KeyOwner.tenant(acmeId)).orElseThrow().shredded());
            WrappedDataKey topicKey = WrappedDataKey.readFrom(MetadataFile.read(acmeDir.resolve("topic.meta"),
                    TOPIC_META_MAGIC).orElseThrow().payload());
            assertEquals(KeyOwner.tenant(acmeId), topicKey.owner());
            assertThrows(KeyDestroyedException.class, () -> keyring.open(topicKey.owner(), topicKey));
            assertMarkerNowhere(acmeDir);

            server.restart();
            assertFalse(Files.exists(acmeDir), "the restored copy of a shredded tenant is removed, not served");
            assertTrue(server.log().contains("was crypto-shredded"), "the log says why it was removed");
            assertEquals(expected("globex", 50), consume(server, "globex", "after-restart"));

            String newAcme = rest.post("/api/v1/tenants", Map.of("name", "acme", "allowEveryoneIfNoAcl", true))
                    .get("id").asText();
            assertNotEquals(acmeId, newAcme);
            rest.post("/api/v1/tenants/acme/users", Map.of("name", "app", "password", "app-secret", "role", "member"));
            try (Admin admin = Admin.create(ScramClients.config(server, "app@acme", "app-secret"))) {
                assertTrue(admin.listTopics().names().get().isEmpty(), "a new tenant of the same name inherits nothing");
            }
        }
    }

    private List<String> expected(String tenant, int count) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(tenant + "-" + marker + "-" + i + "-" + "x".repeat(100));
        }
        return values;
    }

    /** Creates the tenant's topic (small segments, so there are several) and produces to it; its id. */
    private Uuid produce(BulwarkProcess server, String tenant, int count) throws Exception {
        Map<String, Object> config = ScramClients.config(server, "app@" + tenant, "app-secret");
        String topic = "payments-" + marker;
        Uuid id;
        try (Admin admin = Admin.create(config)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("segment.bytes", "4096"))))
                    .all().get();
            id = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
        }
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            for (String value : expected(tenant, count)) {
                producer.send(new ProducerRecord<>(topic, marker, value)).get();
            }
        }
        return id;
    }

    private void commitTransaction(BulwarkProcess server, String tenant) throws Exception {
        Map<String, Object> config = ScramClients.config(server, "app@" + tenant, "app-secret");
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + marker);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("payments-" + marker, marker, "in a transaction"));
            producer.commitTransaction();
        }
    }

    /** The tenant's topic from the start, read by a consumer that commits in {@code group}. */
    private List<String> consume(BulwarkProcess server, String tenant, String group) {
        Map<String, Object> config = ScramClients.config(server, "app@" + tenant, "app-secret");
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        TopicPartition partition = new TopicPartition("payments-" + marker, 0);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofSeconds(1))) {
                    values.add(record.value());
                }
            }
            consumer.commitSync();
        }
        return values;
    }

    private void assertMarkerNowhere(Path tree) throws IOException {
        byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(tree)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)
                        .contains(new String(needle, StandardCharsets.ISO_8859_1)), file + " holds the marker");
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            paths.forEach(source -> {
                try {
                    Files.copy(source, to.resolve(from.relativize(source).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
