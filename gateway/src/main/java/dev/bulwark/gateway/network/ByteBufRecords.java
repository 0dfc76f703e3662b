package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

import java.io.IOException;

/**
 * Stored record batches read into a (pooled, direct) Netty buffer, placed in a fetch response as they are: the
 * {@link ResponseEncoder} adds the buffer to the outgoing message without copying it, and releasing the message
 * releases it.
 */
public final class ByteBufRecords implements BaseRecords {

    private final ByteBuf buffer;

    public ByteBufRecords(ByteBuf buffer) {
        this.buffer = buffer;
    }

    ByteBuf buffer() {
        return buffer;
    }

    @Override
    public int sizeInBytes() {
        return buffer.readableBytes();
    }

    @Override
    public RecordsSend<ByteBufRecords> toSend() {
        return new RecordsSend<>(this, buffer.readableBytes()) {
            @Override
            protected int writeTo(TransferableChannel channel, int previouslyWritten, int remaining) throws IOException {
                return channel.write(buffer.nioBuffer(buffer.readerIndex() + previouslyWritten, remaining));
            }
        };
    }
}
