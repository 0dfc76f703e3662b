package dev.bulwark.gateway.network;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

import java.io.IOException;
import java.util.Optional;

/**
 * Stored record batches read into a (pooled, direct) Netty buffer, placed in a fetch response as they are: the
 * {@link ResponseEncoder} adds the buffer to the outgoing message without copying it, and releasing the message
 * releases it.
 */
public final class ByteBufRecords implements BaseRecords {

    /** A v2 record batch's header: 61 bytes. */
    private static final int BATCH_HEADER = 61;

    private final ByteBuf buffer;

    public ByteBufRecords(ByteBuf buffer) {
        this.buffer = buffer;
    }

    ByteBuf buffer() {
        return buffer;
    }

    /** How many records the batches hold, and their first and last offsets. */
    public record Extent(long records, long firstOffset, long lastOffset) {
    }

    /**
     * The extent of the batches, read from their headers in place (record count at byte 57 of a v2 batch, last offset
     * delta at 23); empty when there is no whole batch.
     */
    public Optional<Extent> extent() {
        int position = buffer.readerIndex();
        int end = buffer.writerIndex();
        long records = 0;
        long first = -1;
        long last = -1;
        while (end - position >= BATCH_HEADER) {
            long base = buffer.getLong(position);
            int length = buffer.getInt(position + 8);
            if (length < BATCH_HEADER - 12 || end - position < 12 + length) {
                break;
            }
            first = first < 0 ? base : first;
            last = base + buffer.getInt(position + 23);
            records += buffer.getInt(position + 57);
            position += 12 + length;
        }
        return first < 0 ? Optional.empty() : Optional.of(new Extent(records, first, last));
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
