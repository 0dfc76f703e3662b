package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdminClient creates, describes, alters and deletes topics, configs and records against the real server. */
@Timeout(300)
class AdminClientIT {

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap()));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        server.close();
    }

    @Test
    void topicLifecycle() throws Exception {
        admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1)
                .configs(Map.of("retention.ms", "3600000", "cleanup.policy", "delete")))).all().get();
        assertTrue(admin.listTopics().names().get().contains("orders"));

        TopicDescription description = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
        assertEquals(3, description.partitions().size());
        description.partitions().forEach(p -> {
            assertEquals(1, p.leader().id());
            assertEquals(1, p.replicas().size());
            assertEquals(1, p.isr().size());
        });
        assertFalse(description.topicId().toString().isEmpty());

        admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(5))).all().get();
        assertEquals(5, admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders").partitions().size());
        assertCause(InvalidPartitionsException.class,
                () -> admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(2))).all().get());

        assertCause(TopicExistsException.class,
                () -> admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get());

        admin.deleteTopics(List.of("orders")).all().get();
        assertFalse(admin.listTopics().names().get().contains("orders"));
        assertCause(UnknownTopicOrPartitionException.class,
                () -> admin.describeTopics(List.of("orders")).allTopicNames().get());
        admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get();
    }

    @Test
    void creationIsValidatedAsKafkaDoes() {
        assertCause(InvalidReplicationFactorException.class,
                () -> admin.createTopics(List.of(new NewTopic("replicated", 1, (short) 3))).all().get());
        assertCause(InvalidConfigurationException.class, () -> admin.createTopics(List.of(new NewTopic("bad-config",
                1, (short) 1).configs(Map.of("retention.ms", "soon"))))
                .all().get());
        assertCause(InvalidConfigurationException.class, () -> admin.createTopics(List.of(new NewTopic("unknown-config",
                1, (short) 1).configs(Map.of("no.such.config", "1"))))
                .all().get());
        assertCause(InvalidTopicException.class,
                () -> admin.createTopics(List.of(new NewTopic("bad name!", 1, (short) 1))).all().get());
    }

    @Test
    void validateOnlyCreatesNothing() throws Exception {
        admin.createTopics(List.of(new NewTopic("dry-run", 2, (short) 1)), new CreateTopicsOptions().validateOnly(true))
                .all().get();
        assertFalse(admin.listTopics().names().get().contains("dry-run"));
    }

    @Test
    void topicConfigsAreDescribedAndAltered() throws Exception {
        admin.createTopics(List.of(new NewTopic("configured", 1, (short) 1)
                .configs(Map.of("segment.bytes", "1048576")))).all().get();
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "configured");

        Config config = describe(resource);
        assertEquals("1048576", config.get("segment.bytes").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("segment.bytes").source());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, config.get("retention.ms").source());
        assertEquals("604800000", config.get("retention.ms").value());
        assertEquals("delete", config.get("cleanup.policy").value());

        admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "60000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("segment.bytes", ""), AlterConfigOp.OpType.DELETE),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND))))
                .all().get();
        config = describe(resource);
        assertEquals("60000", config.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, config.get("segment.bytes").source());
        assertEquals(Set.of("delete", "compact"), Set.of(config.get("cleanup.policy").value().split(",")));
        admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SUBTRACT))))
                .all().get();
        assertEquals("compact", describe(resource).get("cleanup.policy").value());

        assertCause(InvalidConfigurationException.class, () -> admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("max.message.bytes", "-5"), AlterConfigOp.OpType.SET)))).all().get());

        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            AlterConfigsRequestData legacy = new AlterConfigsRequestData();
            AlterConfigsRequestData.AlterConfigsResource alter = new AlterConfigsRequestData.AlterConfigsResource()
                    .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName("configured");
            alter.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.bytes")
                    .setValue("1000000"));
            legacy.resources().add(alter);
            AlterConfigsResponse response = (AlterConfigsResponse) wire.receive(
                    wire.send(ApiKeys.ALTER_CONFIGS, (short) 1, legacy));
            assertEquals(0, response.data().responses().get(0).errorCode());
        }
        config = describe(resource);
        assertEquals("1000000", config.get("retention.bytes").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, config.get("retention.ms").source(),
                "AlterConfigs replaces the whole set of overrides");
    }

    @Test
    void brokerConfigsAreDescribedAndDynamicDefaultsApplyToTopics() throws Exception {
        admin.createTopics(List.of(new NewTopic("follows-broker", 1, (short) 1))).all().get();
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "follows-broker");

        Config brokerConfig = describe(broker);
        assertEquals("104857600", brokerConfig.get("socket.request.max.bytes").value());
        assertEquals("false", brokerConfig.get("auto.create.topics.enable").value());

        admin.incrementalAlterConfigs(Map.of(clusterDefault, List.of(new AlterConfigOp(
                new ConfigEntry("log.retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get();
        assertEquals("7200000", describe(clusterDefault).get("log.retention.ms").value());
        ConfigEntry retention = describe(topic).get("retention.ms");
        assertEquals("7200000", retention.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, retention.source());

        assertCause(InvalidConfigurationException.class, () -> admin.incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("socket.request.max.bytes", "10"), AlterConfigOp.OpType.SET))))
                .all().get());

        admin.incrementalAlterConfigs(Map.of(clusterDefault, List.of(new AlterConfigOp(
                new ConfigEntry("log.retention.ms", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, describe(topic).get("retention.ms").source());
    }

    @Test
    void clusterAndRecordDeletion() throws Exception {
        DescribeClusterResult cluster = admin.describeCluster();
        assertEquals(1, cluster.nodes().get().size());
        assertEquals(1, cluster.controller().get().id());
        assertFalse(cluster.clusterId().get().isEmpty());

        admin.createTopics(List.of(new NewTopic("trimmed", 1, (short) 1))).all().get();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ProduceConsumeIT.producerPropsFor(
                server.bootstrap(), "none"))) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("trimmed", 0, null, new byte[]{(byte) i})).get();
            }
        }
        TopicPartition tp = new TopicPartition("trimmed", 0);
        long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(tp).get()
                .lowWatermark();
        assertEquals(4, low);
        assertEquals(4, admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).all().get()
                .get(tp).offset());
    }

    @Test
    void groupOffsetsAreAlteredListedAndRemovedWithTheirTopic() throws Exception {
        admin.createTopics(List.of(new NewTopic("short-lived", 2, (short) 1))).all().get();
        TopicPartition p0 = new TopicPartition("short-lived", 0);
        TopicPartition p1 = new TopicPartition("short-lived", 1);
        admin.alterConsumerGroupOffsets("bookkeepers", Map.of(p0, new OffsetAndMetadata(0, "checkpoint"),
                p1, new OffsetAndMetadata(0))).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("bookkeepers")
                .partitionsToOffsetAndMetadata().get();
        assertEquals(0, committed.get(p0).offset());
        assertEquals("checkpoint", committed.get(p0).metadata());

        admin.deleteTopics(List.of("short-lived")).all().get();
        admin.createTopics(List.of(new NewTopic("short-lived", 2, (short) 1))).all().get();
        assertTrue(admin.listConsumerGroupOffsets("bookkeepers").partitionsToOffsetAndMetadata().get().isEmpty(),
                "a deleted topic's offsets do not come back with a new topic of the same name");
    }

    private static Config describe(ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeSynonyms(true)).all().get()
                .get(resource);
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void assertCause(Class<? extends Throwable> expected, Call call) {
        ExecutionException e = assertThrows(ExecutionException.class, call::run);
        assertInstanceOf(expected, e.getCause(), () -> "cause was " + e.getCause());
    }
}
