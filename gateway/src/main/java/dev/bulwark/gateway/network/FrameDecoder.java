package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.function.Consumer;

/**
 * Splits a connection's byte stream into Kafka request frames: a 4-byte big-endian size, then that many bytes.
 *
 * <p>A size above {@code socket.request.max.bytes} (or below the smallest request header) is refused as soon as
 * the 4 size bytes are in, before anything of that size is allocated. A frame that arrived whole in one network read
 * is handed on as a slice of that read's buffer; one split across reads is gathered into a buffer that grows as its
 * bytes arrive.
 */
final class FrameDecoder {

    /** The smallest request: api key, api version, correlation id and a null client id. */
    static final int MIN_FRAME_BYTES = 10;
    private static final int INITIAL_GATHER_BYTES = 64 * 1024;

    private final int maxFrameBytes;
    private final ByteBufAllocator allocator;
    private int size = -1;
    private int sizeBytesRead;
    private int partialSize;
    private ByteBuf gathering;

    FrameDecoder(int maxFrameBytes, ByteBufAllocator allocator) {
        this.maxFrameBytes = maxFrameBytes;
        this.allocator = allocator;
    }

    /** A size prefix that is not acceptable; the connection must be closed. */
    static final class InvalidFrameException extends Exception {
        InvalidFrameException(String message) {
            super(message);
        }
    }

    /**
     * Consumes {@code in} (without releasing it) and hands every complete frame to {@code sink}, which owns it and
     * must release it.
     */
    void decode(ByteBuf in, Consumer<ByteBuf> sink) throws InvalidFrameException {
        while (in.isReadable()) {
            if (size < 0) {
                if (sizeBytesRead == 0 && in.readableBytes() >= 4) {
                    size = checkSize(in.readInt());
                } else {
                    partialSize = (partialSize << 8) | in.readUnsignedByte();
                    if (++sizeBytesRead < 4) {
                        continue;
                    }
                    size = checkSize(partialSize);
                    sizeBytesRead = 0;
                    partialSize = 0;
                }
            }
            if (gathering == null && in.readableBytes() >= size) {
                ByteBuf frame = in.readRetainedSlice(size);
                size = -1;
                sink.accept(frame);
                continue;
            }
            if (gathering == null) {
                gathering = allocator.directBuffer(Math.min(size, INITIAL_GATHER_BYTES), size);
            }
            int n = Math.min(in.readableBytes(), size - gathering.readableBytes());
            gathering.writeBytes(in, n);
            if (gathering.readableBytes() == size) {
                ByteBuf frame = gathering;
                gathering = null;
                size = -1;
                sink.accept(frame);
            }
        }
    }

    private int checkSize(int declared) throws InvalidFrameException {
        if (declared < MIN_FRAME_BYTES) {
            throw new InvalidFrameException("invalid request size " + declared);
        }
        if (declared > maxFrameBytes) {
            throw new InvalidFrameException("request of " + declared + " bytes is larger than socket.request.max.bytes "
                    + maxFrameBytes);
        }
        return declared;
    }

    /** Frees a partly gathered frame; called when the connection closes. */
    void release() {
        if (gathering != null) {
            gathering.release();
            gathering = null;
        }
    }
}
