package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordsSend;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Response frames as the connection writes them: the size, the header and the body that kafka-clients' own
 * serialisation would produce, with stored record batches placed in the frame as they are, and every buffer released
 * once the frame and the response are.
 */
class ResponseEncoderTest {

    private static final short FETCH_VERSION = ApiKeys.FETCH.latestVersion(false);
    private static final int CORRELATION_ID = 1234;

    private final CountingAllocator allocator = new CountingAllocator();
    /** Stand-ins for batches read from disk: the fetch handler owns them and releases them after the write. */
    private final List<ByteBuf> stored = new ArrayList<>();

    @AfterEach
    void everythingIsReleased() {
        stored.forEach(ByteBuf::release);
        stored.forEach(b -> assertEquals(0, b.refCnt(), "a stored batch buffer is still referenced"));
        assertEquals(List.of(), allocator.unreleased(), "a frame buffer is still referenced");
    }

    @Test
    void storedBatchesEndUpInTheFrameByteForByte() {
        MemoryRecords first = batches("a", "b", "c");
        MemoryRecords second = batches("d");
        FetchResponseData response = fetch(new ByteBufRecords(storedCopy(first)),
                new ByteBufRecords(storedCopy(second)));

        ByteBuf frame = encode(response, FETCH_VERSION);
        try {
            assertArrayEquals(kafkaFrame(fetch(first, second), FETCH_VERSION), ByteBufUtil.getBytes(frame));
            assertInstanceOf(CompositeByteBuf.class, frame, "the batches are components of the frame, not copies");
            stored.forEach(b -> assertEquals(2, b.refCnt(), "the frame holds the stored batches while it lives"));
        } finally {
            frame.release();
        }
        stored.forEach(b -> assertEquals(1, b.refCnt(), "releasing the frame gives them back to their owner"));
    }

    @Test
    void storedBatchesNotAtTheStartOfTheirBufferAreWrittenFromTheirReaderIndex() {
        MemoryRecords records = batches("x", "y");
        ByteBuf buffer = Unpooled.directBuffer();
        stored.add(buffer);
        buffer.writeBytes(new byte[] {9, 9, 9}).writeBytes(records.buffer()).readerIndex(3);

        ByteBuf frame = encode(fetch(new ByteBufRecords(buffer)), FETCH_VERSION);
        try {
            assertArrayEquals(kafkaFrame(fetch(records), FETCH_VERSION), ByteBufUtil.getBytes(frame));
        } finally {
            frame.release();
        }
    }

    @Test
    void memoryRecordsAndEmptyPartitionsAreCopiedIntoOneBuffer() {
        FetchResponseData response = fetch(batches("m"), MemoryRecords.EMPTY);

        ByteBuf frame = encode(response, FETCH_VERSION);
        try {
            assertArrayEquals(kafkaFrame(response, FETCH_VERSION), ByteBufUtil.getBytes(frame));
        } finally {
            frame.release();
        }
    }

    @Test
    void everyFetchVersionWritesWhatKafkaWrites() {
        for (short v = ApiKeys.FETCH.oldestVersion(); v <= FETCH_VERSION; v++) {
            MemoryRecords records = batches("v" + v);
            FetchResponseData stored = fetch(new ByteBufRecords(storedCopy(records)));
            FetchResponseData memory = fetch(records);
            for (FetchResponseData response : List.of(stored, memory)) {
                if (v < 7) {
                    response.setSessionId(0);
                }
                if (v >= 13) {
                    response.responses().get(0).setTopic("").setTopicId(Uuid.ONE_UUID);
                }
            }

            ByteBuf frame = encode(stored, v);
            try {
                assertArrayEquals(kafkaFrame(memory, v), ByteBufUtil.getBytes(frame), "Fetch v" + v);
            } finally {
                frame.release();
            }
        }
    }

    @Test
    void aResponseLargerThanTheFirstChunkGrowsItsBuffer() {
        MetadataResponseData metadata = new MetadataResponseData().setClusterId("c");
        for (int i = 0; i < 2_000; i++) {
            metadata.topics().add(new MetadataResponseData.MetadataResponseTopic().setName("topic-" + i));
        }
        short version = ApiKeys.METADATA.latestVersion(false);

        ByteBuf frame = encode(metadata, version);
        try {
            byte[] expected = kafkaFrame(metadata, version);
            assertEquals(true, expected.length > 16 * 1024);
            assertArrayEquals(expected, ByteBufUtil.getBytes(frame));
        } finally {
            frame.release();
        }
    }

    @Test
    void aResponseThatCannotBeWrittenReleasesWhatWasAlreadyEncoded() {
        BaseRecords unsupported = new BaseRecords() {
            @Override
            public int sizeInBytes() {
                return 10;
            }

            @Override
            public RecordsSend<?> toSend() {
                throw new UnsupportedOperationException("records the encoder cannot write, on purpose");
            }
        };
        FetchResponseData response = fetch(new ByteBufRecords(storedCopy(batches("kept"))), unsupported);

        assertThrows(IllegalArgumentException.class, () -> encode(response, FETCH_VERSION));

        stored.forEach(b -> assertEquals(1, b.refCnt(), "the stored batch is its owner's again"));
    }

    // ---------------------------------------------------------------- helpers

    private ByteBuf encode(ApiMessage body, short version) {
        ApiKeys key = ApiKeys.forId(body.apiKey());
        return ResponseEncoder.encode(allocator, CORRELATION_ID, key.responseHeaderVersion(version), body, version);
    }

    /** The frame kafka-clients' own serialisation produces: size, header, body. */
    private static byte[] kafkaFrame(ApiMessage body, short version) {
        ApiKeys key = ApiKeys.forId(body.apiKey());
        ByteBuffer header = MessageUtil.toByteBufferAccessor(new ResponseHeaderData().setCorrelationId(CORRELATION_ID),
                key.responseHeaderVersion(version)).buffer();
        ByteBuffer content = MessageUtil.toByteBufferAccessor(body, version).buffer();
        return ByteBuffer.allocate(4 + header.remaining() + content.remaining())
                .putInt(header.remaining() + content.remaining()).put(header).put(content).array();
    }

    /** A direct buffer holding a copy of the batches, as the fetch handler reads them from a segment. */
    private ByteBuf storedCopy(MemoryRecords records) {
        ByteBuf buffer = Unpooled.directBuffer(records.sizeInBytes());
        buffer.writeBytes(records.buffer());
        stored.add(buffer);
        return buffer;
    }

    private static MemoryRecords batches(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(1_700_000_000_000L + i, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    private static FetchResponseData fetch(BaseRecords... partitions) {
        FetchableTopicResponse topic = new FetchableTopicResponse().setTopic("orders");
        for (int p = 0; p < partitions.length; p++) {
            topic.partitions().add(new PartitionData().setPartitionIndex(p).setHighWatermark(100)
                    .setLastStableOffset(100).setLogStartOffset(0).setRecords(partitions[p]));
        }
        return new FetchResponseData().setSessionId(7).setResponses(new ArrayList<>(List.of(topic)));
    }
}
