package dev.bulwark.gateway.network;

import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.PartitionLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterUserScramCredentialsResponse;
import org.apache.kafka.common.requests.DescribeUserScramCredentialsResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the broker serves, round-tripped the way a client sees it: for every API and every version in the ApiVersions
 * table, the real handler answers {@linkplain RepresentativeRequests representative requests} through the request
 * pipeline, against a real log store and group coordinator; each answer is encoded by {@link ResponseEncoder} at that
 * version and parsed back by kafka-clients. A field set that the version does not have fails the encode (on a real
 * connection the broker would close it); a field lost or mangled on the way fails the byte comparison.
 */
class ProtocolRoundTripTest {

    @TempDir
    static Path dir;

    private static BrokerParts broker;
    private static RepresentativeRequests requests;

    @BeforeAll
    static void start() throws IOException {
        broker = new BrokerParts(dir);
        requests = new RepresentativeRequests(broker);
    }

    @AfterAll
    static void stop() throws IOException {
        broker.close();
    }

    @Test
    void everyServedApiHasRepresentativeRequestsHere() {
        assertEquals(broker.apis.registrations().keySet(), requests.apis(),
                "an API is served only once this test round-trips it");
    }

    @Test
    void onlyStableVersionsAreAdvertised() {
        for (ApiRegistry.Registration api : broker.apis.registrations().values()) {
            assertTrue(api.maxVersion() <= api.key().latestVersion(false), api.key() + " v" + api.maxVersion()
                    + " is not a stable version yet: its schema may still change");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyApiAtEveryAdvertisedVersion() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ApiRegistry.Registration api : broker.apis.registrations().values()) {
            for (short v = api.minVersion(); v <= api.maxVersion(); v++) {
                short version = v;
                tests.add(DynamicTest.dynamicTest(api.key() + " v" + v, () -> roundTrip(api.key(), version)));
            }
        }
        return tests.stream();
    }

    private void roundTrip(ApiKeys key, short version) {
        List<ApiMessage> samples = requests.requests(key, version);
        for (int i = 0; i < samples.size(); i++) {
            String what = key + " v" + version + " request #" + (i + 1);
            Request request = broker.request(key, version, samples.get(i));
            // Answered without the test's clock moving; an administrative change waits for its audit entry's fsync.
            CompletableFuture<Reply> answer = broker.pipeline().process(request).toCompletableFuture()
                    .orTimeout(30, TimeUnit.SECONDS);
            Reply.Respond reply = assertInstanceOf(Reply.Respond.class, answer.join(), what);
            List<ByteBuf> stored = storedRecordBuffers(reply.body());
            try {
                AbstractResponse parsed = encodeAndParse(request, reply.body(), what);
                assertFalse(parsed.errorCounts().containsKey(Errors.UNKNOWN_SERVER_ERROR),
                        what + ": the handler failed (see the log)");
                checkFields(key, version, i, parsed, what);
            } finally {
                reply.release().run();
            }
            stored.forEach(buffer -> assertEquals(0, buffer.refCnt(), what + ": records read from disk leak"));
        }
    }

