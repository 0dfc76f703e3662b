package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka's {@code kafka-transactions} tool (TransactionsCommand, kafka-tools 4.3.1, a separate process) shows what the
 * broker knows of the producers of a real Java KafkaProducer: its open transaction in {@code list} and
 * {@code describe}, and its state on the partition in {@code describe-producers}.
 */
@Timeout(300)
class TransactionsCommandIT {

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(90);
    private static final String TOOL = "org.apache.kafka.tools.TransactionsCommand";

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("idempotent", 1, (short) 1),
                    new NewTopic("transactional", 2, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /**
     * The table the tool prints, one map per row from column header to value; the tool pads columns with spaces and
     * no value of these tables holds one.
     */
    private static List<Map<String, String>> table(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("--bootstrap-server", server.bootstrap()));
        command.addAll(Arrays.asList(args));
        List<String> lines = ExternalCommand.kafkaTool(TOOL_TIMEOUT, null, TOOL, command.toArray(String[]::new))
                .requireSuccess().lines();
        String[] headers = lines.get(0).trim().split("\\s+");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] values = line.trim().split("\\s+");
            assertEquals(headers.length, values.length, "a row of " + lines);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < headers.length; i++) {
                row.put(headers[i], values[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    private static Properties producerProps() {
        Properties props = ProduceConsumeIT.producerPropsFor(server.bootstrap(), "none");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        return props;
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String value) {
        return new ProducerRecord<>(topic, 0, null, value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void describeProducersShowsAnIdempotentProducersLastSequence() throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps())) {
            producer.send(record("idempotent", "a"));
            producer.send(record("idempotent", "b"));
            producer.send(record("idempotent", "c")).get();
        }

        List<Map<String, String>> producers = table("describe-producers", "--topic", "idempotent", "--partition", "0");
        assertEquals(1, producers.size(), producers.toString());
        Map<String, String> state = producers.get(0);
        assertEquals("0", state.get("ProducerEpoch"));
        assertEquals("2", state.get("LastSequence"), "three records, sequences 0 to 2");
        assertEquals("-1", state.get("LatestCoordinatorEpoch"), "no transaction marker was ever written");
        assertEquals("None", state.get("CurrentTransactionStartOffset"));
        assertTrue(Long.parseLong(state.get("LastTimestamp")) > 0, state.toString());
    }

    @Test
    void anOpenTransactionIsListedDescribedAndShownOnItsPartition() throws Exception {
        Properties props = producerProps();
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-shipper");
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 120_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            producer.beginTransaction();
            RecordMetadata first = producer.send(record("transactional", "parcel-1")).get();
            producer.send(record("transactional", "parcel-2"));
            producer.flush();

            Map<String, String> listed = only(table("list"), "TransactionalId", "it-shipper");
            assertEquals("Ongoing", listed.get("TransactionState"));
            String producerId = listed.get("ProducerId");

            Map<String, String> described = only(table("describe", "--transactional-id", "it-shipper"),
                    "TransactionalId", "it-shipper");
            assertEquals("Ongoing", described.get("TransactionState"));
            assertEquals(producerId, described.get("ProducerId"));
            assertEquals("0", described.get("ProducerEpoch"));
            assertEquals("120000", described.get("TransactionTimeoutMs"));
            assertNotEquals("None", described.get("CurrentTransactionStartTimeMs"));
            assertEquals("transactional-0", described.get("TopicPartitions"));

            Map<String, String> onPartition = only(table("describe-producers", "--topic", "transactional",
                    "--partition", "0"), "ProducerId", producerId);
            assertEquals(String.valueOf(first.offset()), onPartition.get("CurrentTransactionStartOffset"),
                    "the transaction's first batch");
            assertEquals("1", onPartition.get("LastSequence"));
            assertEquals(List.of(), table("describe-producers", "--topic", "transactional", "--partition", "1"),
                    "nothing was written to partition 1");

            producer.commitTransaction();
        }

        Map<String, String> committed = only(table("list", "--transactional-id-pattern", "it-ship.*"),
                "TransactionalId", "it-shipper");
        assertEquals("CompleteCommit", committed.get("TransactionState"));
        Map<String, String> afterMarker = table("describe-producers", "--topic", "transactional", "--partition", "0")
                .get(0);
        assertEquals("None", afterMarker.get("CurrentTransactionStartOffset"));
        assertEquals("0", afterMarker.get("LatestCoordinatorEpoch"), "the commit marker's coordinator epoch");
    }

    private static Map<String, String> only(List<Map<String, String>> rows, String column, String value) {
        List<Map<String, String>> matching = rows.stream().filter(r -> value.equals(r.get(column))).toList();
        assertEquals(1, matching.size(), column + "=" + value + " in " + rows);
        return matching.get(0);
    }
}
