package dev.bulwark.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A run of stored batches to send to a consumer, opened from their sealed frames as they are read: whole record
 * batches in Kafka's RecordBatch v2 layout, except that the last may be cut short by the fetch's byte limit, as Kafka
 * does (clients drop a partial trailing batch). A cut batch is opened whole, and only then cut: nothing is served
 * that did not authenticate.
 *
 * <p>A batch that does not open is never copied out: {@link #readInto} fails, the partition fences the frame (its
 * offsets then fail every fetch with KAFKA_STORAGE_ERROR, and the fence is kept in the partition's checkpoint), and the
 * log names the segment, position and offset.
 */
public final class LogSlice {

    /** Told when a frame of the slice does not open. */
    interface UnopenableBatch {
        void fence(Segment segment, Segment.SealedBatchException failure);
    }

    private final Segment segment;
    private final List<Segment.Located> frames;
    private final int length;
    private final int lastLength;
    private final UnopenableBatch onFailure;

    LogSlice(Segment segment, List<Segment.Located> frames, int length, int lastLength, UnopenableBatch onFailure) {
        this.segment = segment;
        this.frames = List.copyOf(frames);
        this.length = length;
        this.lastLength = lastLength;
        this.onFailure = onFailure;
    }

    /** The number of bytes {@link #readInto} writes: those of the batches, opened. */
    public int length() {
        return length;
    }

    /**
     * Opens the slice into {@code destination} (which must have {@link #length} bytes free) and moves its position
     * past them.
     *
     * @throws IOException when a batch does not open or the segment cannot be read; what was written to
     *                     {@code destination} then must not be sent
     */
    public void readInto(ByteBuffer destination) throws IOException {
        if (destination.remaining() < length) {
            throw new IllegalArgumentException("a slice of " + length + " bytes does not fit in "
                    + destination.remaining());
        }
        int start = destination.position();
        ByteBuffer view = destination.duplicate();
        Segment.Located last = frames.get(frames.size() - 1);
        boolean cut = lastLength < last.frame().batchSize();
        try {
            segment.readRun(cut ? frames.subList(0, frames.size() - 1) : frames, view);
            if (cut) {
                ByteBuffer whole = ByteBuffer.allocate(last.frame().batchSize());
                segment.readRun(List.of(last), whole);
                view.put(whole.flip().limit(lastLength));
            }
        } catch (Segment.SealedBatchException e) {
            onFailure.fence(segment, e);
            throw e;
        }
        if (view.position() != start + length) {
            throw new IOException(segment + ": a slice of " + length + " bytes opened to " + (view.position() - start));
        }
        destination.position(start + length);
    }
}