    /**
     * Encodes {@code body} as the connection does and parses it as a client does. kafka-clients' own serialisation of
     * what it parsed must be byte for byte what was sent: nothing lost, nothing misread.
     */
    private static AbstractResponse encodeAndParse(Request request, ApiMessage body, String what) {
        short version = request.version();
        short headerVersion = request.apiKey().responseHeaderVersion(version);
        int correlationId = request.context().header.correlationId();
        ByteBuf frame;
        try {
            frame = ResponseEncoder.encode(UnpooledByteBufAllocator.DEFAULT, correlationId, headerVersion, body,
                    version);
        } catch (RuntimeException e) {
            throw new AssertionError(what + ": the response cannot be written at this version, so the connection "
                    + "would be closed: " + e, e);
        }
        byte[] bytes;
        try {
            bytes = ByteBufUtil.getBytes(frame);
        } finally {
            frame.release();
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertEquals(bytes.length - 4, buffer.getInt(), what + ": size prefix");
        AbstractResponse parsed = AbstractResponse.parseResponse(buffer, request.context().header);
        assertFalse(buffer.hasRemaining(), what + ": bytes left over after the response");

        byte[] header = serialize(new ResponseHeaderData().setCorrelationId(correlationId), headerVersion);
        byte[] reserialized = serialize(parsed.data(), version);
        byte[] sent = Arrays.copyOfRange(bytes, 4, bytes.length);
        byte[] expected = new byte[header.length + reserialized.length];
        System.arraycopy(header, 0, expected, 0, header.length);
        System.arraycopy(reserialized, 0, expected, header.length, reserialized.length);
        assertArrayEquals(expected, sent, what + ": kafka-clients reads back something else than was sent");
        return parsed;
    }

    private static byte[] serialize(ApiMessage message, short version) {
        ByteBuffer buffer = MessageUtil.toByteBufferAccessor(message, version).buffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static List<ByteBuf> storedRecordBuffers(ApiMessage body) {
        List<ByteBuf> buffers = new ArrayList<>();
        if (body instanceof FetchResponseData fetch) {
            for (FetchResponseData.FetchableTopicResponse topic : fetch.responses()) {
                for (FetchResponseData.PartitionData partition : topic.partitions()) {
                    if (partition.records() instanceof ByteBufRecords records) {
                        buffers.add(records.buffer());
                    }
                }
            }
        }
        return buffers;
    }

    // ---------------------------------------------------------------- what a client must find in the answers

    private static void checkFields(ApiKeys key, short version, int sample, AbstractResponse parsed, String what) {
        switch (key) {
            case API_VERSIONS -> assertEquals(versionTable(broker.apis.versions()),
                    versionTable(((ApiVersionsResponse) parsed).data().apiKeys()), what);
            case METADATA -> {
                MetadataResponse metadata = (MetadataResponse) parsed;
                if (sample == 0) {
                    checkMetadata(version, metadata, what);
                } else if (sample == 2) {
                    List<Errors> byId = metadata.data().topics().stream().map(t -> Errors.forCode(t.errorCode()))
                            .toList();
                    assertEquals(version >= 12 ? List.of(Errors.NONE, Errors.UNKNOWN_TOPIC_ID)
                            : List.of(Errors.INVALID_REQUEST, Errors.INVALID_REQUEST), byId, what + ": by topic id");
                }
            }
            case FETCH -> checkFetch(version, (FetchResponse) parsed, what);
            case LIST_OFFSETS -> {
                if (sample == 1) {
                    long latest = ((ListOffsetsResponse) parsed).data().topics().get(0).partitions().get(0).offset();
                    assertEquals(broker.log(broker.orders, 0).highWatermark(), latest, what + ": latest offset");
                }
            }
            case JOIN_GROUP -> {
                JoinGroupResponse join = (JoinGroupResponse) parsed;
                if (version >= 4 && sample == 0) {
                    assertEquals(Errors.MEMBER_ID_REQUIRED, join.error(), what);
                    assertFalse(join.data().memberId().isEmpty(), what + ": the member id to come back with");
                } else if (join.error() == Errors.NONE) {
                    assertEquals(join.data().leader(), join.data().memberId(), what + ": this member leads");
                    assertFalse(join.data().members().isEmpty(), what + ": the leader gets the members");
                }
            }
            case SYNC_GROUP -> {
                if (sample == 0) {
                    assertArrayEquals(new byte[] {7, 7}, ((SyncGroupResponse) parsed).data().assignment(), what);
                }
            }
            case OFFSET_FETCH -> {
                OffsetFetchResponse offsets = (OffsetFetchResponse) parsed;
                long committed = version >= 8 ? offsets.data().groups().get(0).topics().stream()
                        .filter(t -> version >= 10 ? t.topicId().equals(broker.orders.id()) : t.name().equals("orders"))
                        .findFirst().orElseThrow().partitions().get(0).committedOffset()
                        : offsets.data().topics().get(0).partitions().get(0).committedOffset();
                assertEquals(RepresentativeRequests.COMMITTED_OFFSET, committed, what + ": orders-0");
            }
            case TXN_OFFSET_COMMIT -> assertEquals(Map.of(sample == 0 ? Errors.NONE : version >= 4
                            ? Errors.TRANSACTION_ABORTABLE : Errors.INVALID_TXN_STATE, 1,
                    Errors.UNKNOWN_TOPIC_OR_PARTITION, 2), parsed.errorCounts(), what + ": orders-0, then orders-99 "
                    + "and a missing topic; the second sample's group is not in the transaction");
            case DESCRIBE_GROUPS -> {
                List<DescribedGroup> groups = ((DescribeGroupsResponse) parsed).data().groups();
                assertEquals("Stable", groups.get(0).groupState(), what);
                assertEquals(1, groups.get(0).members().size(), what);
                assertEquals("Dead", groups.get(2).groupState(), what);
            }
            case SASL_HANDSHAKE, SASL_AUTHENTICATE -> assertEquals(Map.of(Errors.ILLEGAL_SASL_STATE, 1),
                    parsed.errorCounts(), what + ": no SASL exchange on a PLAINTEXT connection");
            case DESCRIBE_USER_SCRAM_CREDENTIALS -> {
                var results = ((DescribeUserScramCredentialsResponse) parsed).data().results();
                assertEquals(BrokerParts.OPERATOR.user(), results.get(0).user(), what);
                assertEquals(Set.of((byte) 1, (byte) 2), results.get(0).credentialInfos().stream()
                        .map(c -> c.mechanism()).collect(Collectors.toSet()), what + ": both SCRAM mechanisms");
                if (sample == 1) {
                    assertEquals(Errors.RESOURCE_NOT_FOUND.code(), results.get(1).errorCode(), what + ": nobody");
                }
            }
            case ALTER_USER_SCRAM_CREDENTIALS -> assertEquals(Set.of("alice:NONE", "nobody:RESOURCE_NOT_FOUND"),
                    ((AlterUserScramCredentialsResponse) parsed).data().results().stream()
                            .map(r -> r.user() + ":" + Errors.forCode(r.errorCode())).collect(Collectors.toSet()),
                    what);
            default -> { }
        }
    }

    private static Set<String> versionTable(Iterable<ApiVersion> versions) {
        Set<String> table = new java.util.TreeSet<>();
        versions.forEach(v -> table.add(v.apiKey() + ":" + v.minVersion() + "-" + v.maxVersion()));
        return table;
    }

    private static void checkMetadata(short version, MetadataResponse metadata, String what) {
        assertEquals(List.of(BrokerParts.NODE_ID + "@127.0.0.1:9092"), metadata.data().brokers().stream()
                .map(b -> b.nodeId() + "@" + b.host() + ":" + b.port()).collect(Collectors.toList()), what);
        MetadataResponseTopic orders = metadata.data().topics().find("orders");
        assertEquals(Errors.NONE.code(), orders.errorCode(), what);
        assertEquals(2, orders.partitions().size(), what);
        assertEquals(BrokerParts.NODE_ID, orders.partitions().get(0).leaderId(), what);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), metadata.data().topics().find("missing").errorCode(),
                what);
        if (version >= 2) {
            assertEquals(broker.cluster.clusterId(), metadata.data().clusterId(), what);
        }
        if (version >= 10) {
            assertEquals(broker.orders.id(), orders.topicId(), what);
        }
    }

    private static void checkFetch(short version, FetchResponse fetch, String what) {
        FetchResponseData.PartitionData orders0 = fetch.data().responses().get(0).partitions().get(0);
        assertEquals(Errors.NONE.code(), orders0.errorCode(), what);
        PartitionLog log = broker.log(broker.orders, 0);
        assertEquals(log.highWatermark(), orders0.highWatermark(), what);
        LogSlice slice = log.read(0, 1 << 20, true).slice().orElseThrow();
        ByteBuffer expected = ByteBuffer.allocate(slice.length());
        try {
            slice.readInto(expected);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        expected.flip();
        assertEquals(expected, ((MemoryRecords) orders0.records()).buffer(), what + ": the stored batches, as stored");
        FetchResponseData.PartitionData unknown = fetch.data().responses().get(1).partitions().get(0);
        assertEquals((version >= 13 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code(),
                unknown.errorCode(), what);
    }
}
