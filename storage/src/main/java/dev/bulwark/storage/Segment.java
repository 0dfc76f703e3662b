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
import java.util.zip.CRC32C;

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
 * <p>A segment written by the log cleaner ({@link LogCleaner}) has format version 2 and a longer header. Its batches
 * keep their offsets but no longer follow each other without gaps (whole batches were dropped), and it never changes
 * after it is written, so its header seals its content:
 * <pre>
 * offset  length  field
 * 0       4       magic "BWLG"
 * 4       1       format version (2: compacted)
 * 5       3       reserved, zero
 * 8       8       base offset (also the file name, 20 digits)
 * 16      4       length N of the batch bytes after the header
 * 20      4       CRC32C of those N bytes (base offsets and lengths included, which the batches' own CRCs leave out)
 * 24      N       record batches, back to back, in increasing offset order, with gaps
 * </pre>
 * A version-1 reader refuses a compacted segment ("unsupported segment format version 2") instead of misreading its
 * gaps as damage.
 *
 * <p>Design note: this class owns the segment's file I/O. Appends happen under the partition's lock, reads happen
 * concurrently from any thread with positional reads; {@code size} and {@code nextOffset} are published after the
 * bytes are written, so a reader bounded by them never sees a half-written batch.
 */
final class Segment implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Segment.class);

    static final int HEADER_SIZE = 16;
    /** How much zeroed space the active segment keeps ahead of its appends. */
    static final int PREALLOCATION = 4 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
    static final int COMPACTED_HEADER_SIZE = 24;
    static final int FILE_MAGIC = 0x42574C47; // "BWLG"
    static final byte FORMAT_VERSION = 1;
    static final byte COMPACTED_FORMAT_VERSION = 2;
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TRANSACTION_INDEX_SUFFIX = ".txnindex";
    static final String DELETED_SUFFIX = ".deleted";
    /** Files of a compacted segment being written; they become the segment's only through {@link SegmentSwap}. */
    static final String CLEANED_SUFFIX = ".cleaned";

    final long baseOffset;
    /** Written by the cleaner (format version 2): batches may leave offset gaps, and the file never changes. */
    final boolean compacted;
    /** Where the batches start: after the header of this segment's format version. */
    private final int dataStart;
    private Path logPath;
    private Path indexPath;
    private Path transactionIndexPath;
    private final FileChannel channel;
    /** For a compacted segment: the data length and checksum its header records (read at open, set when finished). */
    private int sealedDataLength = -1;
    private int sealedDataCrc;
    /** For a compacted segment being written: the checksum of the batches appended so far. */
    private CRC32C writtenDataCrc;
    private SegmentIndex index = new SegmentIndex();
    /** The aborted transactions whose markers this segment holds; read from its file once recovery is done. */
    private TransactionIndex transactions;
    private final List<CorruptRange> corruptRanges = new ArrayList<>();

    private volatile int size;
    private volatile long nextOffset;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestampBatchOffset = -1;
    private long rollTimestamp = RecordBatch.NO_TIMESTAMP;
    private int bytesSinceIndexEntry;
    /** During {@link #recover}: the base offset of the next segment; no batch of this one may reach it. */
    private long recoveryLimit = Long.MAX_VALUE;
    private volatile int flushedSize;
    /** The file's length: at least {@code size}; beyond it, zeroes written ahead of the appends (see append). */
    private long allocated;
    private volatile boolean deleted;

    /**
     * A stretch of a segment whose bytes failed verification while valid batches follow it. It is never served;
     * offsets {@code [fromOffset, toOffset)} are unreadable until the log start offset moves past them.
     */
    record CorruptRange(int startPosition, int endPosition, long fromOffset, long toOffset) {
    }

    private Segment(long baseOffset, boolean compacted, Path logPath, Path indexPath, Path transactionIndexPath,
                    FileChannel channel, int size) {
        this.baseOffset = baseOffset;
        this.compacted = compacted;
        this.dataStart = compacted ? COMPACTED_HEADER_SIZE : HEADER_SIZE;
        this.logPath = logPath;
        this.indexPath = indexPath;
        this.transactionIndexPath = transactionIndexPath;
        this.transactions = new TransactionIndex(baseOffset);
        this.channel = channel;
        this.size = size;
        this.flushedSize = size;
        this.allocated = size;
        this.nextOffset = baseOffset;
    }

    static String fileName(long baseOffset) {
        return String.format("%020d", baseOffset);
    }

    private static Path indexPathFor(Path logPath) {
        String name = logPath.getFileName().toString();
        return logPath.resolveSibling(name.substring(0, name.length() - LOG_SUFFIX.length()) + INDEX_SUFFIX);
    }

    private static Path transactionIndexPathFor(Path logPath) {
        String name = logPath.getFileName().toString();
        return logPath.resolveSibling(name.substring(0, name.length() - LOG_SUFFIX.length())
                + TRANSACTION_INDEX_SUFFIX);
    }

    static Path transactionIndexPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + TRANSACTION_INDEX_SUFFIX);
    }

    static Path cleanedTransactionIndexPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + TRANSACTION_INDEX_SUFFIX + CLEANED_SUFFIX);
    }

    static Path logPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + LOG_SUFFIX);
    }

    static Path indexPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + INDEX_SUFFIX);
    }

    static Path cleanedLogPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + LOG_SUFFIX + CLEANED_SUFFIX);
    }

    static Path cleanedIndexPath(Path dir, long baseOffset) {
        return dir.resolve(fileName(baseOffset) + INDEX_SUFFIX + CLEANED_SUFFIX);
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
        return new Segment(baseOffset, false, path, indexPathFor(path), transactionIndexPathFor(path), channel,
                HEADER_SIZE);
    }

    /**
     * Starts a compacted segment in {@code <base>.log.cleaned} (indexes {@code <base>.index.cleaned} and
     * {@code <base>.txnindex.cleaned}), replacing a leftover of an abandoned attempt. Its header is written by
     * {@link #finishCompacted}.
     */
    static Segment createCompacted(Path dir, long baseOffset) throws IOException {
        Path path = cleanedLogPath(dir, baseOffset);
        Files.deleteIfExists(cleanedIndexPath(dir, baseOffset));
        Files.deleteIfExists(cleanedTransactionIndexPath(dir, baseOffset));
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            writeFully(channel, compactedHeader(baseOffset, 0, 0), 0);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        Segment segment = new Segment(baseOffset, true, path, cleanedIndexPath(dir, baseOffset),
                cleanedTransactionIndexPath(dir, baseOffset), channel, COMPACTED_HEADER_SIZE);
        segment.writtenDataCrc = new CRC32C();
        return segment;
    }

    private static ByteBuffer compactedHeader(long baseOffset, int dataLength, int dataCrc) {
        ByteBuffer header = ByteBuffer.allocate(COMPACTED_HEADER_SIZE);
        header.putInt(FILE_MAGIC).put(COMPACTED_FORMAT_VERSION).put((byte) 0).putShort((short) 0).putLong(baseOffset)
                .putInt(dataLength).putInt(dataCrc).flip();
        return header;
    }

    /**
     * Seals a compacted segment written by the cleaner: its header gets the data length and checksum, the file is
     * fsynced, and its index is written (fsynced) beside it, still under the {@code .cleaned} names.
     */
    void finishCompacted() throws IOException {
        sealedDataLength = size - dataStart;
        sealedDataCrc = (int) writtenDataCrc.getValue();
        writtenDataCrc = null;
        writeFully(channel, compactedHeader(baseOffset, sealedDataLength, sealedDataCrc), 0);
        channel.force(true);
        flushedSize = size;
        seal();
    }

    /** Moves the transaction index file (if any) to {@code target}, atomically; the directory is not fsynced here. */
    void moveTransactionIndex(Path target) throws IOException {
        if (Files.exists(transactionIndexPath)) {
            Files.move(transactionIndexPath, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        transactionIndexPath = target;
    }

    /** Moves the index file (if any) to {@code target}, atomically; the directory is not fsynced here. */
    void moveIndex(Path target) throws IOException {
        if (Files.exists(indexPath)) {
            Files.move(indexPath, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        indexPath = target;
    }

    /** Moves the segment file to {@code target}, atomically; open reads are not disturbed. */
    void moveLog(Path target) throws IOException {
        Files.move(logPath, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        logPath = target;
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
            if (fileSize < HEADER_SIZE) {
                throw new CorruptHeaderException(logPath + ": segment header is missing (" + fileSize + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(fileSize, COMPACTED_HEADER_SIZE));
            while (header.hasRemaining()) {
                if (channel.read(header, header.position()) < 0) {
                    throw new CorruptHeaderException(logPath + ": segment header is missing");
                }
            }
            header.flip();
            if (header.getInt() != FILE_MAGIC) {
                throw new CorruptHeaderException(logPath + ": not a Bulwark segment (bad magic)");
            }
            byte version = header.get();
            if (version != FORMAT_VERSION && version != COMPACTED_FORMAT_VERSION) {
                throw new CorruptHeaderException(logPath + ": unsupported segment format version " + version);
            }
            boolean compacted = version == COMPACTED_FORMAT_VERSION;
            if (compacted && fileSize < COMPACTED_HEADER_SIZE) {
                throw new CorruptHeaderException(logPath + ": compacted segment header is cut short (" + fileSize
                        + " bytes)");
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
            Segment segment = new Segment(baseOffset, compacted, logPath, indexPathFor(logPath),
                    transactionIndexPathFor(logPath), channel, (int) fileSize);
            if (compacted) {
                segment.sealedDataLength = header.getInt();
                segment.sealedDataCrc = header.getInt();
            }
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

    /**
     * Reads the transaction index file, once the segment's batches are known (after recovery): what it lists past the
     * segment's end is dropped; see {@link TransactionIndex#read}.
     */
    void loadTransactionIndex() {
        transactions = TransactionIndex.read(transactionIndexPath, baseOffset, nextOffset);
    }

    /** The aborted transactions whose markers this segment holds. */
    TransactionIndex transactionIndex() {
        return transactions;
    }

    /** Writes the transaction index file; for a sealed segment whose index was rebuilt at start. */
    void writeTransactionIndex() throws IOException {
        transactions.write(transactionIndexPath);
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

    /**
     * Appends one batch whose offsets the caller has assigned.
     *
     * <p>Design note: an fdatasync of a file that grew must also commit the new length to the file system journal,
     * which makes it several times slower than one that only writes data. So the active segment is extended with
     * zeroes ahead of the appends, {@link #PREALLOCATION} at a time (never past {@code segmentBytes}), and most
     * fsyncs under the durable flush policy overwrite space the file already has. The zeroes are never part of the
     * log: reads stop at {@code size}, sealing trims the file to it, and recovery drops an all-zero tail silently.
     */
    void append(ByteBuffer batch, BatchHeader header, int indexIntervalBytes, int segmentBytes) throws IOException {
        int position = size;
        if (!compacted && (long) position + header.sizeInBytes() > allocated) {
            preallocate((long) position + header.sizeInBytes(), segmentBytes);
        }
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > dataStart) {
            index.append(relative(header.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        writeFully(channel, batch.duplicate(), position);
        if (writtenDataCrc != null) {
            writtenDataCrc.update(batch.duplicate());
        }
        track(header);
        bytesSinceIndexEntry += header.sizeInBytes();
        size = position + header.sizeInBytes();
        nextOffset = header.nextOffset();
        transactions.completeUpTo(nextOffset); // the partition lists each ABORT marker it appends
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

    private void preallocate(long needed, int segmentBytes) throws IOException {
        long target = Math.max(needed, Math.min(allocated + PREALLOCATION, segmentBytes));
        long at = allocated;
        while (at < target) {
            ByteBuffer zeroes = ZEROES.duplicate();
            zeroes.limit((int) Math.min(zeroes.capacity(), target - at));
            at += channel.write(zeroes, at);
        }
        allocated = target;
    }

    void flush() throws IOException {
        int target = size;
        if (flushedSize < target && !deleted) {
            channel.force(false);
            flushedSize = target;
        }
    }

    /**
     * Trims preallocated space and writes the index files so the segment reopens without a scan; done when the
     * segment stops growing.
     */
    void seal() throws IOException {
        flush();
        if (allocated > size) {
            channel.truncate(size);
            channel.force(true);
            allocated = size;
        }
        if (transactions.completeUpTo() >= nextOffset) {
            // While a start loads the log, the index does not list the segment's markers until the log is replayed;
            // LogLoader writes it then.
            transactions.write(transactionIndexPath);
        }
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
        return size == dataStart;
    }

    /** Bytes of batches (the file without its header). */
    int dataSize() {
        return size - dataStart;
    }

    /** Where the first batch starts. */
    int dataStart() {
        return dataStart;
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
        int start = index.floorPositionForOffset(relative(Math.max(offset, baseOffset)), dataStart);
        return scan(start, maxPosition, batch -> batch.lastOffset() >= offset);
    }

    /** Like {@link #locate} but by time: the first batch whose largest timestamp is at or after {@code timestamp}. */
    Optional<Located> locateByTimestamp(long timestamp, int fromPosition, int maxPosition) throws IOException {
        int start = Math.max(fromPosition, index.floorPositionForTimestamp(timestamp, dataStart));
        return scan(start, maxPosition, batch -> batch.maxTimestamp() >= timestamp);
    }

    /** Visits a batch where it lies; it may read the batch. */
    interface BatchVisitor {
        void visit(Located batch) throws IOException;
    }

    /** Hands every batch from the batch holding {@code fromOffset} to the end of the segment to {@code visitor}. */
    void forEachBatchFrom(long fromOffset, BatchVisitor visitor) throws IOException {
        Optional<Located> first = scan(index.floorPositionForOffset(relative(Math.max(fromOffset, baseOffset)),
                dataStart), size, batch -> batch.lastOffset() >= fromOffset);
        int position = first.isEmpty() ? size : first.get().position();
        ByteBuffer header = ByteBuffer.allocate(BatchHeader.SIZE);
        while (position < size) {
            Optional<CorruptRange> corrupt = corruptRangeAt(position);
            if (corrupt.isPresent()) {
                position = corrupt.get().endPosition();
                continue;
            }
            BatchHeader batch = readHeader(header, position);
            visitor.visit(new Located(position, batch));
            position += batch.sizeInBytes();
        }
    }

    /** Hands the header of each batch from the one holding {@code fromOffset} that starts below {@code maxPosition}. */
    void forEachBatchFrom(long fromOffset, int maxPosition, Consumer<BatchHeader> sink) throws IOException {
        Optional<Located> first = scan(index.floorPositionForOffset(relative(Math.max(fromOffset, baseOffset)),
                dataStart), maxPosition, batch -> batch.lastOffset() >= fromOffset);
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

    /**
     * Reads whole batches from {@code position} into memory: those that fit in {@code maxBytes}, and at least one.
     * The caller stays below {@link #size()} and out of corrupt ranges.
     */
    MemoryRecords readBatches(int position, int maxBytes) throws IOException {
        int available = size - position;
        ByteBuffer buffer = ByteBuffer.allocate(Math.min(available, Math.max(maxBytes, BatchHeader.SIZE)));
        readFully(buffer, position);
        int whole = 0;
        while (whole + BatchHeader.SIZE <= buffer.limit()) {
            int batchSize = buffer.getInt(whole + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD;
            if (!BatchHeader.plausibleSize(batchSize, (long) available - whole)) {
                throw new IOException(logPath + ": batch at position " + (position + whole)
                        + " has an impossible size " + batchSize);
            }
            if (whole + batchSize > buffer.limit()) {
                if (whole == 0) {
                    buffer = ByteBuffer.allocate(batchSize);
                    readFully(buffer, position);
                    whole = batchSize;
                }
                break;
            }
            whole += batchSize;
        }
        if (whole == 0) {
            throw new IOException(logPath + ": no whole batch at position " + position);
        }
        buffer.position(0).limit(whole);
        return MemoryRecords.readableRecords(buffer.slice());
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
     * <p>The offset rule. A batch's base offset is not covered by its CRC, so a damaged base offset can only be caught
     * by where it points. Every batch must end below the next segment's base offset. In a segment the log appended to,
     * every batch starts at the offset after the previous one, and recovery demands exactly that: a raised base offset
     * would otherwise be accepted, misplace the batch, and make every valid batch after it look as if it went
     * backwards. A compacted segment has gaps where the cleaner dropped whole batches, so there a batch may start at or
     * after the offset after the previous one (never before). That alone would let a raised base offset through, so the
     * exact placement is proven differently: a compacted segment is written once, fsynced, and never changed, and its
     * header holds the CRC32C of all its batch bytes, base offsets included. The scan recomputes it over the batches it
     * accepted; only when they cover the whole file and the checksum matches are the batches served. Otherwise the
     * segment was damaged after the cleaner wrote it, at a place that cannot be trusted to be the only one (a raised
     * base offset looks like a gap), and the whole segment is fenced: reported, never served at wrong offsets. A
     * compacted segment is never the newest, so nothing of it is ever truncated as a torn tail.
     *
     * @param nextSegmentBase the base offset of the following segment, or -1 for the newest segment; only in the
     *                        newest can an invalid stretch be a torn tail
     */
    Recovery recover(int indexIntervalBytes, long nextSegmentBase, Consumer<BatchHeader> onValidBatch)
            throws IOException {
        boolean lastSegment = nextSegmentBase < 0 && !compacted;
        recoveryLimit = nextSegmentBase < 0 ? Long.MAX_VALUE : nextSegmentBase;
        corruptRanges.clear();
        resetState();
        int fileSize = (int) channel.size();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        CRC32C digest = compacted ? new CRC32C() : null;
        int position = dataStart;
        int valid = 0;
        long truncated = 0;
        List<CorruptRange> found = new ArrayList<>();
        while (position < fileSize) {
            Optional<BatchHeader> batch = verifiedBatchAt(position, fileSize, buffer, false, digest);
            if (batch.isPresent()) {
                acceptRecovered(batch.get(), position, indexIntervalBytes, onValidBatch);
                position += batch.get().sizeInBytes();
                valid++;
                continue;
            }
            if (lastSegment && allZero(position, fileSize, buffer)) {
                LOG.debug("{}: dropping {} bytes of preallocated space after position {}", logPath,
                        fileSize - position, position);
                channel.truncate(position);
                break;
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
            long toOffset = resume < 0 ? Math.max(nextSegmentBase, nextOffset)
                    : readHeaderUnchecked(buffer, resume).baseOffset();
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
        if (compacted && (!found.isEmpty() || fileSize - dataStart != sealedDataLength
                || (int) digest.getValue() != sealedDataCrc)) {
            long toOffset = Math.max(nextSegmentBase, nextOffset);
            LOG.error("{}: compacted segment does not match the checksum of its header (it was damaged after it was "
                    + "written); offsets [{}, {}) are fenced whole and will not be served", logPath, baseOffset,
                    toOffset);
            corruptRanges.clear();
            found.clear();
            resetState();
            CorruptRange whole = new CorruptRange(dataStart, fileSize, baseOffset, toOffset);
            found.add(whole);
            corruptRanges.add(whole);
            nextOffset = toOffset;
            valid = 0;
            position = fileSize;
        }
        // What was verified may have come from the page cache of a crashed process, never written to the disk: it
        // counts as flushed (under DURABLE it becomes the high watermark and the recovery point), so fsync it first.
        channel.force(true);
        size = position;
        flushedSize = position;
        allocated = channel.size();
        return new Recovery(valid, truncated, found);
    }

    /** Rebuilds the index and summary from batch headers alone, for a segment recovery already verified. */
    void rebuildIndex(int indexIntervalBytes, Consumer<BatchHeader> onBatch) throws IOException {
        resetState();
        int fileSize = size;
        ByteBuffer header = ByteBuffer.allocate(BatchHeader.SIZE);
        int position = dataStart;
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
            if (allZero(position, fileSize, ByteBuffer.allocate(64 * 1024))) {
                // Preallocated space whose trimming at seal did not reach the disk before a crash.
                channel.truncate(position);
                channel.force(true);
                size = position;
                allocated = position;
                break;
            }
            BatchHeader batch = readHeader(header, position);
            acceptRecovered(batch, position, indexIntervalBytes, onBatch);
            position += batch.sizeInBytes();
        }
    }

    /** Whether every byte from {@code from} to {@code end} is zero (preallocated, never written). */
    private boolean allZero(int from, int end, ByteBuffer scratch) throws IOException {
        long at = from;
        while (at < end) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), end - at));
            int n = channel.read(scratch, at);
            if (n < 0) {
                return true;
            }
            for (int i = 0; i < n; i++) {
                if (scratch.get(i) != 0) {
                    return false;
                }
            }
            at += n;
        }
        return true;
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
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > dataStart) {
            index.append(relative(batch.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        track(batch);
        bytesSinceIndexEntry += batch.sizeInBytes();
        nextOffset = batch.nextOffset();
        onValidBatch.accept(batch);
    }

    /**
     * The header of the batch at {@code position} if a whole, checksum-valid batch with fitting offsets is there (see
     * {@link #recover} for the offset rule).
     *
     * @param resync whether this looks for the first valid batch after a damaged stretch, whose offsets are unknown
     *               and so need only lie ahead; otherwise the batch must start at the next offset, because the base
     *               offset is not covered by the checksum and a damaged one would misplace every later batch (in a
     *               compacted segment, at or after the next offset: the header's checksum proves the placement)
     * @param digest when not null, takes the bytes of a batch found valid
     */
    private Optional<BatchHeader> verifiedBatchAt(int position, int fileSize, ByteBuffer scratch, boolean resync,
                                                  CRC32C digest) throws IOException {
        if (fileSize - position < BatchHeader.SIZE) {
            return Optional.empty();
        }
        BatchHeader header = readHeaderUnchecked(scratch, position);
        boolean placed = resync || compacted ? header.baseOffset() >= nextOffset : header.baseOffset() == nextOffset;
        if (!BatchHeader.plausibleSize(header.sizeInBytes(), (long) fileSize - position)
                || header.magic() != RecordBatch.MAGIC_VALUE_V2
                || !placed
                || header.lastOffsetDelta() < 0
                || !canHoldOffset(header.lastOffset())
                || header.lastOffset() >= recoveryLimit) {
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
        if (digest != null) {
            digest.update(batch.duplicate().position(0));
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
            if (verifiedBatchAt(candidate, fileSize, scratch, true, null).isPresent()) {
                return candidate;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Renames the files so they no longer count as part of the log; {@link #deleteFiles} removes them later. A file of
     * the same name may still wait for deletion (a compacted segment takes the name of the one it replaced), so the
     * new name is made unique.
     */
    void markDeleted() throws IOException {
        deleted = true;
        Path deletedLog = deletedName(logPath);
        Files.move(logPath, deletedLog);
        logPath = deletedLog;
        if (Files.exists(transactionIndexPath)) {
            Path deletedTransactionIndex = deletedName(transactionIndexPath);
            Files.move(transactionIndexPath, deletedTransactionIndex);
            transactionIndexPath = deletedTransactionIndex;
        }
        if (Files.exists(indexPath)) {
            Path deletedIndex = deletedName(indexPath);
            Files.move(indexPath, deletedIndex);
            indexPath = deletedIndex;
        }
    }

    private static Path deletedName(Path file) {
        Path candidate = file.resolveSibling(file.getFileName() + DELETED_SUFFIX);
        for (int n = 1; Files.exists(candidate); n++) {
            candidate = file.resolveSibling(file.getFileName() + "." + n + DELETED_SUFFIX);
        }
        return candidate;
    }

    void deleteFiles() throws IOException {
        deleted = true;
        close();
        Files.deleteIfExists(logPath);
        Files.deleteIfExists(indexPath);
        Files.deleteIfExists(transactionIndexPath);
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
