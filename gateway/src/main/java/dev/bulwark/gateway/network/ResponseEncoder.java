package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

import java.nio.ByteBuffer;

/**
 * Writes a response frame (size, header, body) with the generated message classes' own serialisation into Netty
 * buffers. Record batches read from disk ({@link ByteBufRecords}) become components of the frame instead of being
 * copied into it.
 */
final class ResponseEncoder implements Writable {

    private static final int STRUCTURE_CHUNK = 16 * 1024;

    private final ByteBufAllocator allocator;
    private ByteBuf current;
    private CompositeByteBuf composite;

    private ResponseEncoder(ByteBufAllocator allocator, int initialCapacity) {
        this.allocator = allocator;
        this.current = allocator.directBuffer(initialCapacity);
    }

    /** Encodes a whole response frame; the caller owns (and the socket write releases) the returned buffer. */
    static ByteBuf encode(ByteBufAllocator allocator, int correlationId, short headerVersion, ApiMessage body,
                          short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int size = header.size(cache, headerVersion) + body.size(cache, version);
        ResponseEncoder encoder = new ResponseEncoder(allocator, Math.min(4 + size, STRUCTURE_CHUNK));
        try {
            encoder.writeInt(size);
            header.write(encoder, cache, headerVersion);
            body.write(encoder, cache, version);
            return encoder.finish();
        } catch (RuntimeException e) {
            encoder.discard();
            throw e;
        }
    }

    private ByteBuf finish() {
        if (composite == null) {
            return current;
        }
        if (current.isReadable()) {
            composite.addComponent(true, current);
        } else {
            current.release();
        }
        current = null;
        return composite;
    }

    private void discard() {
        if (current != null) {
            current.release();
        }
        if (composite != null) {
            composite.release();
        }
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof ByteBufRecords stored) {
            if (composite == null) {
                composite = allocator.compositeDirectBuffer(Integer.MAX_VALUE);
            }
            composite.addComponent(true, current);
            composite.addComponent(true, stored.buffer().retainedDuplicate());
            current = allocator.directBuffer(256);
        } else if (records instanceof MemoryRecords memory) {
            writeByteBuffer(memory.buffer());
        } else {
            throw new IllegalArgumentException("cannot encode records of type " + records.getClass().getName());
        }
    }

    @Override
    public void writeByte(byte val) {
        current.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        current.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        current.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        current.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        current.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        current.writeBytes(arr);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        current.writeBytes(buf.duplicate());
    }

    @Override
    public void writeUnsignedVarint(int i) {
        int value = i;
        while ((value & 0xFFFFFF80) != 0) {
            current.writeByte((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        current.writeByte(value);
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long i) {
        long value = (i << 1) ^ (i >> 63);
        while ((value & 0xFFFFFFFFFFFFFF80L) != 0L) {
            current.writeByte(((int) value & 0x7F) | 0x80);
            value >>>= 7;
        }
        current.writeByte((int) value);
    }
}
