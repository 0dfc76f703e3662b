package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java client's group logic: cooperative rebalancing, static membership, resuming after a server restart. */
@Timeout(600)
class JavaConsumerGroupIT {

    @TempDir
    Path dir;

    /** A consumer polling in its own thread, recording what it owns and every revocation it was asked for. */
    private static final class Member implements AutoCloseable, ConsumerRebalanceListener {
        final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
        final List<TopicPartition> revoked = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;
        volatile int generation = -1;

        Member(Properties props, String topic) {
            thread = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
                    consumer.subscribe(List.of(topic), this);
                    while (!stop.get()) {
                        consumer.poll(Duration.ofMillis(100));
                        generation = consumer.groupMetadata().generationId();
                    }
                }
            });
            thread.start();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            revoked.addAll(partitions);
            owned.removeAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            owned.addAll(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            owned.removeAll(partitions);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(60_000);
        }
    }

    private static Properties consumerProps(BulwarkProcess server, String group) {
        Properties props = ProduceConsumeIT.consumerPropsFor(server.bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        return props;
    }

    private static void createTopic(BulwarkProcess server, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    @Test
    void cooperativeStickyMovesOnlyThePartitionsThatChangeOwner() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"),
                Map.of("BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"))) {
            createTopic(server, "coop", 6);
            Properties props = consumerProps(server, "coop-group");
            props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            try (Member a = new Member(props, "coop")) {
                await("a owns every partition", () -> a.owned.size() == 6);
                Set<TopicPartition> before = new HashSet<>(a.owned);
                try (Member b = new Member(props, "coop")) {
                    await("b joins and takes half", () -> b.owned.size() == 3 && a.owned.size() == 3);
                    assertEquals(new HashSet<>(b.owned), new HashSet<>(a.revoked),
                            "a gave up exactly the partitions that moved to b, nothing more");
                    Set<TopicPartition> kept = new HashSet<>(a.owned);
                    assertTrue(before.containsAll(kept));
                    a.revoked.clear();
                    b.close();
                    await("a gets b's partitions back", () -> a.owned.size() == 6);
                    assertTrue(a.revoked.isEmpty(), "a kept its partitions while b left: " + a.revoked);
                    assertTrue(a.owned.containsAll(kept));
                }
            }
        }
    }

    @Test
    void aStaticMemberRejoiningWithinItsSessionCausesNoRebalance() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"),
                Map.of("BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"))) {
            createTopic(server, "static", 4);
            Properties first = consumerProps(server, "static-group");
            first.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "reader-1");
            first.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 60_000);
            Properties second = consumerProps(server, "static-group");
            second.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "reader-2");
            second.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 60_000);
            try (Member other = new Member(second, "static")) {
                Member restarted = new Member(first, "static");
                await("both members own two partitions", () -> other.owned.size() == 2 && restarted.owned.size() == 2
                        && other.generation > 0 && other.generation == restarted.generation);
                int generation = other.generation;
                Set<TopicPartition> owned = new HashSet<>(restarted.owned);
                restarted.close();
                try (Member again = new Member(first, "static")) {
                    await("the static member is back", () -> again.owned.size() == 2 && again.generation > 0);
                    assertEquals(owned, again.owned, "it got its old partitions back");
                    assertEquals(generation, again.generation, "same generation: no rebalance happened");
                    assertEquals(generation, other.generation);
                    assertTrue(other.revoked.isEmpty(), "the other member was never asked to give anything up");
                }
            }
        }
    }

    @Test
    void consumersResumeFromCommittedOffsetsAfterCleanAndUncleanRestarts() throws Exception {
        try (BulwarkProcess server = BulwarkProcess.start(dir.resolve("data"),
                Map.of("BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"))) {
            createTopic(server, "resume", 3);
            produce(server, "resume", 0, 300);
            assertEquals(300, consumeAndCommit(server, "resume", 300).size());

            produce(server, "resume", 300, 400);
            assertEquals(0, server.stop());
            server.restart();
            List<String> afterClean = consumeAndCommit(server, "resume", 100);
            assertEquals(100, afterClean.size(), "resumed exactly after the committed offsets");
            assertTrue(afterClean.stream().allMatch(v -> Integer.parseInt(v.substring(2)) >= 300), afterClean.toString());

            produce(server, "resume", 400, 450);
            server.kill();
            server.restart();
            List<String> afterKill = consumeAndCommit(server, "resume", 50);
            assertEquals(50, afterKill.size());
            assertTrue(afterKill.stream().allMatch(v -> Integer.parseInt(v.substring(2)) >= 400), afterKill.toString());
        }
    }

    private static void produce(BulwarkProcess server, String topic, int from, int to) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ProduceConsumeIT.producerPropsFor(
                server.bootstrap(), "none"))) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(topic, ("v-" + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }

    /** Reads {@code count} records as group "resumers", committing after processing, then reads nothing more. */
    private static List<String> consumeAndCommit(BulwarkProcess server, String topic, int count) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(server, "resumers"))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                }
                consumer.commitSync();
            }
            for (int i = 0; i < 5; i++) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                }
            }
            consumer.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
            assertTrue(committed.values().stream().allMatch(o -> o != null), "every owned partition has an offset");
        }
        return values;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
