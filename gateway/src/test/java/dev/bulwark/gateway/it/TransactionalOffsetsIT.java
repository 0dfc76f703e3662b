package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Exactly-once consume-transform-produce offsets with Kafka's Java clients against a running Bulwark: a transactional
 * producer's sendOffsetsToTransaction commits a consumer group's offsets with its transaction, a read_committed
 * consumer of that group resumes from them, an aborted transaction's offsets are never seen, and while a transaction
 * holds offsets of the group a read_committed consumer's committed offsets are unstable (KIP-447).
 */
@Timeout(300)
class TransactionalOffsetsIT {

    private static final int RECORDS = 10;

    @TempDir
    static Path dir;
    private static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("input", 1, (short) 1), new NewTopic("output", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>("input", 0, "k", "input-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aReadCommittedConsumerResumesFromTheCommittedTransactionsOffsetsAndNeverFromAnAbortedOnes() {
        TopicPartition input = new TopicPartition("input", 0);
        ConsumerGroupMetadata group = new ConsumerGroupMetadata("resumers");
        try (KafkaProducer<String, String> producer = producer("resumers-app")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("output", 0, "k", "transformed-0-3"));
            producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(4, "done up to 3")), group);
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("output", 0, "k", "transformed-4-8"));
            producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(9)), group);
            producer.abortTransaction();
        }

        try (KafkaConsumer<String, String> consumer = consumer("resumers")) {
            OffsetAndMetadata committed = consumer.committed(Set.of(input), Duration.ofSeconds(30)).get(input);
            assertEquals(4, committed.offset(), "the committed transaction's offset, not the aborted one's");
            assertEquals("done up to 3", committed.metadata());
            consumer.subscribe(List.of("input"));
            List<String> read = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read.size() < RECORDS - 4 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    read.add(record.value());
                }
            }
            assertEquals(List.of("input-4", "input-5", "input-6", "input-7", "input-8", "input-9"), read,
                    "the group resumes where the committed transaction left it");
        }
    }

    @Test
    void offsetsOfAnOpenTransactionAreUnstableForReadCommittedConsumersUntilItCommits() {
        TopicPartition input = new TopicPartition("input", 0);
        try (KafkaProducer<String, String> producer = producer("pending-app");
             KafkaConsumer<String, String> consumer = consumer("pending")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("output", 0, "k", "transformed"));
            producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(7)),
                    new ConsumerGroupMetadata("pending"));
            producer.flush();

            assertThrows(TimeoutException.class, () -> consumer.committed(Set.of(input), Duration.ofSeconds(2)),
                    "UNSTABLE_OFFSET_COMMIT: the consumer keeps asking while the transaction is open");

            producer.commitTransaction();

            assertEquals(7, consumer.committed(Set.of(input), Duration.ofSeconds(30)).get(input).offset());
        }
    }

    private static KafkaProducer<String, String> producer(String transactionalId) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000), new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(String groupId) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, groupId,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new StringDeserializer());
    }
}
