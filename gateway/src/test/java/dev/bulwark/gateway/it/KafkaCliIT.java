package dev.bulwark.gateway.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kafka's own command-line tools (kafka-tools 4.3.1, separate processes) against the real server. */
@Timeout(300)
class KafkaCliIT {

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static ExternalCommand.Result tool(String stdin, String mainClass, String... args) throws Exception {
        return ExternalCommand.kafkaTool(TOOL_TIMEOUT, stdin, mainClass, args);
    }

    @Test
    void topicCommandCreatesListsDescribesAltersAndDeletes() throws Exception {
        String bootstrap = server.bootstrap();
        String topics = "org.apache.kafka.tools.TopicCommand";
        tool(null, topics, "--bootstrap-server", bootstrap, "--create", "--topic", "cli-topic", "--partitions", "3",
                "--config", "retention.ms=100000").requireSuccess();
        assertTrue(tool(null, topics, "--bootstrap-server", bootstrap, "--list").requireSuccess().lines()
                .contains("cli-topic"));
        String described = tool(null, topics, "--bootstrap-server", bootstrap, "--describe", "--topic", "cli-topic")
                .requireSuccess().stdout();
        assertTrue(described.contains("PartitionCount: 3"), described);
        assertTrue(described.contains("retention.ms=100000"), described);
        assertTrue(described.contains("Leader: 1"), described);

        tool(null, topics, "--bootstrap-server", bootstrap, "--alter", "--topic", "cli-topic", "--partitions", "4")
                .requireSuccess();
        assertTrue(tool(null, topics, "--bootstrap-server", bootstrap, "--describe", "--topic", "cli-topic")
                .requireSuccess().stdout().contains("PartitionCount: 4"));

        tool(null, topics, "--bootstrap-server", bootstrap, "--delete", "--topic", "cli-topic").requireSuccess();
        assertFalse(tool(null, topics, "--bootstrap-server", bootstrap, "--list").requireSuccess().lines()
                .contains("cli-topic"));
    }

    @Test
    void consoleProducerAndConsumerByPartitionAndOffset() throws Exception {
        String bootstrap = server.bootstrap();
        tool(null, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--create", "--topic",
                "console", "--partitions", "1").requireSuccess();
        tool("a:first\nb:second\nc:third\n", "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", bootstrap,
                "--topic", "console", "--reader-property", "parse.key=true", "--reader-property", "key.separator=:")
                .requireSuccess();
        List<String> fromOffsetOne = tool(null, "org.apache.kafka.tools.consumer.ConsoleConsumer",
                "--bootstrap-server", bootstrap, "--topic", "console", "--partition", "0", "--offset", "1",
                "--max-messages", "2", "--formatter-property", "print.key=true", "--formatter-property",
                "key.separator=:")
                .requireSuccess().lines();
        assertEquals(List.of("b:second", "c:third"), fromOffsetOne);
        List<String> earliest = tool(null, "org.apache.kafka.tools.consumer.ConsoleConsumer",
                "--bootstrap-server", bootstrap, "--topic", "console", "--partition", "0", "--offset", "earliest",
                "--max-messages", "3").requireSuccess().lines();
        assertEquals(List.of("first", "second", "third"), earliest);
        List<String> fromBeginning = tool(null, "org.apache.kafka.tools.consumer.ConsoleConsumer",
                "--bootstrap-server", bootstrap, "--topic", "console", "--from-beginning", "--max-messages", "3")
                .requireSuccess().lines();
        assertEquals(List.of("first", "second", "third"), fromBeginning);
    }

    @Test
    void configCommandAltersAndDescribesTopicConfigs() throws Exception {
        String bootstrap = server.bootstrap();
        tool(null, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--create", "--topic",
                "configured", "--partitions", "1").requireSuccess();
        tool(null, "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "configured", "--alter", "--add-config", "retention.ms=5000,max.message.bytes=2048")
                .requireSuccess();
        String described = tool(null, "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap, "--entity-type",
                "topics", "--entity-name", "configured", "--describe").requireSuccess().stdout();
        assertTrue(described.contains("retention.ms=5000"), described);
        assertTrue(described.contains("max.message.bytes=2048"), described);

        tool(null, "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap, "--entity-type", "topics",
                "--entity-name", "configured", "--alter", "--delete-config", "retention.ms").requireSuccess();
        described = tool(null, "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap, "--entity-type",
                "topics", "--entity-name", "configured", "--describe").requireSuccess().stdout();
        assertFalse(described.contains("retention.ms=5000"), described);

        String broker = tool(null, "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap, "--entity-type",
                "brokers", "--entity-name", "1", "--describe", "--all").requireSuccess().stdout();
        assertTrue(broker.contains("log.retention.ms=604800000"), broker);
    }
}
