package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka's VerifiableProducer with {@code enable.idempotence=true} and {@code acks=all} while the server is killed
 * (SIGKILL) and restarted five times: every acknowledged value is in the log exactly once, nothing is written twice,
 * and each partition holds its values in the order they were sent.
 */
@Timeout(600)
class IdempotentProducerKillIT {

    private static final String TOPIC = "payments";
    private static final int PARTITIONS = 3;
    private static final int MESSAGES = 12_000;
    private static final int KILLS = 5;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedValueIsStoredOnceAndInOrderThroughFiveKills() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30,
                        TimeUnit.SECONDS);
            }
            Path config = dir.resolve("producer.properties");
            Files.writeString(config, "enable.idempotence=true\nacks=all\nretries=2147483647\n"
                    + "max.in.flight.requests.per.connection=5\n"
                    + "delivery.timeout.ms=300000\nrequest.timeout.ms=10000\nretry.backoff.ms=200\n"
                    + "reconnect.backoff.max.ms=1000\n");
            Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
            List<String> failures = new CopyOnWriteArrayList<>();
            AtomicBoolean done = new AtomicBoolean();
            try (ToolProcess producer = ToolProcess.start("producer", event -> {
                switch (event.path("name").asText()) {
                    case "producer_send_success" -> acknowledged.add(value(event));
                    case "producer_send_error" -> failures.add(event.toString());
                    case "shutdown_complete" -> done.set(true);
                    default -> { }
                }
            }, "org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server", server.bootstrap(), "--topic", TOPIC,
                    "--max-messages", Integer.toString(MESSAGES), "--throughput", "400",
                    "--command-config", config.toString())) {
                for (int kill = 1; kill <= KILLS; kill++) {
                    int before = acknowledged.size();
                    awaitUntil(() -> acknowledged.size() >= before + 500, "acknowledgements before kill " + kill);
                    server.kill();
                    Thread.sleep(500);
                    server.restart();
                }
                awaitUntil(done::get, "the producer finishing its " + MESSAGES + " messages");
            }
            assertTrue(failures.isEmpty(), "sends that failed for good: " + failures);
            assertEquals(MESSAGES, acknowledged.size(), "every send was acknowledged in the end");

            Map<Integer, List<Integer>> stored = readAll(server);
            Map<Integer, Integer> seen = new HashMap<>();
            for (Map.Entry<Integer, List<Integer>> partition : stored.entrySet()) {
                List<Integer> values = partition.getValue();
                for (int i = 0; i < values.size(); i++) {
                    seen.merge(values.get(i), 1, Integer::sum);
                    if (i > 0) {
                        assertTrue(values.get(i - 1) < values.get(i), "partition " + partition.getKey()
                                + " holds " + values.get(i) + " after " + values.get(i - 1) + ": not in send order");
                    }
                }
            }
            List<Integer> duplicated = seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                    .toList();
            assertTrue(duplicated.isEmpty(), "values stored more than once: " + duplicated);
            List<Integer> lost = acknowledged.stream().filter(v -> !seen.containsKey(v)).sorted().toList();
            assertTrue(lost.isEmpty(), "acknowledged values missing: " + lost);
        }
    }

    /** VerifiableProducer's values are its send counter, so their order is the send order. */
    private static int value(JsonNode event) {
        return Integer.parseInt(event.path("value").asText());
    }

    private static Map<Integer, List<Integer>> readAll(BulwarkProcess server) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        Map<Integer, List<Integer>> values = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(TOPIC, p));
                values.put(p, new ArrayList<>());
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.get(record.partition()).add(Integer.parseInt(record.value()));
                }
            }
        }
        return values;
    }

    private interface Condition {
        boolean holds();
    }

    private static void awaitUntil(Condition condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
