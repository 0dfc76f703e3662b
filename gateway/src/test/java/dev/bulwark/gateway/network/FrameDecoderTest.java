package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cutting a connection's bytes into request frames: however the bytes arrive, the frames come out whole and in order,
 * a size prefix out of bounds is refused before anything of that size is allocated, and every buffer is released.
 */
class FrameDecoderTest {

    private static final int MAX = 1 << 20;

    private final CountingAllocator allocator = new CountingAllocator();
    private final FrameDecoder decoder = new FrameDecoder(MAX, allocator);
    private final List<byte[]> frames = new ArrayList<>();
    /** What the test feeds the decoder; each read is released after decode, as the connection does. */
    private final List<ByteBuf> reads = new ArrayList<>();

    @AfterEach
    void everyBufferIsReleased() {
        reads.forEach(read -> assertEquals(0, read.refCnt(), "a network read is still referenced"));
        assertEquals(List.of(), allocator.unreleased(), "a frame buffer is still referenced");
    }

    @Test
    void framesSplitAtEveryByteBoundaryComeOutWhole() throws Exception {
        byte[][] sent = {payload(10, 1), payload(37, 2), payload(300, 3)};
        byte[] stream = concat(sent);

        for (int cut = 0; cut <= stream.length; cut++) {
            frames.clear();
            feed(slice(stream, 0, cut));
            feed(slice(stream, cut, stream.length));

            assertFrames(sent, "cut at byte " + cut);
        }
    }

    @Test
    void framesSplitIntoThreeReadsAtAnyTwoBoundariesComeOutWhole() throws Exception {
        byte[][] sent = {payload(10, 1), payload(25, 2), payload(12, 3)};
        byte[] stream = concat(sent);

        for (int first = 0; first <= stream.length; first++) {
            for (int second = first; second <= stream.length; second++) {
                frames.clear();
                feed(slice(stream, 0, first));
                feed(slice(stream, first, second));
                feed(slice(stream, second, stream.length));

                assertFrames(sent, "cuts at " + first + " and " + second);
            }
        }
    }

    @Test
    void aFrameLargerThanTheFirstGatherBufferArrivingByteByByte() throws Exception {
        byte[][] sent = {payload(100_000, 4), payload(10, 5)};
        byte[] stream = concat(sent);

        for (int i = 0; i < stream.length; i++) {
            feed(slice(stream, i, i + 1));
        }

        assertFrames(sent, "one byte per read");
        assertTrue(allocator.requestedCapacities().stream().allMatch(c -> c <= 64 * 1024),
                "a gather buffer starts small and grows as bytes arrive: " + allocator.requestedCapacities());
    }

    @Test
    void randomlyChunkedStreamsOfManyFrames() throws Exception {
        Random random = new Random(20_231_114);
        for (int round = 0; round < 50; round++) {
            byte[][] sent = new byte[1 + random.nextInt(20)][];
            for (int i = 0; i < sent.length; i++) {
                sent[i] = payload(FrameDecoder.MIN_FRAME_BYTES + random.nextInt(random.nextBoolean() ? 50 : 90_000),
                        random.nextInt());
            }
            byte[] stream = concat(sent);
            frames.clear();
            for (int at = 0; at < stream.length; ) {
                int n = Math.min(stream.length - at, 1 + random.nextInt(random.nextBoolean() ? 7 : 70_000));
                feed(slice(stream, at, at + n));
                at += n;
            }

            assertFrames(sent, "round " + round);
        }
    }

    @Test
    void severalFramesInOneReadAreSlicesOfItAndAllocateNothing() throws Exception {
        byte[][] sent = {payload(10, 1), payload(11, 2), payload(500, 3), payload(12, 4)};
        ByteBuf read = Unpooled.wrappedBuffer(concat(sent));
        List<ByteBuf> out = new ArrayList<>();

        decoder.decode(read, out::add);

        assertEquals(4, out.size());
        assertEquals(List.of(), allocator.allocated(), "whole frames are not copied");
        assertEquals(5, read.refCnt(), "each frame holds the read it is a slice of");
        for (int i = 0; i < sent.length; i++) {
            assertArrayEquals(sent[i], ByteBufUtil.getBytes(out.get(i)));
            out.get(i).release();
        }
        read.release();
        assertEquals(0, read.refCnt());
    }

    @Test
    void aSizeAboveTheMaximumIsRefusedBeforeAnythingIsAllocated() {
        assertRefused(Unpooled.buffer().writeInt(MAX + 1));
        assertRefused(Unpooled.buffer().writeInt(Integer.MAX_VALUE));
    }

