package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stopping and killing the server loses no acknowledged record, duplicates none, and offsets continue. */
@Timeout(600)
class RestartIT {

    private static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    void cleanStopAndStartKeepsEveryRecord() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"))) {
            createTopic(server, "kept");
            Map<String, RecordMetadata> first = produce(server, "kept", 0, 3000);
            assertEquals(0, server.stop(), "SIGTERM exits cleanly");
            assertTrue(server.log().contains("closed cleanly"), "the log store was flushed and closed");
            server.restart();
            assertTrue(server.log().contains("after a clean shutdown"));

            Map<String, RecordMetadata> second = produce(server, "kept", 3000, 6000);
            Map<Integer, Long> endBefore = new HashMap<>();
            first.values().forEach(m -> endBefore.merge(m.partition(), m.offset() + 1, Math::max));
            Map<Integer, Long> firstAfter = new HashMap<>();
            second.values().forEach(m -> firstAfter.merge(m.partition(), m.offset(), Math::min));
            firstAfter.forEach((p, offset) -> assertEquals(endBefore.getOrDefault(p, 0L), offset, "offsets continue in " + p));

            Map<String, RecordMetadata> all = new HashMap<>(first);
            all.putAll(second);
            assertExactly(server, "kept", all, Set.of());
        }
    }

    @Test
    void killDuringProduceLosesNoAcknowledgedRecordAndDuplicatesNone() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"))) {
            createTopic(server, "crash");
            Map<String, RecordMetadata> acknowledged = new ConcurrentHashMap<>();
            Set<String> failed = ConcurrentHashMap.newKeySet();
            AtomicInteger sent = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            Properties props = producerProps(server);
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
            props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 200);
            Thread producing = new Thread(() -> {
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                    while (!stop.get()) {
                        String value = "v-" + sent.getAndIncrement();
                        producer.send(new ProducerRecord<>("crash", value.getBytes(StandardCharsets.UTF_8)),
                                (metadata, error) -> {
                                    if (error == null) {
                                        acknowledged.put(value, metadata);
                                    } else {
                                        failed.add(value);
                                    }
                                });
                        if (sent.get() % 500 == 0) {
                            Thread.sleep(5);
                        }
                    }
                    producer.flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            producing.start();
            waitFor(() -> acknowledged.size() >= 20_000, "records acknowledged before the crash");
            server.kill();
            int ackedAtCrash = acknowledged.size();
            server.restart();
            assertTrue(server.log().contains("recovered after an unclean shutdown"), "recovery ran");
            waitFor(() -> acknowledged.size() >= ackedAtCrash + 10_000, "records acknowledged after the restart");
            stop.set(true);
            producing.join(180_000);
            assertTrue(acknowledged.size() > ackedAtCrash, "the producer resumed");
            assertExactly(server, "crash", acknowledged, failed);
        }
    }

    /**
     * Reads the whole topic: every acknowledged record is at its acknowledged offset, no record appears twice, the
     * offsets have no gaps, and any other record is one the producer sent but never saw acknowledged.
     */
    private static void assertExactly(BulwarkProcess server, String topic, Map<String, RecordMetadata> acknowledged,
                                      Set<String> unacknowledged) {
        Map<String, Long> seenAt = new HashMap<>();
        Map<Integer, Long> next = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(ProduceConsumeIT.consumerPropsFor(
                server.bootstrap()))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long total = ends.values().stream().mapToLong(Long::longValue).sum();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (seenAt.size() < total && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String value = new String(record.value(), StandardCharsets.UTF_8);
                    assertEquals(next.getOrDefault(record.partition(), 0L), record.offset(), "no gap");
                    next.put(record.partition(), record.offset() + 1);
                    Long earlier = seenAt.put(value, (long) record.partition() << 40 | record.offset());
                    assertEquals(null, earlier, "record " + value + " appears twice");
                }
            }
            assertEquals(total, seenAt.size(), "read the whole topic");
        }
        Set<String> missing = new HashSet<>();
        for (Map.Entry<String, RecordMetadata> e : acknowledged.entrySet()) {
            Long at = seenAt.get(e.getKey());
            if (at == null || at != ((long) e.getValue().partition() << 40 | e.getValue().offset())) {
                missing.add(e.getKey());
            }
        }
        assertTrue(missing.isEmpty(), missing.size() + " acknowledged records missing or moved, e.g. "
                + missing.stream().limit(5).toList());
        for (String value : seenAt.keySet()) {
            assertTrue(acknowledged.containsKey(value) || unacknowledged.contains(value),
                    value + " is in the log but was never sent or was acknowledged elsewhere");
        }
    }

    private static Map<String, RecordMetadata> produce(BulwarkProcess server, String topic, int from, int to)
            throws Exception {
        Map<String, RecordMetadata> acked = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(server))) {
            List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = from; i < to; i++) {
                futures.add(producer.send(new ProducerRecord<>(topic, ("v-" + i).getBytes(StandardCharsets.UTF_8))));
            }
            for (int i = from; i < to; i++) {
                acked.put("v-" + i, futures.get(i - from).get());
            }
        }
        return acked;
    }

    private static Properties producerProps(BulwarkProcess server) {
        Properties props = ProduceConsumeIT.producerPropsFor(server.bootstrap(), "none");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 4096);
        return props;
    }

    private static void createTopic(BulwarkProcess server, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
    }

    private interface Condition {
        boolean holds();
    }

    private static void waitFor(Condition condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
