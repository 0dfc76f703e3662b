package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retention by size and by time drops old segments and moves the log start offset. */
@Timeout(300)
class RetentionIT {

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"),
                Map.of("BULWARK_KAFKA_LOG_RETENTION_CHECK_INTERVAL_MS", "300"));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        server.close();
    }

    @Test
    void retentionBytesDropsTheOldestSegments() throws Exception {
        admin.createTopics(List.of(new NewTopic("by-size", 1, (short) 1).configs(Map.of(
                "segment.bytes", "2048", "retention.bytes", "8192")))).all().get();
        produce("by-size", 200, System.currentTimeMillis());
        TopicPartition tp = new TopicPartition("by-size", 0);
        long start = waitForLogStart(tp, s -> s > 0);
        assertEquals(200, offset(tp, OffsetSpec.latest()));
        // Retention runs every 300 ms here: once the log start stays put for a second, it is done.
        long settled;
        do {
            settled = start;
            Thread.sleep(1000);
            start = offset(tp, OffsetSpec.earliest());
        } while (start != settled);
        List<Long> offsets = readFrom(tp, -1);
        assertTrue(offsets.get(0) >= start, "reading starts at the (possibly moved on) log start offset");
        assertEquals(200 - offsets.get(0), offsets.size(), "everything from the log start on is readable");
        assertTrue(offsets.size() < 100, "most of the 200 records were deleted, " + offsets.size() + " remain");
        assertTrue(server.log().contains("retention deleted"));
    }

    @Test
    void retentionMsDropsSegmentsWhoseRecordsAreOld() throws Exception {
        admin.createTopics(List.of(new NewTopic("by-time", 1, (short) 1).configs(Map.of(
                "segment.bytes", "2048", "retention.ms", "60000")))).all().get();
        produce("by-time", 50, System.currentTimeMillis() - Duration.ofHours(1).toMillis());
        TopicPartition tp = new TopicPartition("by-time", 0);
        assertEquals(50, waitForLogStart(tp, s -> s == 50), "every segment was old, so the log is empty");
        produce("by-time", 5, System.currentTimeMillis());
        assertEquals(List.of(50L, 51L, 52L, 53L, 54L), readFrom(tp, 50));
    }

    private static void produce(String topic, int count, long timestamp) throws Exception {
        Properties props = ProduceConsumeIT.producerPropsFor(server.bootstrap(), "none");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, timestamp, null, new byte[200])).get();
            }
        }
    }

    private static long offset(TopicPartition tp, OffsetSpec spec) throws Exception {
        return admin.listOffsets(Map.of(tp, spec)).all().get().get(tp).offset();
    }

    private static long waitForLogStart(TopicPartition tp, java.util.function.LongPredicate wanted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long start;
        while (!wanted.test(start = offset(tp, OffsetSpec.earliest()))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("log start offset stayed at " + start);
            }
            Thread.sleep(100);
        }
        return start;
    }

    private static List<Long> readFrom(TopicPartition tp, long from) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(ProduceConsumeIT.consumerPropsFor(
                server.bootstrap()))) {
            consumer.assign(List.of(tp));
            if (from < 0) {
                consumer.seekToBeginning(List.of(tp));
            } else {
                consumer.seek(tp, from);
            }
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<Long> offsets = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    offsets.add(record.offset());
                }
            }
            return offsets;
        }
    }
}
