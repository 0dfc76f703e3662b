package dev.bulwark.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A run of stored bytes to send to a consumer: whole record batches, except that the last may be cut short by the
 * fetch's byte limit, as Kafka does (clients drop a partial trailing batch).
 */
public record LogSlice(FileChannel channel, long position, int length) {

    /** Reads the slice into {@code destination} (which must have {@code length} bytes free). */
    public void readInto(ByteBuffer destination) throws IOException {
        long at = position;
        int end = destination.position() + length;
        ByteBuffer view = destination.duplicate().limit(end);
        while (view.hasRemaining()) {
            int n = channel.read(view, at);
            if (n < 0) {
                throw new IOException("segment ended before " + (position + length));
            }
            at += n;
        }
        destination.position(end);
    }
}
