package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bit flipped in a stored batch, seen by a stock consumer: the batches before it are delivered, the damaged one
 * never is (the fetch is answered KAFKA_STORAGE_ERROR, which the client retries), and the server's log names the
 * segment, the position and the offsets.
 */
@Timeout(180)
class TamperIT {

    private static final int BATCHES = 10;

    @TempDir
    Path dir;

    @Test
    void aBatchWithAFlippedBitIsNeverDeliveredAndTheOnesBeforeItAre() throws Exception {
        Path data = dir.resolve("data");
        try (BulwarkProcess server = BulwarkProcess.start(data)) {
            Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap());
            Uuid vitals;
            try (Admin admin = Admin.create(config)) {
                admin.createTopics(List.of(new NewTopic("vitals", 1, (short) 1))).all().get();
                vitals = admin.describeTopics(List.of("vitals")).allTopicNames().get().get("vitals").topicId();
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(), ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.LINGER_MS_CONFIG, 0), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < BATCHES; i++) {
                    producer.send(new ProducerRecord<>("vitals", "patient-" + i, "pulse-" + i)).get();
                }
            }
            assertEquals(0, server.stop());

            // The segment ends with the last batch's authentication tag: flip one bit of it.
            Path segment = onlySegment(data.resolve("log/topics").resolve(vitals.toString()));
            try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long last = channel.size() - 1;
                ByteBuffer one = ByteBuffer.allocate(1);
                channel.read(one, last);
                channel.write(ByteBuffer.wrap(new byte[] {(byte) (one.get(0) ^ 0x01)}), last);
            }
            server.restart();

            List<String> delivered = consumeFor(server, Duration.ofSeconds(8));

            List<String> expected = new ArrayList<>();
            for (int i = 0; i < BATCHES - 1; i++) {
                expected.add("pulse-" + i);
            }
            assertEquals(expected, delivered, "every batch before the damaged one, and never the damaged one");
            assertTrue(server.log().contains("offsets [" + (BATCHES - 1) + ", " + BATCHES + ")")
                    && server.log().contains("it is not served"), "the log says where: " + server.log());
        }
    }

    /** Everything a consumer from the start gets within {@code time}. */
    private static List<String> consumeFor(BulwarkProcess server, Duration time) {
        List<String> values = new ArrayList<>();
        TopicPartition partition = new TopicPartition("vitals", 0);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()), new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + time.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }

    private static Path onlySegment(Path topics) throws IOException {
        try (Stream<Path> files = Files.walk(topics)) {
            List<Path> segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).toList();
            assertEquals(1, segments.size(), segments.toString());
            return segments.get(0);
        }
    }
}
