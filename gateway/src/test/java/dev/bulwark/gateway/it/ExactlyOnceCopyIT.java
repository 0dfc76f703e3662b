package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly-once copy as Kafka's own transactions system test does it: one TransactionalMessageCopier (kafka-tools) per
 * input partition consumes READ_COMMITTED, produces to the output topic and commits its consumed offsets in the same
 * transaction, aborting some at random, while the server is killed (SIGKILL) and restarted three times. A copier that
 * gives up is started again with its transactional id, as an operator would. Afterwards a READ_COMMITTED read of the
 * output holds every input record exactly once, each input partition's records in the output partition of the same
 * number (where the copier writes them), in their input order.
 */
@Timeout(900)
class ExactlyOnceCopyIT {

    private static final String INPUT = "transfers-in";
    private static final String OUTPUT = "transfers-out";
    private static final int PARTITIONS = 2;
    private static final int PER_PARTITION = 10_000;
    private static final int KILLS = 3;
    private static final String GROUP = "transfer-copiers";

    @TempDir
    Path dir;

    @Test
    void theOutputHoldsEveryInputRecordOnceThroughKills() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(INPUT, PARTITIONS, (short) 1),
                        new NewTopic(OUTPUT, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            List<String> input = seed(server);

            List<Copier> copiers = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                copiers.add(new Copier(server, p));
            }
            try {
                copiers.forEach(Copier::start);
                for (int kill = 1; kill <= KILLS; kill++) {
                    long before = copied(copiers);
                    String what = "copying progress before kill " + kill + ": ";
                    awaitUntil(() -> copied(copiers) >= before + PARTITIONS * PER_PARTITION / 6, () -> what + copiers);
                    assertTrue(copiers.stream().noneMatch(Copier::done), "kill " + kill + " comes while copying: "
                            + copiers);
                    server.kill();
                    Thread.sleep(500);
                    server.restart();
                    copiers.forEach(Copier::restartIfGaveUp);
                }
                awaitUntil(() -> {
                    copiers.forEach(Copier::restartIfGaveUp);
                    return copiers.stream().allMatch(Copier::done);
                }, () -> "every copier reaching the end of its input partition: " + copiers);
            } finally {
                for (Copier copier : copiers) {
                    copier.close();
                }
            }

            Map<Integer, List<String>> output = readCommitted(server);
            for (int p = 0; p < PARTITIONS; p++) {
                String prefix = p + "-";
                // The copier writes each record to the output partition of the same number.
                assertEquals(input.stream().filter(v -> v.startsWith(prefix)).toList(), output.get(p),
                        "output partition " + p + " holds input partition " + p + "'s records once each, in order");
            }
        }
    }

    /** Writes the input: values "partition-index", so a value says where it came from and in which order. */
    private static List<String> seed(BulwarkProcess server) {
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < PER_PARTITION; i++) {
                for (int p = 0; p < PARTITIONS; p++) {
                    String value = p + "-" + i;
                    producer.send(new ProducerRecord<>(INPUT, p, null, value));
                    values.add(value);
                }
            }
            producer.flush();
        }
        return values;
    }

    private static Map<Integer, List<String>> readCommitted(BulwarkProcess server) {
        Map<Integer, List<String>> values = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(OUTPUT, p));
                values.put(p, new ArrayList<>());
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.get(record.partition()).add(record.value());
                }
            }
        }
        return values;
    }

    /** Input records whose copies are committed, as the copiers last reported. */
    private static long copied(List<Copier> copiers) {
        return copiers.stream().mapToLong(c -> PER_PARTITION - Math.min(PER_PARTITION, c.remaining.get())).sum();
    }

    private static void awaitUntil(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(100);
        }
    }

    /** One copier process for one input partition, started again with the same transactional id if it gives up. */
    private static final class Copier implements AutoCloseable {
        private final BulwarkProcess server;
        private final int partition;
        /** Input records not yet copied in a committed transaction, as last reported. */
        private final AtomicLong remaining = new AtomicLong(Long.MAX_VALUE);
        private ToolProcess process;
        private int runs;

        Copier(BulwarkProcess server, int partition) {
            this.server = server;
            this.partition = partition;
        }

        void start() {
            runs++;
            try {
                process = ToolProcess.start("copier-" + partition + "-run-" + runs, this::event,
                        "org.apache.kafka.tools.TransactionalMessageCopier", "--broker-list", server.bootstrap(),
                        "--transactional-id", "copier-" + partition, "--consumer-group", GROUP,
                        "--input-topic", INPUT, "--input-partition", Integer.toString(partition),
                        "--output-topic", OUTPUT, "--transaction-size", "20", "--transaction-timeout", "10000",
                        "--enable-random-aborts", "--use-group-metadata");
            } catch (IOException e) {
                throw new AssertionError("starting the copier failed", e);
            }
        }

        private void event(JsonNode event) {
            remaining.set(event.path("remaining").asLong(Long.MAX_VALUE));
        }

        /** Finished: exited by itself with nothing left to copy. */
        boolean done() {
            return process != null && !process.isAlive() && remaining.get() == 0;
        }

        void restartIfGaveUp() {
            if (!process.isAlive() && remaining.get() != 0) {
                assertTrue(runs < 20, "copier " + partition + " gave up " + runs + " times; it printed "
                        + process.otherOutput());
                start();
            }
        }

        @Override
        public String toString() {
            return "copier " + partition + " (run " + runs + ", " + (process.isAlive() ? "running" : "exited")
                    + ", remaining " + remaining.get() + ", printed " + process.otherOutput() + ")";
        }

        @Override
        public void close() throws InterruptedException {
            if (process != null) {
                process.close();
            }
        }
    }
}
