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
import org.apache.kafka.common.errors.ProducerFencedException;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Kafka's Java producer and consumer with transactions against a running Bulwark: a committed transaction is visible
 * to a READ_COMMITTED consumer and an aborted one is not, a READ_UNCOMMITTED consumer sees both and nothing else, a
 * transaction left open holds READ_COMMITTED readers back until it ends, and a second producer with the same
 * transactional id fences the first (a zombie), whose open transaction is aborted.
 */
@Timeout(300)
class TransactionsIT {

    @TempDir
    static Path dir;
    private static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("ledger", 2, (short) 1), new NewTopic("fenced", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void commitIsVisibleToReadCommittedAndAbortIsNot() {
        try (KafkaProducer<String, String> producer = producer("ledger-writer")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("ledger", i % 2, "k" + i, "committed-" + i));
            }
            producer.commitTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("ledger", i % 2, "k" + i, "aborted-" + i));
            }
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("ledger", 0, "last", "committed-last"));
            producer.commitTransaction();
        }
        List<String> expectedCommitted = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expectedCommitted.add("committed-" + i);
        }
        expectedCommitted.add("committed-last");
        List<String> expectedAll = new ArrayList<>(expectedCommitted);
        for (int i = 0; i < 10; i++) {
            expectedAll.add("aborted-" + i);
        }

        assertEquals(sorted(expectedCommitted), sorted(readAll("ledger", 2, "read_committed")),
                "a READ_COMMITTED consumer sees the committed records only");
        assertEquals(sorted(expectedAll), sorted(readAll("ledger", 2, "read_uncommitted")),
                "a READ_UNCOMMITTED consumer sees committed and aborted records, and no markers");
    }

    @Test
    void anOpenTransactionHoldsReadCommittedBackUntilItCommits() throws Exception {
        try (KafkaProducer<String, String> producer = producer("slow-writer");
             KafkaConsumer<String, String> consumer = consumer("read_committed")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("fenced", 0, "k", "open")).get(30, TimeUnit.SECONDS);

            TopicPartition tp = new TopicPartition("fenced", 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long stable = consumer.endOffsets(List.of(tp)).get(tp);
            List<String> early = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> early.add(r.value()));
            }
            assertEquals(List.of(), early.stream().filter("open"::equals).toList(),
                    "the open transaction's record is not readable yet");
            assertEquals(stable, consumer.position(tp), "a READ_COMMITTED reader stops at the last stable offset");

            producer.commitTransaction();
            List<String> later = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!later.contains("open") && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> later.add(r.value()));
            }
            assertEquals(List.of("open"), later.stream().filter("open"::equals).toList(),
                    "the record is readable once committed");
        }
    }

    @Test
    void aSecondProducerWithTheSameTransactionalIdFencesTheFirst() throws Exception {
        try (KafkaProducer<String, String> zombie = producer("payments-app");
             KafkaProducer<String, String> successor = producer("payments-app")) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>("fenced", 0, "z", "zombie")).get(30, TimeUnit.SECONDS);

            successor.initTransactions();
            successor.beginTransaction();
            successor.send(new ProducerRecord<>("fenced", 0, "s", "successor"));
            successor.commitTransaction();

            ExecutionException sendAfterFencing = assertThrows(ExecutionException.class,
                    () -> zombie.send(new ProducerRecord<>("fenced", 0, "z", "zombie-late")).get(30,
                            TimeUnit.SECONDS));
            assertInstanceOf(ProducerFencedException.class, sendAfterFencing.getCause(),
                    "the zombie's send is refused: " + sendAfterFencing.getCause());
            assertThrows(ProducerFencedException.class, zombie::commitTransaction,
                    "the zombie cannot commit");
        }
        List<String> committed = readAll("fenced", 1, "read_committed");
        assertEquals(List.of("successor"), committed.stream().filter(v -> v.startsWith("zombie")
                || v.equals("successor")).toList(), "the zombie's transaction was aborted, the successor's committed");
    }

    private static KafkaProducer<String, String> producer(String transactionalId) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000), new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(String isolation) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new StringDeserializer());
    }

    /** Every record a consumer with this isolation level reads from the start to the end it is shown. */
    private static List<String> readAll(String topic, int partitions, String isolation) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(isolation)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }

    private static List<String> sorted(List<String> values) {
        return values.stream().sorted().toList();
    }
}
