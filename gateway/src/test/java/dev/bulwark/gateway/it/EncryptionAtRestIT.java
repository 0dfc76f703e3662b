package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Encryption at rest, end to end through the packaged server and the Java clients: a marker in record keys, values
 * and header values, a topic name, a tenant, users, an ACL, a consumer group and a transactional id is in no byte of
 * any file of the data directory, while the server runs and after it stopped, and everything reads back after a
 * restart; started with another master key, the server refuses to start and changes nothing.
 */
@Timeout(300)
class EncryptionAtRestIT {

    private static final String OPERATOR = "root";
    private static final String OPERATOR_PASSWORD = "root-secret";
    private static final int RECORDS = 20;

    @TempDir
    Path dir;

    /** Lower-case letters, digits and hyphens: valid in every name it goes into. */
    private final String marker = "bwmarker-" + HexFormat.of().formatHex(randomBytes(6));
    private final String tenant = marker + "-tenant";
    private final String admin = marker + "-admin";
    private final String member = marker + "-member";
    private final String topic = marker + "-topic";
    private final String group = marker + "-group";
    private final String transactionalId = marker + "-txn";

    private Map<String, String> env(String masterKeyVariable, String masterKey) {
        return Map.of("BULWARK_LISTENERS", "SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", OPERATOR + ":" + OPERATOR_PASSWORD,
                "BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0",
                masterKeyVariable, masterKey);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** A master key file as the README says to make one ({@code head -c 32 /dev/urandom}), outside the data dir. */
    private Path masterKeyFile(String name) throws Exception {
        return Files.write(dir.resolve(name), randomBytes(32));
    }

    private Map<String, Object> client(BulwarkProcess server) {
        return ScramClients.config(server, admin + "@" + tenant, "admin-secret");
    }

    @Test
    void noMarkerIsInAnyFileAndEverythingReadsBackAfterARestart() throws Exception {
        Path dataDir = dir.resolve("data");
        String keyFile = masterKeyFile("master.key").toString();
        try (BulwarkProcess server = BulwarkProcess.start(dataDir, env("BULWARK_MASTER_KEY_FILE", keyFile))) {
            assertFalse(server.log().contains("DEV MASTER KEY"), "the configured key is used, not a dev key");
            writeEverything(server);

            assertMarkerNowhere(dataDir);
            assertEquals(0, server.stop(), "SIGTERM exits cleanly");
            assertMarkerNowhere(dataDir);
            assertFalse(Files.exists(dataDir.resolve("keys").resolve("dev-master.key")));

            server.restart();
            readEverythingBack(server);
        }
    }

    @Test
    void anotherMasterKeyIsRefusedAtStartAndChangesNoFile() throws Exception {
        Path dataDir = dir.resolve("data");
        String keyFile = masterKeyFile("master.key").toString();
        try (BulwarkProcess server = BulwarkProcess.start(dataDir, env("BULWARK_MASTER_KEY_FILE", keyFile))) {
            writeEverything(server);
            assertEquals(0, server.stop());
        }
        Map<String, String> before = contents(dataDir);

        String otherKey = Base64.getEncoder().encodeToString(randomBytes(32));
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> BulwarkProcess.start(dataDir, env("BULWARK_MASTER_KEY", otherKey)));

        assertTrue(refused.getMessage().contains("Bulwark exited with 1 during start"), refused.getMessage());
        assertTrue(refused.getMessage().contains("was written under master key")
                && refused.getMessage().contains("but the configured master key is"), refused.getMessage());
        assertEquals(before, contents(dataDir), "not a byte of the data directory changed, no file came or went");

        try (BulwarkProcess server = BulwarkProcess.start(dataDir, env("BULWARK_MASTER_KEY_FILE", keyFile))) {
            readEverythingBack(server);
        }
    }

