package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Consumer groups through tools nobody here wrote: ConsumerGroupCommand, ConsoleConsumer, kcat -G, kafka-python. */
@Timeout(600)
class ConsumerGroupToolsIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    private static final String OPERATOR = "root:root-secret";

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of("BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0",
                "BULWARK_OPERATOR", OPERATOR));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    private static void produce(String topic, String lines) throws Exception {
        ExternalCommand.kafkaTool(TIMEOUT, lines, "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server",
                server.bootstrap(), "--topic", topic).requireSuccess();
    }

    @Test
    void consumerGroupCommandListsDescribesResetsAndDeletes() throws Exception {
        createTopic("ledger", 2);
        produce("ledger", "a\nb\nc\nd\ne\nf\n");
        List<String> consumed = ExternalCommand.kafkaTool(TIMEOUT, null,
                "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", server.bootstrap(),
                "--topic", "ledger", "--group", "auditors", "--from-beginning", "--max-messages", "6")
                .requireSuccess().lines();
        assertEquals(6, consumed.size(), consumed.toString());

        assertTrue(ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(), "--list")
                .requireSuccess().lines().contains("auditors"));

        produce("ledger", "g\nh\n");
        String described = ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(),
                "--describe", "--group", "auditors").requireSuccess().stdout();
        assertEquals(2, totalLag(described), "lag is the two records produced after the group read up to the end:\n"
                + described);
        HttpResponse<String> lag = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.http() + "/api/v1/tenants/default/groups/auditors/lag"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        OPERATOR.getBytes(StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, lag.statusCode());
        assertTrue(lag.body().contains("\"totalLag\":2"), "the server computes the same lag: " + lag.body());

        String reset = ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(),
                "--reset-offsets", "--to-earliest", "--execute", "--group", "auditors", "--topic", "ledger")
                .requireSuccess().stdout();
        assertTrue(reset.contains("NEW-OFFSET"), reset);
        described = ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(),
                "--describe", "--group", "auditors").requireSuccess().stdout();
        assertEquals(8, totalLag(described), "after a reset to earliest everything is lag again:\n" + described);

        ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(), "--delete",
                "--group", "auditors").requireSuccess();
        assertFalse(ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(),
                "--list").requireSuccess().lines().contains("auditors"));
    }

    /** Sums the LAG column of ConsumerGroupCommand --describe. */
    private static long totalLag(String described) {
        long total = 0;
        int lagColumn = -1;
        for (String line : described.lines().toList()) {
            String[] cells = line.trim().split("\\s+");
            if (lagColumn < 0) {
                lagColumn = List.of(cells).indexOf("LAG");
                continue;
            }
            if (cells.length > lagColumn && cells[lagColumn].matches("\\d+")) {
                total += Long.parseLong(cells[lagColumn]);
            }
        }
        return total;
    }

    @Test
    void kcatBalancedConsumer() throws Exception {
        createTopic("kcat-group", 3);
        produce("kcat-group", "one\ntwo\nthree\nfour\n");
        List<String> consumed = ExternalCommand.kcat(TIMEOUT, null, "-b", server.bootstrap(), "-G", "kcat-readers",
                "-X", "auto.offset.reset=earliest", "-e", "-f", "%s\n", "kcat-group").requireSuccess().lines();
        assertEquals(List.of("four", "one", "three", "two"), consumed.stream().sorted().toList());
        String described = ExternalCommand.kafkaTool(TIMEOUT, null, GROUPS, "--bootstrap-server", server.bootstrap(),
                "--describe", "--group", "kcat-readers").requireSuccess().stdout();
        assertEquals(0, totalLag(described), "kcat committed what it read:\n" + described);
    }

    @Test
    void theStudentsClientsRunUnchanged() throws Exception {
        createTopic("students", 3);
        Path scripts = Path.of(System.getProperty("bulwark.test.resources", "src/test/resources"), "clients");
        Path shared = Path.of("../../shared/clients");
        if (Files.isDirectory(shared)) {
            for (String script : List.of("common.py", "students_producer.py", "students_consumer.py",
                    "students_etl.py")) {
                assertEquals(Files.readString(shared.resolve(script)), Files.readString(scripts.resolve(script)),
                        script + " must stay an unchanged copy of ../shared/clients/" + script);
            }
        }
        String bootstrap = server.bootstrap();
        ExternalCommand.python(TIMEOUT, null, scripts.resolve("students_producer.py"), "--bootstrap", bootstrap,
                "--count", "5").requireSuccess();
        ExternalCommand.python(TIMEOUT, null, scripts.resolve("students_consumer.py"), "--bootstrap", bootstrap,
                "--expect", "5").requireSuccess();
        String etl = ExternalCommand.python(TIMEOUT, null, scripts.resolve("students_etl.py"), "--bootstrap", bootstrap,
                "--db", dir.resolve("etl.sqlite").toString(), "--expect", "5").requireSuccess().stdout();
        assertTrue(etl.contains("5"), etl);
    }
}
