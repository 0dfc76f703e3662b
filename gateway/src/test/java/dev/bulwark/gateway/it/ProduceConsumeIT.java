package dev.bulwark.gateway.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java client against the real server: every compression type round trip, timestamps, long polling. */
@Timeout(600)
class ProduceConsumeIT {

    private static final int RECORDS = 100_000;
    private static final int PARTITIONS = 6;

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
        assertEquals(0, server.stop(), "clean shutdown exit code");
    }

    /** What was sent, to compare with what is read back. */
    private record Sent(byte[] key, byte[] value, Header[] headers, long timestamp) {
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void everyRecordComesBackExactlyInPartitionOrder(String compression) throws Exception {
        String topic = "round-trip-" + compression;
        admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        long baseTimestamp = System.currentTimeMillis() - RECORDS;
        Map<Integer, TreeMap<Long, Sent>> sent = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(compression))) {
            List<Future<RecordMetadata>> acks = new ArrayList<>(RECORDS);
            List<Sent> records = new ArrayList<>(RECORDS);
            for (int i = 0; i < RECORDS; i++) {
                Sent record = new Sent(("key-" + i).getBytes(StandardCharsets.UTF_8),
                        ("value-" + i + "-" + "x".repeat(i % 50)).getBytes(StandardCharsets.UTF_8),
                        new Header[]{new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)),
                                new RecordHeader("kind", compression.getBytes(StandardCharsets.UTF_8))},
                        baseTimestamp + i);
                records.add(record);
                acks.add(producer.send(new ProducerRecord<>(topic, null, record.timestamp(), record.key(),
                        record.value(), Arrays.asList(record.headers()))));
            }
            producer.flush();
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata metadata = acks.get(i).get();
                sent.computeIfAbsent(metadata.partition(), p -> new TreeMap<>()).put(metadata.offset(), records.get(i));
            }
        }
        assertEquals(RECORDS, sent.values().stream().mapToInt(Map::size).sum());

        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            partitions.forEach(tp -> consumer.seek(tp, 0));
            Map<Integer, Long> nextOffset = new HashMap<>();
            int read = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (read < RECORDS && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    long expectedOffset = nextOffset.getOrDefault(record.partition(), 0L);
                    assertEquals(expectedOffset, record.offset(), "per-partition order");
                    nextOffset.put(record.partition(), expectedOffset + 1);
                    Sent expected = sent.get(record.partition()).get(record.offset());
                    assertNotNull(expected, "a record nobody sent at " + record.partition() + "/" + record.offset());
                    assertArrayEquals(expected.key(), record.key());
                    assertArrayEquals(expected.value(), record.value());
                    assertEquals(expected.timestamp(), record.timestamp());
                    Header[] headers = record.headers().toArray();
                    assertEquals(expected.headers().length, headers.length);
                    for (int h = 0; h < headers.length; h++) {
                        assertEquals(expected.headers()[h].key(), headers[h].key());
                        assertArrayEquals(expected.headers()[h].value(), headers[h].value());
                    }
                    read++;
                }
            }
            assertEquals(RECORDS, read, "records read back");
            assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty(), "nothing beyond what was sent");
        }

        long target = baseTimestamp + RECORDS / 2;
        Map<TopicPartition, OffsetSpec> byTime = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            byTime.put(new TopicPartition(topic, p), OffsetSpec.forTimestamp(target));
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> found = admin.listOffsets(byTime).all().get();
        for (int p = 0; p < PARTITIONS; p++) {
            long expected = -1;
            for (Map.Entry<Long, Sent> e : sent.get(p).entrySet()) {
                if (e.getValue().timestamp() >= target) {
                    expected = e.getKey();
                    break;
                }
            }
            ListOffsetsResult.ListOffsetsResultInfo info = found.get(new TopicPartition(topic, p));
            assertEquals(expected, info.offset(), "offset for timestamp in partition " + p);
            assertEquals(sent.get(p).get(expected).timestamp(), info.timestamp());
        }
    }

    @Test
    void earliestLatestAndMaxTimestampOffsets() throws Exception {
        String topic = "offsets";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps("none"))) {
            long[] timestamps = {now - 3000, now - 1000, now - 2000};
            for (long ts : timestamps) {
                producer.send(new ProducerRecord<>(topic, 0, ts, null, new byte[]{1})).get();
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        assertEquals(0, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset());
        assertEquals(3, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset());
        ListOffsetsResult.ListOffsetsResultInfo max = admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp()))
                .all().get().get(tp);
        assertEquals(1, max.offset());
        assertEquals(now - 1000, max.timestamp());
    }

    @Test
    void aWaitingFetchIsWokenByAProduce() throws Exception {
        String topic = "long-poll";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        String topicName = topic;
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            FetchRequestData fetch = new FetchRequestData().setMaxWaitMs(120_000).setMinBytes(1)
                    .setMaxBytes(1 << 20).setSessionEpoch(-1)
                    .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topicName)
                            .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                    .setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
            RequestHeader header = wire.send(org.apache.kafka.common.protocol.ApiKeys.FETCH, (short) 12, fetch);
            Thread.sleep(1000);
            assertFalse(wire.hasPendingBytes(), "a fetch with no data waits instead of answering at once");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps("none"))) {
                producer.send(new ProducerRecord<>(topic, 0, null, "wake".getBytes(StandardCharsets.UTF_8))).get();
            }
            FetchResponse response = (FetchResponse) wire.receive(header);
            FetchResponseData.PartitionData partition = response.data().responses().get(0).partitions().get(0);
            assertEquals(0, partition.errorCode());
            assertEquals(1, partition.highWatermark());
            assertTrue(partition.records().sizeInBytes() > 0, "the woken fetch carries the new record");
        }
    }

    static Properties producerProps(String compression) {
        return producerPropsFor(server.bootstrap(), compression);
    }

    static Properties producerPropsFor(String bootstrap, String compression) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 65536);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return props;
    }

    static Properties consumerProps() {
        return consumerPropsFor(server.bootstrap());
    }

    static Properties consumerPropsFor(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return props;
    }
}