    @Test
    void aSizeBelowTheSmallestRequestOrNegativeIsRefused() {
        assertRefused(Unpooled.buffer().writeInt(FrameDecoder.MIN_FRAME_BYTES - 1));
        assertRefused(Unpooled.buffer().writeInt(0));
        assertRefused(Unpooled.buffer().writeInt(-1));
    }

    @Test
    void aSizePrefixSplitAcrossReadsIsCheckedOnceWhole() throws Exception {
        byte[] prefix = ByteBuffer.allocate(4).putInt(MAX + 1).array();

        feed(slice(prefix, 0, 1));
        feed(slice(prefix, 1, 3));
        ByteBuf last = Unpooled.wrappedBuffer(slice(prefix, 3, 4));
        reads.add(last);
        try {
            assertThrows(FrameDecoder.InvalidFrameException.class, () -> decoder.decode(last, this::collect));
        } finally {
            last.release();
        }

        assertEquals(List.of(), allocator.allocated());
    }

    @Test
    void theLargestAllowedFrameIsAccepted() throws Exception {
        FrameDecoder atLimit = new FrameDecoder(300, allocator);
        ByteBuf read = Unpooled.wrappedBuffer(frame(payload(300, 9)));
        List<ByteBuf> out = new ArrayList<>();

        atLimit.decode(read, out::add);
        read.release();

        assertEquals(1, out.size());
        out.get(0).release();
    }

    @Test
    void framesHandedOnBeforeABadSizeInTheSameReadAreTheSinksAndNothingElseIsHeld() {
        ByteBuf read = Unpooled.buffer();
        read.writeBytes(frame(payload(20, 1))).writeInt(MAX + 1).writeBytes(new byte[64]);
        reads.add(read);
        List<ByteBuf> out = new ArrayList<>();

        try {
            assertThrows(FrameDecoder.InvalidFrameException.class, () -> decoder.decode(read, out::add));
        } finally {
            read.release();
        }

        assertEquals(1, out.size());
        assertEquals(1, read.refCnt(), "the frame handed on still holds the read");
        out.get(0).release();
        decoder.release();
    }

    @Test
    void aPartlyGatheredFrameIsFreedWhenTheConnectionCloses() throws Exception {
        byte[] stream = frame(payload(5_000, 7));

        feed(slice(stream, 0, 3_000));
        assertEquals(1, allocator.allocated().size(), "the frame is being gathered");
        assertEquals(1, allocator.allocated().get(0).refCnt());
        decoder.release();

        assertEquals(List.of(), frames);
    }

    // ---------------------------------------------------------------- helpers

    /** The sink: takes each frame the decoder hands on, keeps a copy, releases it. */
    private void collect(ByteBuf frame) {
        frames.add(ByteBufUtil.getBytes(frame));
        frame.release();
    }

    /** Hands one network read to the decoder, which must not release it; the sink takes and releases frames. */
    private void feed(byte[] bytes) throws FrameDecoder.InvalidFrameException {
        // Not wrappedBuffer: an empty one is Netty's shared EMPTY_BUFFER, which ignores release().
        ByteBuf read = Unpooled.buffer(bytes.length).writeBytes(bytes);
        reads.add(read);
        try {
            decoder.decode(read, this::collect);
            assertEquals(1, read.refCnt(), "the decoder consumes a read but leaves it to the connection");
        } finally {
            read.release();
        }
    }

    private void assertRefused(ByteBuf read) {
        reads.add(read);
        try {
            assertThrows(FrameDecoder.InvalidFrameException.class, () -> decoder.decode(read, this::collect));
        } finally {
            read.release();
        }
        assertEquals(List.of(), allocator.allocated(), "nothing may be allocated for a size that is refused");
        assertEquals(List.of(), frames);
    }

    private void assertFrames(byte[][] sent, String how) {
        assertEquals(sent.length, frames.size(), how);
        for (int i = 0; i < sent.length; i++) {
            assertArrayEquals(sent[i], frames.get(i), how + ", frame " + i);
        }
    }

    private static byte[] payload(int size, int seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] frame(byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
    }

    private static byte[] concat(byte[][] payloads) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] payload : payloads) {
            out.writeBytes(frame(payload));
        }
        return out.toByteArray();
    }

    private static byte[] slice(byte[] bytes, int from, int to) {
        return java.util.Arrays.copyOfRange(bytes, from, to);
    }
}
