package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One segment file of a partition log: Kafka RecordBatch v2 bytes, as producers sent them with the broker's offsets,
 * after a small header.
 *
 * <pre>
 * offset  length  field
 * 0       4       magic "BWLG"
 * 4       1       format version (1)
 * 5       3       reserved, zero
 * 8       8       base offset (also the file name, 20 digits)
 * 16      ...     record batches, back to back
 * </pre>
 *
 * <p>Design note: this class owns the segment's file I/O. Appends happen under the partition's lock, reads happen
 * concurrently from any thread with positional reads; {@code size} and {@code nextOffset} are published after the
 * bytes are written, so a reader bounded by them never sees a half-written batch.
 */
final class Segment implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Segment.class);

    static final int HEADER_SIZE = 16;
    static final int FILE_MAGIC = 0x42574C47; // "BWLG"
    static final byte FORMAT_VERSION = 1;
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String DELETED_SUFFIX = ".deleted";

    final long baseOffset;
    private Path logPath;
    private Path indexPath;
    private final FileChannel channel;
    private SegmentIndex index = new SegmentIndex();
    private final List<CorruptRange> corruptRanges = new ArrayList<>();

    private volatile int size;
    private volatile long nextOffset;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestampBatchOffset = -1;
    private long rollTimestamp = RecordBatch.NO_TIMESTAMP;
    private int bytesSinceIndexEntry;
    private volatile int flushedSize;
    private volatile boolean deleted;

    /**
     * A stretch of a segment whose bytes failed verification while valid batches follow it. It is never served;
     * offsets {@code [fromOffset, toOffset)} are unreadable until the log start offset moves past them.
     */
    record CorruptRange(int startPosition, int endPosition, long fromOffset, long toOffset) {
    }

    private Segment(long baseOffset, Path logPath, FileChannel channel, int size) {
        this.baseOffset = baseOffset;
        this.logPath = logPath;
        this.indexPath = indexPathFor(logPath);
        this.channel = channel;
        this.size = size;
        this.flushedSize = size;
        this.nextOffset = baseOffset;
    }

    static String fileName(long baseOffset) {
        return String.format("%020d", baseOffset);
    }

    private static Path indexPathFor(Path logPath) {
        String name = logPath.getFileName().toString();
        return logPath.resolveSibling(name.substring(0, name.length() - LOG_SUFFIX.length()) + INDEX_SUFFIX);
    }

    /** Creates an empty segment file and makes its directory entry durable. */
    static Segment create(Path dir, long baseOffset) throws IOException {
        Path path = dir.resolve(fileName(baseOffset) + LOG_SUFFIX);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
            header.putInt(FILE_MAGIC).put(FORMAT_VERSION).put((byte) 0).putShort((short) 0).putLong(baseOffset).flip();
            writeFully(channel, header, 0);
            channel.force(true);
            MetadataFile.syncDirectory(dir);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new Segment(baseOffset, path, channel, HEADER_SIZE);
    }

    /**
     * Opens an existing segment. Its index and summary come from the index file when that matches the segment's size;
     * otherwise the caller must {@link #recover} or {@link #rebuildIndex} it.
     *
     * @return the segment, and whether its index was loaded
     */
    static Opened open(Path logPath, long baseOffset) throws IOException {
        FileChannel channel = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long fileSize = channel.size();
            ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
            if (fileSize < HEADER_SIZE || channel.read(header, 0) != HEADER_SIZE) {
                throw new CorruptHeaderException(logPath + ": segment header is missing (" + fileSize + " bytes)");
            }
            header.flip();
            if (header.getInt() != FILE_MAGIC) {
                throw new CorruptHeaderException(logPath + ": not a Bulwark segment (bad magic)");
            }
            byte version = header.get();
            if (version != FORMAT_VERSION) {
                throw new CorruptHeaderException(logPath + ": unsupported segment format version " + version);
            }
            header.position(8);
            long headerBase = header.getLong();
            if (headerBase != baseOffset) {
                throw new CorruptHeaderException(logPath + ": header base offset " + headerBase
                        + " does not match its name");
            }
            if (fileSize > Integer.MAX_VALUE) {
                throw new IOException(logPath + ": segment larger than 2 GiB");
            }
            Segment segment = new Segment(baseOffset, logPath, channel, (int) fileSize);
            Optional<SegmentIndex.Loaded> loaded = SegmentIndex.read(segment.indexPath, (int) fileSize);
            loaded.ifPresent(segment::adopt);
            return new Opened(segment, loaded.isPresent());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    record Opened(Segment segment, boolean indexLoaded) {
    }

    /** A segment file that does not start with the header of the segment its name says. */
    static final class CorruptHeaderException extends IOException {
        CorruptHeaderException(String message) {
            super(message);
        }
    }

    private void adopt(SegmentIndex.Loaded loaded) {
        index = loaded.index();
        SegmentIndex.Summary summary = loaded.summary();
        nextOffset = summary.nextOffset();
        maxTimestamp = summary.maxTimestamp();
        maxTimestampBatchOffset = summary.maxTimestampBatchOffset();
        rollTimestamp = summary.rollTimestamp();
    }

    // ---------------------------------------------------------------- appends (under the partition lock)

    /** Appends one batch whose offsets the caller has assigned. */
    void append(ByteBuffer batch, BatchHeader header, int indexIntervalBytes) throws IOException {
        int position = size;
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > HEADER_SIZE) {
            index.append(relative(header.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        writeFully(channel, batch.duplicate(), position);
        track(header);
        bytesSinceIndexEntry += header.sizeInBytes();
        size = position + header.sizeInBytes();
        nextOffset = header.nextOffset();
    }

    private void track(BatchHeader header) {
        if (rollTimestamp == RecordBatch.NO_TIMESTAMP) {
            rollTimestamp = header.maxTimestamp();
        }
        if (header.maxTimestamp() > maxTimestamp) {
            maxTimestamp = header.maxTimestamp();
            maxTimestampBatchOffset = header.baseOffset();
        }
    }

    private int relative(long offset) {
        return (int) (offset - baseOffset);
    }

    /** Whether a batch with these offsets fits this segment: relative offsets are 32-bit. */
    boolean canHoldOffset(long lastOffset) {
        return lastOffset - baseOffset <= Integer.MAX_VALUE;
    }

    void flush() throws IOException {
        int target = size;
        if (flushedSize < target && !deleted) {
            channel.force(false);
            flushedSize = target;
        }
    }

    /** Writes the index file so the segment reopens without a scan; done when the segment stops growing. */
    void seal() throws IOException {
        flush();
        index.write(indexPath, new SegmentIndex.Summary(size, nextOffset, maxTimestamp, maxTimestampBatchOffset,
                rollTimestamp));
    }

    // ---------------------------------------------------------------- reads (any thread)

    int size() {
        return size;
    }

    long nextOffset() {
        return nextOffset;
    }

    boolean isEmpty() {
        return size == HEADER_SIZE;
    }

    long maxTimestamp() {
        return maxTimestamp;
    }

    long maxTimestampBatchOffset() {
        return maxTimestampBatchOffset;
    }

    long rollTimestamp() {
        return rollTimestamp;
    }

    FileChannel channel() {
        return channel;
    }

    List<CorruptRange> corruptRanges() {
        return List.copyOf(corruptRanges);
    }

    /** Re-applies a corrupt range found by an earlier recovery (they are kept in the partition's checkpoint). */
    void addCorruptRange(CorruptRange range) {
        corruptRanges.add(range);
    }

    /**
     * Finds the first batch whose last offset is at or after {@code offset}, starting below {@code maxPosition}.
     *
     * @return that batch's position and header, or empty when no such batch starts below {@code maxPosition}
     * @throws CorruptSegmentException when {@code offset} falls in a corrupt range
     */
    Optional<Located> locate(long offset, int maxPosition) throws IOException {
        for (CorruptRange range : corruptRanges) {
            if (offset >= range.fromOffset() && offset < range.toOffset()) {
                throw new CorruptSegmentException(this, range);
            }
        }
        int start = index.floorPositionForOffset(relative(Math.max(offset, baseOffset)), HEADER_SIZE);
        return scan(start, maxPosition, batch -> batch.lastOffset() >= offset);
    }

    /** Like {@link #locate} but by time: the first batch whose largest timestamp is at or after {@code timestamp}. */
    Optional<Located> locateByTimestamp(long timestamp, int fromPosition, int maxPosition) throws IOException {
        int start = Math.max(fromPosition, index.floorPositionForTimestamp(timestamp, HEADER_SIZE));
        return scan(start, maxPosition, batch -> batch.maxTimestamp() >= timestamp);
    }

    /** Hands every batch header from the batch holding {@code fromOffset} to the end of the segment to {@code sink}. */
    void forEachBatchFrom(long fromOffset, Consumer<BatchHeader> sink) throws IOException {
        forEachBatchFrom(fromOffset, size, sink);
    }

    /** Like {@link #forEachBatchFrom(long, Consumer)}, for the batches that start below {@code maxPosition}. */
    void forEachBatchFrom(long fromOffset, int maxPosition, Consumer<BatchHeader> sink) throws IOException {
        Optional<Located> first = scan(index.floorPositionForOffset(relative(Math.max(fromOffset, baseOffset)),
                HEADER_SIZE), maxPosition, batch -> batch.lastOffset() >= fromOffset);
        if (first.isEmpty()) {
            return;
        }
        scan(first.get().position(), maxPosition, batch -> {
            sink.accept(batch);
            return false;
        });
    }

    /** Walks batch headers from {@code position}, stepping over corrupt ranges, to the first batch that matches. */
    private Optional<Located> scan(int position, int maxPosition, java.util.function.Predicate<BatchHeader> match)
            throws IOException {
        ByteBuffer header = ByteBuffer.allocate(BatchHeader.SIZE);
        while (position < maxPosition) {
            Optional<CorruptRange> corrupt = corruptRangeAt(position);
            if (corrupt.isPresent()) {
                position = corrupt.get().endPosition();
                continue;
            }
            BatchHeader batch = readHeader(header, position);
            if (match.test(batch)) {
                return Optional.of(new Located(position, batch));
            }
            position += batch.sizeInBytes();
        }
        return Optional.empty();
    }

    record Located(int position, BatchHeader header) {
    }

    /** The first corrupt range starting at or after {@code position} and before {@code end}, if any. */
    Optional<CorruptRange> firstCorruptRangeIn(int position, int end) {
        CorruptRange first = null;
        for (CorruptRange range : corruptRanges) {
            if (range.endPosition() > position && range.startPosition() < end
                    && (first == null || range.startPosition() < first.startPosition())) {
                first = range;
            }
        }
        return Optional.ofNullable(first);
    }

    private Optional<CorruptRange> corruptRangeAt(int position) {
        for (CorruptRange range : corruptRanges) {
            if (range.startPosition() == position) {
                return Optional.of(range);
            }
        }
        return Optional.empty();
    }

    private BatchHeader readHeader(ByteBuffer header, int position) throws IOException {
        header.clear();
        readFully(header, position);
        BatchHeader batch = BatchHeader.read(header, 0);
        if (!BatchHeader.plausibleSize(batch.sizeInBytes(), (long) size - position)) {
            throw new IOException(logPath + ": batch at position " + position + " has an impossible size "
                    + batch.sizeInBytes());
        }
        return batch;
    }

    /** Reads the whole batch at {@code position} into memory. */
    MemoryRecords readBatch(Located located) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(located.header().sizeInBytes());
        readFully(buffer, located.position());
        buffer.flip();
        return MemoryRecords.readableRecords(buffer);
    }

    private void readFully(ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException(logPath + ": unexpected end of segment at " + at);
            }
            at += n;
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    // ---------------------------------------------------------------- recovery

    /** What a recovery scan found. */
    record Recovery(int validBatches, long truncatedBytes, List<CorruptRange> corruptRanges) {
    }

    /**
     * Verifies every batch (size, magic, CRC32C, increasing offsets), rebuilds the index, hands each valid batch to
     * {@code onValidBatch}, truncates an invalid tail, and fences off invalid stretches that valid batches follow.
     *
     * @param nextSegmentBase the base offset of the following segment, or -1 for the newest segment; only in the
     *                        newest can an invalid stretch be a torn tail
     */
    Recovery recover(int indexIntervalBytes, long nextSegmentBase, Consumer<BatchHeader> onValidBatch)
            throws IOException {
        boolean lastSegment = nextSegmentBase < 0;
        corruptRanges.clear();
        resetState();
        int fileSize = (int) channel.size();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        int position = HEADER_SIZE;
        int valid = 0;
        long truncated = 0;
        List<CorruptRange> found = new ArrayList<>();
        while (position < fileSize) {
            Optional<BatchHeader> batch = verifiedBatchAt(position, fileSize, buffer, false);
            if (batch.isPresent()) {
                acceptRecovered(batch.get(), position, indexIntervalBytes, onValidBatch);
                position += batch.get().sizeInBytes();
                valid++;
                continue;
            }
            int resume = nextVerifiedBatch(position + 1, fileSize, buffer);
            if (resume < 0 && lastSegment) {
                truncated = fileSize - position;
                LOG.warn("{}: torn tail: {} bytes after position {} (offset {}) do not hold a whole valid batch; "
                        + "truncating", logPath, truncated, position, nextOffset);
                channel.truncate(position);
                break;
            }
            int end = resume < 0 ? fileSize : resume;
            long toOffset = resume < 0 ? nextSegmentBase : readHeaderUnchecked(buffer, resume).baseOffset();
            CorruptRange range = new CorruptRange(position, end, nextOffset, toOffset);
            LOG.error("{}: corrupt data at positions [{}, {}) covering offsets [{}, {}); it will not be served",
                    logPath, range.startPosition(), range.endPosition(), range.fromOffset(), range.toOffset());
            found.add(range);
            corruptRanges.add(range);
            nextOffset = toOffset;
            if (resume >= 0) {
                index.append(relative(toOffset), resume, maxTimestamp);
                bytesSinceIndexEntry = 0;
            }
            position = end;
        }
        // What was verified may have come from the page cache of a crashed process, never written to the disk: it
        // counts as flushed (under DURABLE it becomes the high watermark and the recovery point), so fsync it first.
        channel.force(true);
        size = position;
        flushedSize = position;
        return new Recovery(valid, truncated, found);
    }

    /** Rebuilds the index and summary from batch headers alone, for a segment recovery already verified. */
    void rebuildIndex(int indexIntervalBytes, Consumer<BatchHeader> onBatch) throws IOException {
        resetState();
        int fileSize = size;
        ByteBuffer header = ByteBuffer.allocate(BatchHeader.SIZE);
        int position = HEADER_SIZE;
        while (position < fileSize) {
            Optional<CorruptRange> corrupt = corruptRangeAt(position);
            if (corrupt.isPresent()) {
                position = corrupt.get().endPosition();
                nextOffset = corrupt.get().toOffset();
                if (position < fileSize) {
                    index.append(relative(nextOffset), position, maxTimestamp);
                    bytesSinceIndexEntry = 0;
                }
                continue;
            }
            BatchHeader batch = readHeader(header, position);
            acceptRecovered(batch, position, indexIntervalBytes, onBatch);
            position += batch.sizeInBytes();
        }
    }

    private void resetState() {
        index = new SegmentIndex();
        nextOffset = baseOffset;
        maxTimestamp = RecordBatch.NO_TIMESTAMP;
        maxTimestampBatchOffset = -1;
        rollTimestamp = RecordBatch.NO_TIMESTAMP;
        bytesSinceIndexEntry = 0;
    }

    private void acceptRecovered(BatchHeader batch, int position, int indexIntervalBytes,
                                 Consumer<BatchHeader> onValidBatch) {
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > HEADER_SIZE) {
            index.append(relative(batch.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        track(batch);
        bytesSinceIndexEntry += batch.sizeInBytes();
        nextOffset = batch.nextOffset();
        onValidBatch.accept(batch);
    }

    /**
     * The header of the batch at {@code position} if a whole, checksum-valid batch with fitting offsets is there.
     *
     * @param resync whether this looks for the first valid batch after a damaged stretch, whose offsets are unknown
     *               and so need only lie ahead; otherwise the batch must start at the next offset, because the base
     *               offset is not covered by the checksum and a damaged one would misplace every later batch
     */
    private Optional<BatchHeader> verifiedBatchAt(int position, int fileSize, ByteBuffer scratch, boolean resync)
            throws IOException {
        if (fileSize - position < BatchHeader.SIZE) {
            return Optional.empty();
        }
        BatchHeader header = readHeaderUnchecked(scratch, position);
        if (!BatchHeader.plausibleSize(header.sizeInBytes(), (long) fileSize - position)
                || header.magic() != RecordBatch.MAGIC_VALUE_V2
                || (resync ? header.baseOffset() < nextOffset : header.baseOffset() != nextOffset)
                || header.lastOffsetDelta() < 0
                || !canHoldOffset(header.lastOffset())) {
            return Optional.empty();
        }
        ByteBuffer batch = header.sizeInBytes() <= scratch.capacity() ? scratch : ByteBuffer.allocate(header.sizeInBytes());
        batch.clear().limit(header.sizeInBytes());
        readFully(batch, position);
        batch.flip();
        Iterator<MutableRecordBatch> batches = MemoryRecords.readableRecords(batch).batches().iterator();
        if (!batches.hasNext() || !batches.next().isValid()) {
            return Optional.empty();
        }
        return Optional.of(header);
    }

    private BatchHeader readHeaderUnchecked(ByteBuffer scratch, int position) throws IOException {
        scratch.clear().limit(BatchHeader.SIZE);
        readFully(scratch, position);
        return BatchHeader.read(scratch, 0);
    }

    /** The position of the next verifiable batch at or after {@code from}, or -1. */
    private int nextVerifiedBatch(int from, int fileSize, ByteBuffer scratch) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(1 << 20);
        long windowStart = -1;
        for (int candidate = from; candidate + BatchHeader.SIZE <= fileSize; candidate++) {
            if (windowStart < 0 || candidate + BatchHeader.SIZE > windowStart + window.limit()) {
                window.clear();
                windowStart = candidate;
                long at = candidate;
                while (window.hasRemaining() && at < fileSize) {
                    int n = channel.read(window, at);
                    if (n < 0) {
                        break;
                    }
                    at += n;
                }
                window.flip();
            }
            int rel = (int) (candidate - windowStart);
            if (window.get(rel + BatchHeader.MAGIC_OFFSET) != RecordBatch.MAGIC_VALUE_V2) {
                continue;
            }
            int length = window.getInt(rel + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD;
            if (!BatchHeader.plausibleSize(length, (long) fileSize - candidate)) {
                continue;
            }
            if (verifiedBatchAt(candidate, fileSize, scratch, true).isPresent()) {
                return candidate;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Renames the files so they no longer count as part of the log; {@link #deleteFiles} removes them later. */
    void markDeleted() throws IOException {
        deleted = true;
        Path deletedLog = logPath.resolveSibling(logPath.getFileName() + DELETED_SUFFIX);
        Files.move(logPath, deletedLog);
        logPath = deletedLog;
        if (Files.exists(indexPath)) {
            Path deletedIndex = indexPath.resolveSibling(indexPath.getFileName() + DELETED_SUFFIX);
            Files.move(indexPath, deletedIndex);
            indexPath = deletedIndex;
        }
    }

    void deleteFiles() throws IOException {
        deleted = true;
        close();
        Files.deleteIfExists(logPath);
        Files.deleteIfExists(indexPath);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    Path path() {
        return logPath;
    }

    @Override
    public String toString() {
        return logPath.toString();
    }

    /** A read reached bytes that failed verification. */
    static final class CorruptSegmentException extends IOException {
        CorruptSegmentException(Segment segment, CorruptRange range) {
            super(segment.logPath + ": offsets [" + range.fromOffset() + ", " + range.toOffset()
                    + ") are in a corrupt stretch of the segment and are not served");
        }
    }
}