    private void writeEverything(BulwarkProcess server) throws Exception {
        OperatorRest rest = new OperatorRest(server, OPERATOR, OPERATOR_PASSWORD);
        rest.post("/api/v1/tenants", Map.of("name", tenant));
        rest.post("/api/v1/tenants/" + tenant + "/users", Map.of("name", admin, "password", "admin-secret",
                "role", "tenant-admin"));
        try (Admin client = Admin.create(client(server))) {
            client.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            client.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(member,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "member-secret")))
                    .all().get(30, TimeUnit.SECONDS);
            client.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic,
                    PatternType.LITERAL), new AccessControlEntry("User:" + member, "*", AclOperation.READ,
                    AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> producerConfig = client(server);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(marked(i)).get(30, TimeUnit.SECONDS);
            }
        }
        Map<String, Object> transactional = client(server);
        transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(transactional, new StringSerializer(),
                new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = RECORDS; i < 2 * RECORDS; i++) {
                producer.send(marked(i));
            }
            producer.commitTransaction();
        }
        Map<String, Object> consumerConfig = client(server);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            assertEquals(2 * RECORDS, pollAll(consumer).size());
            consumer.commitSync(Duration.ofSeconds(30));
        }
    }

    private ProducerRecord<String, String> marked(int i) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, marker + "-key-" + i,
                marker + "-value-" + i);
        record.headers().add(new RecordHeader("h", (marker + "-header-" + i).getBytes(StandardCharsets.UTF_8)));
        return record;
    }

    private void readEverythingBack(BulwarkProcess server) throws Exception {
        Map<String, Object> config = client(server);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
        Set<String> keys = new TreeSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            for (ConsumerRecord<String, String> record : pollAll(consumer)) {
                assertEquals(record.key().replace("-key-", "-value-"), record.value());
                assertEquals(record.key().replace("-key-", "-header-"),
                        new String(record.headers().lastHeader("h").value(), StandardCharsets.UTF_8));
                keys.add(record.key());
            }
        }
        assertEquals(2 * RECORDS, keys.size(), "every record, the transactional ones too, reads back once");

        try (Admin client = Admin.create(client(server))) {
            Map<TopicPartition, OffsetAndMetadata> committed = client.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            client.listOffsets(Map.of(partitions.get(0), OffsetSpec.latest(), partitions.get(1), OffsetSpec.latest()))
                    .all().get(30, TimeUnit.SECONDS).forEach((tp, end) ->
                            assertEquals(end.offset(), committed.get(tp).offset(), "the group's offset of " + tp));
            assertTrue(client.describeUserScramCredentials(List.of(member)).all().get(30, TimeUnit.SECONDS)
                    .containsKey(member));
            assertEquals(1, client.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS).size());
            assertTrue(client.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                    .anyMatch(t -> t.transactionalId().equals(transactionalId)));
        }
    }

    private static List<ConsumerRecord<String, String>> pollAll(KafkaConsumer<String, String> consumer) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        int emptyPolls = 0;
        while (records.size() < 2 * RECORDS && emptyPolls < 60) {
            int before = records.size();
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            emptyPolls = records.size() == before ? emptyPolls + 1 : 0;
        }
        return records;
    }

    /** Every byte of every file under the data directory, searched for the marker as UTF-8. */
    private void assertMarkerNowhere(Path dataDir) throws Exception {
        byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dataDir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.size() > 10, "the data directory holds the log, keys and security files: " + files);
        for (Path file : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                continue; // a temporary file renamed over its target since the walk: the target is in the walk
            }
            assertEquals(-1, indexOf(bytes, needle), "the marker is in " + dataDir.relativize(file));
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Every file under {@code dir} by its relative path, with its bytes in hex. */
    private static Map<String, String> contents(Path dir) throws Exception {
        Map<String, String> contents = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                contents.put(dir.relativize(file).toString(), HexFormat.of().formatHex(Files.readAllBytes(file)));
            }
        }
        return contents;
    }
}
