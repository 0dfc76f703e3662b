package dev.bulwark.gateway.it;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DescribeDelegationTokenRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed and hostile input: the connection closes or Kafka's error code comes back, the log says why, and the
 * server goes on serving everyone else.
 */
@Timeout(180)
class BadInputIT {

    private static final Duration CLOSE_WITHIN = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of("BULWARK_KAFKA_MESSAGE_MAX_BYTES", "10000"));
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(10_000);
            create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("target").setNumPartitions(1)
                    .setReplicationFactor((short) 1));
            create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("quiet").setNumPartitions(1)
                    .setReplicationFactor((short) 1));
            CreateTopicsResponse response = (CreateTopicsResponse) wire.receive(
                    wire.send(ApiKeys.CREATE_TOPICS, (short) 7, create));
            assertEquals(0, response.data().topics().find("target").errorCode());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        assertEquals(0, server.stop());
    }

    @AfterEach
    void serverStillServesOthers() throws Exception {
        assertTrue(server.isAlive());
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            MetadataResponse metadata = (MetadataResponse) wire.receive(wire.send(ApiKeys.METADATA, (short) 12,
                    new MetadataRequestData().setTopics(null)));
            assertEquals(1, metadata.data().brokers().size());
        }
    }

    @Test
    void oversizedFrameClosesTheConnection() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            wire.sendRaw(ByteBuffer.allocate(4).putInt(200 * 1024 * 1024).array());
            assertTrue(wire.closedByServer(CLOSE_WITHIN));
        }
        assertTrue(server.log().contains("larger than socket.request.max.bytes"), "the log says why");
    }

    @Test
    void garbageBytesCloseTheConnection() throws Exception {
        byte[] garbage = new byte[64];
        new Random(42).nextBytes(garbage);
        ByteBuffer frame = ByteBuffer.allocate(68).putInt(64).put(garbage);
        frame.putShort(4, (short) 7777);
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            wire.sendRaw(frame.array());
            assertTrue(wire.closedByServer(CLOSE_WITHIN));
        }
        assertTrue(server.log().contains("invalid request header"), "the log says why");
    }

    @Test
    void negativeSizeClosesTheConnection() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            wire.sendRaw(ByteBuffer.allocate(4).putInt(-1).array());
            assertTrue(wire.closedByServer(CLOSE_WITHIN));
        }
        assertTrue(server.log().contains("invalid request size -1"));
    }

    @Test
    void anApiThatIsNotServedClosesTheConnection() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            wire.send(ApiKeys.DESCRIBE_DELEGATION_TOKEN, (short) 3, new DescribeDelegationTokenRequestData());
            assertTrue(wire.closedByServer(CLOSE_WITHIN));
        }
        assertTrue(server.log().contains("DESCRIBE_DELEGATION_TOKEN v3 is not served here"));
    }

    @Test
    void anUnsupportedVersionClosesTheConnection() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            ByteBuffer frame = ByteBuffer.allocate(4 + 11);
            frame.putInt(11).putShort(ApiKeys.METADATA.id).putShort((short) 99).putInt(5).putShort((short) -1)
                    .put((byte) 0);
            wire.sendRaw(frame.array());
            assertTrue(wire.closedByServer(CLOSE_WITHIN));
        }
        assertTrue(server.log().contains("METADATA v99 is not served here"));
    }

    @Test
    void anUnsupportedApiVersionsVersionGetsTheTableAtVersionZero() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            ByteBuffer frame = ByteBuffer.allocate(4 + 11);
            frame.putInt(11).putShort(ApiKeys.API_VERSIONS.id).putShort((short) 99).putInt(7).putShort((short) -1)
                    .put((byte) 0);
            wire.sendRaw(frame.array());
            ByteBuffer response = ByteBuffer.wrap(wire.receiveFrame());
            assertEquals(7, ResponseHeader.parse(response, (short) 0).correlationId());
            ApiVersionsResponseData data = ApiVersionsResponse.parse(
                    new org.apache.kafka.common.protocol.ByteBufferAccessor(response), (short) 0).data();
            assertEquals(Errors.UNSUPPORTED_VERSION.code(), data.errorCode());
            assertTrue(data.apiKeys().find(ApiKeys.PRODUCE.id) != null);
        }
    }

    @Test
    void aBadCrcGetsCorruptMessage() throws Exception {
        ByteBuffer batch = validBatch();
        batch.put(batch.limit() - 3, (byte) (batch.get(batch.limit() - 3) ^ 0x5A));
        assertEquals(Errors.CORRUPT_MESSAGE, produce(batch));
        awaitLog("CRC mismatch", batch);
    }

    @Test
    void aTruncatedBatchGetsCorruptMessage() throws Exception {
        ByteBuffer batch = validBatch();
        ByteBuffer truncated = ByteBuffer.wrap(Arrays.copyOf(batch.array(), batch.limit() - 10));
        assertEquals(Errors.CORRUPT_MESSAGE, produce(truncated));
        awaitLog("truncated batch", truncated);
    }

    /**
     * Refusals are logged at most once a second, so one can go unlogged behind another test's: the bad batch is sent
     * again until its refusal is in the log.
     */
    private static void awaitLog(String text, ByteBuffer batch) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!server.log().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log does not say: " + text);
            }
            Thread.sleep(300);
            assertEquals(Errors.CORRUPT_MESSAGE, produce(batch));
        }
    }

    @Test
    void aBatchOverMaxMessageBytesGetsMessageTooLarge() throws Exception {
        MemoryRecords big = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(new byte[20_000]));
        assertEquals(Errors.MESSAGE_TOO_LARGE, produce(big.buffer()));
    }

    @Test
    void pipelinedRequestsAreAnsweredInRequestOrder() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            FetchRequestData slow = new FetchRequestData().setMaxWaitMs(1500).setMinBytes(1).setMaxBytes(1 << 20)
                    .setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic().setTopic("quiet")
                            .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                    .setFetchOffset(0).setPartitionMaxBytes(1 << 20)))));
            List<RequestHeader> sent = List.of(
                    wire.send(ApiKeys.FETCH, (short) 12, slow),
                    wire.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData().setTopics(null)),
                    wire.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                            .setClientSoftwareName("wire").setClientSoftwareVersion("1")));
            // The fetch waits for data that never comes; the two quick requests behind it wait for its answer.
            for (RequestHeader header : sent) {
                ByteBuffer frame = ByteBuffer.wrap(wire.receiveFrame());
                assertEquals(header.correlationId(), frame.getInt(0), "responses come back in request order");
            }
        }
    }

    @Test
    void aValidBatchIsAcceptedAfterAllThat() throws Exception {
        assertEquals(Errors.NONE, produce(validBatch()));
    }

    private static ByteBuffer validBatch() {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord("key".getBytes(StandardCharsets.UTF_8), "a perfectly fine value".getBytes(StandardCharsets.UTF_8)),
                new SimpleRecord("key2".getBytes(StandardCharsets.UTF_8), "another value".getBytes(StandardCharsets.UTF_8)));
        ByteBuffer copy = ByteBuffer.allocate(records.sizeInBytes());
        copy.put(records.buffer().duplicate()).flip();
        return copy;
    }

    private static Errors produce(ByteBuffer batch) throws Exception {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("target");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.readableRecords(batch.duplicate())));
        request.topicData().add(topic);
        try (KafkaWire wire = KafkaWire.connect(server.port())) {
            RequestHeader header = wire.send(ApiKeys.PRODUCE, (short) 9, request);
            ProduceResponse response = (ProduceResponse) wire.receive(header);
            List<org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse> partitions =
                    response.data().responses().iterator().next().partitionResponses();
            return Errors.forCode(partitions.get(0).errorCode());
        }
    }
}
