package dev.bulwark.storage;

import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.DataKey;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.SegmentNonce;
import dev.bulwark.storage.crypto.WrappedDataKey;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.AEADBadTagException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * One segment file of a partition log: a header holding the segment's wrapped data key, then one sealed
 * {@link Frame} per Kafka RecordBatch v2, as producers sent it with the broker's offsets.
 *
 * <pre>
 * offset  length  field
 * 0       4       magic "BWLG"
 * 4       1       format version (3: sealed)
 * 5       1       flags: bit 0 set when written by the log cleaner (compacted); bit 1 set when its batches are
 *                 stored unsealed (see {@link PartitionSealing#sealsBatches}); the other bits zero
 * 6       2       reserved, zero
 * 8       8       base offset (also the file name, 20 digits)
 * 16      4       incarnation (u32) of the data key's nonces, see {@link SegmentNonce}
 * 20      4       compacted: length N of the frames after the header; else zero
 * 24      4       compacted: CRC32C of those N bytes (base offsets and lengths included); else zero
 * 28      4       reserved, zero
 * 32      2       key slot A: length K of the wrapped data key (66 .. 130)
 * 34      130     key slot A: the {@link WrappedDataKey} (K bytes), zero padded
 * 164     2       key slot B: length of the wrapped data key
 * 166     130     key slot B: the same data key, wrapped
 * 296     ...     frames, back to back (compacted: in increasing offset order, with gaps)
 * </pre>
 *
 * <p>The two key slots hold the same data key. Rotation rewraps it in place ({@link #rewrapKey}): slot B is
 * written and fsynced, then slot A, so a crash tearing one slot leaves the other whole, and each wrap authenticates
 * itself, so a torn one is told apart. The segment opens with the first slot that opens.
 *
 * <p>The incarnation makes the batch nonces unique under the data key: it is bumped and fsynced before the first
 * seal after the segment is reopened for appends (after a restart, a recovery or a truncation), and each frame
 * records the incarnation it was sealed in.
 *
 * <p>A segment written by the log cleaner ({@link LogCleaner}) has fresh data key and flag bit 0 set. Its batches keep
 * their offsets but no longer follow each other without gaps (whole batches were dropped), and it never changes after
 * it is written, so its header records the length and checksum of its frames.
 *
 * <p>A segment with flag bit 1 set belongs to a store created not to seal batches ({@link
 * StorageSettings#sealBatches}, only to measure what sealing costs). Its frames keep the layout of sealed ones, but
 * hold the batch as it is, followed by 16 zero bytes where the tag would be; a read checks such a batch as Kafka
 * does, by its CRC32C and its header against the frame's fields. A store that seals never writes one (the choice is
 * fixed for the life of a store, see {@link BatchSealingRecord}), so it refuses one it finds, as tampering: the
 * partition opens offline.
 *
 * <p>Formats 1 (unsealed) and 2 (unsealed, compacted) are refused with {@link UnsupportedFormatException}: they
 * were only ever written before encryption at rest, by development builds.
 *
 * <p>Design note: this class owns the segment's file I/O and its sealing. Appends happen under the partition's lock
 * and seal on the appending thread into a buffer the segment reuses; reads happen concurrently from any thread with
 * positional reads and open into the caller's buffer; {@code size} and {@code nextOffset} are published after the
 * bytes are written, so a reader bounded by them never sees a half-written frame. The data key is opened once, when
 * the segment is opened or created, and kept; a segment whose key does not open keeps none ({@link #keyProblem}) and
 * reads nothing.
 */
final class Segment implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Segment.class);

    static final int FILE_MAGIC = 0x42574C47; // "BWLG"
    static final byte FORMAT_VERSION = 3;
    static final int VERSION_OFFSET = 4;
    static final int FLAGS_OFFSET = 5;
    static final int BASE_OFFSET_OFFSET = 8;
    static final int INCARNATION_OFFSET = 16;
    static final int DATA_LENGTH_OFFSET = 20;
    static final int DATA_CRC_OFFSET = 24;
    static final int KEY_SLOT_A_OFFSET = 32;
    static final int KEY_SLOT_LENGTH = 2 + WrappedDataKey.MAX_ENCODED_LENGTH;
    static final int KEY_SLOT_B_OFFSET = KEY_SLOT_A_OFFSET + KEY_SLOT_LENGTH;
    static final int HEADER_SIZE = KEY_SLOT_B_OFFSET + KEY_SLOT_LENGTH;
    static final byte COMPACTED_FLAG = 1;
    /** Frames hold batches as they are, with a zero tag: a store run to measure what sealing costs. */
    static final byte UNSEALED_FLAG = 2;
    private static final byte[] ZERO_TAG = new byte[AesGcm.TAG_LENGTH];
    /** How much zeroed space the active segment keeps ahead of its appends. */
    static final int PREALLOCATION = 4 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TRANSACTION_INDEX_SUFFIX = ".txnindex";
    static final String DELETED_SUFFIX = ".deleted";
    /** Files of a compacted segment being written; they become the segment's only through {@link SegmentSwap}. */
    static final String CLEANED_SUFFIX = ".cleaned";
    /** Frames this large are opened through a buffer of their own rather than the reading thread's. */
    private static final int MAX_CACHED_SCRATCH = 8 << 20;
    /** Each reading thread's buffer for sealed bytes on their way to the caller's buffer. */
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocate(64 << 10));

    final long baseOffset;
    /** Written by the cleaner: batches may leave offset gaps, and the file never changes. */
    final boolean compacted;
    /** Whether frames hold batches unsealed ({@link #UNSEALED_FLAG}). */
    private final boolean unsealed;
    private final PartitionSealing sealing;
    private Path logPath;
    private Path indexPath;
    private Path transactionIndexPath;
    private final FileChannel channel;
    /** The data key, opened once; null when it does not open ({@link #keyProblem} says why). */
    private volatile DataKey dataKey;
    private final String keyProblem;
    /** The wrapped keys the two slots hold, as on disk. */
    private WrappedDataKey slotA;
    private WrappedDataKey slotB;
    private int incarnation;
    /** Whether appends may seal under {@link #incarnation}: not until it is bumped after the segment was opened. */
    private boolean incarnationFresh;
    /** For appends: the frame being sealed, and its associated data (reused, under the partition lock). */
    private ByteBuffer frameBuffer;
    private ByteBuffer appendAssociatedData;
    /** For a compacted segment: the data length and checksum its header records (read at open, set when finished). */
    private int sealedDataLength = -1;
    private int sealedDataCrc;
    /** For a compacted segment being written: the checksum of the frames appended so far. */
    private CRC32C writtenDataCrc;
    private SegmentIndex index = new SegmentIndex();
    /** The aborted transactions whose markers this segment holds; read from its file once recovery is done. */
    private TransactionIndex transactions;
    /** Read by fetches on any thread; a read that finds a batch that does not open adds one. */
    private final List<CorruptRange> corruptRanges = new CopyOnWriteArrayList<>();

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

    private Segment(long baseOffset, boolean compacted, boolean unsealed, PartitionSealing sealing, Path logPath,
                    FileChannel channel, int size, DataKey dataKey, String keyProblem, int incarnation) {
        this.baseOffset = baseOffset;
        this.compacted = compacted;
        this.unsealed = unsealed;
        this.sealing = sealing;
        this.logPath = logPath;
        this.indexPath = indexPathFor(logPath);
        this.transactionIndexPath = transactionIndexPathFor(logPath);
        this.transactions = new TransactionIndex(baseOffset);
        this.channel = channel;
        this.size = size;
        this.flushedSize = size;
        this.allocated = size;
        this.nextOffset = baseOffset;
        this.dataKey = dataKey;
        this.keyProblem = keyProblem;
        this.incarnation = incarnation;
    }

    static String fileName(long baseOffset) {
        return String.format("%020d", baseOffset);
    }

    private static Path indexPathFor(Path logPath) {
        String name = logPath.getFileName().toString();
        String stem = name.substring(0, name.indexOf(LOG_SUFFIX));
        return logPath.resolveSibling(stem + INDEX_SUFFIX + name.substring(stem.length() + LOG_SUFFIX.length()));
    }

    private static Path transactionIndexPathFor(Path logPath) {
        String name = logPath.getFileName().toString();
        String stem = name.substring(0, name.indexOf(LOG_SUFFIX));
        return logPath.resolveSibling(stem + TRANSACTION_INDEX_SUFFIX
                + name.substring(stem.length() + LOG_SUFFIX.length()));
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

    /** Creates an empty segment file under a fresh data key and makes its directory entry durable. */
    static Segment create(Path dir, long baseOffset, PartitionSealing sealing) throws IOException {
        DataKey key = sealing.newDataKey();
        Path path = logPath(dir, baseOffset);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            writeFully(channel, header(baseOffset, false, !sealing.sealsBatches(), key.wrapped()), 0);
            channel.force(true);
            MetadataFile.syncDirectory(dir);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        Segment segment = new Segment(baseOffset, false, !sealing.sealsBatches(), sealing, path, channel, HEADER_SIZE,
                key, null, 0);
        segment.slotA = key.wrapped();
        segment.slotB = key.wrapped();
        segment.incarnationFresh = true;
        return segment;
    }

    /**
     * Starts a compacted segment in {@code <base>.log.cleaned} (indexes {@code <base>.index.cleaned} and
     * {@code <base>.txnindex.cleaned}) under a fresh data key, replacing a leftover of an abandoned attempt. Its data
     * length and checksum are written by {@link #finishCompacted}.
     */
    static Segment createCompacted(Path dir, long baseOffset, PartitionSealing sealing) throws IOException {
        DataKey key = sealing.newDataKey();
        Path path = cleanedLogPath(dir, baseOffset);
        Files.deleteIfExists(cleanedIndexPath(dir, baseOffset));
        Files.deleteIfExists(cleanedTransactionIndexPath(dir, baseOffset));
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            writeFully(channel, header(baseOffset, true, !sealing.sealsBatches(), key.wrapped()), 0);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        Segment segment = new Segment(baseOffset, true, !sealing.sealsBatches(), sealing, path, channel, HEADER_SIZE,
                key, null, 0);
        segment.slotA = key.wrapped();
        segment.slotB = key.wrapped();
        segment.incarnationFresh = true;
        segment.writtenDataCrc = new CRC32C();
        return segment;
    }

    private static ByteBuffer header(long baseOffset, boolean compacted, boolean unsealed, WrappedDataKey key) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
        byte flags = (byte) ((compacted ? COMPACTED_FLAG : 0) | (unsealed ? UNSEALED_FLAG : 0));
        header.putInt(FILE_MAGIC).put(FORMAT_VERSION).put(flags).putShort((short) 0)
                .putLong(baseOffset).putInt(0).putInt(0).putInt(0).putInt(0);
        putSlot(header.position(KEY_SLOT_A_OFFSET), key);
        putSlot(header.position(KEY_SLOT_B_OFFSET), key);
        return header.position(0);
    }

    private static void putSlot(ByteBuffer out, WrappedDataKey key) {
        out.putShort((short) key.encodedLength());
        key.writeTo(out);
    }

    private static ByteBuffer slot(WrappedDataKey key) {
        ByteBuffer slot = ByteBuffer.allocate(KEY_SLOT_LENGTH);
        putSlot(slot, key);
        return slot.position(0);
    }

    /**
     * Seals a compacted segment written by the cleaner: its header gets the data length and checksum, the file is
     * fsynced, and its index is written (fsynced) beside it, still under the {@code .cleaned} names.
     */
    void finishCompacted() throws IOException {
        sealedDataLength = size - HEADER_SIZE;
        sealedDataCrc = (int) writtenDataCrc.getValue();
        writtenDataCrc = null;
        writeFully(channel, ByteBuffer.allocate(8).putInt(sealedDataLength).putInt(sealedDataCrc).flip(),
                DATA_LENGTH_OFFSET);
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
     * Opens an existing segment and its data key. Its index and summary come from the index file when that opens and
     * matches the segment's size; otherwise the caller must {@link #recover} it. A segment whose data key does not
     * open is returned without one ({@link #keyProblem}), its index not loaded: it can be neither read nor recovered.
     *
     * @return the segment, and whether its index was loaded
     * @throws UnsupportedFormatException when the segment is of an unsealed format
     */
    static Opened open(Path logPath, long baseOffset, PartitionSealing sealing) throws IOException {
        FileChannel channel = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long fileSize = channel.size();
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(fileSize, HEADER_SIZE));
            while (header.hasRemaining()) {
                if (channel.read(header, header.position()) < 0) {
                    throw new CorruptHeaderException(logPath + ": segment header is missing");
                }
            }
            header.flip();
            if (header.remaining() < VERSION_OFFSET + 1 || header.getInt(0) != FILE_MAGIC) {
                throw new CorruptHeaderException(logPath + ": not a Bulwark segment (bad magic or cut short, "
                        + fileSize + " bytes)");
            }
            byte version = header.get(VERSION_OFFSET);
            if (version == 1 || version == 2) {
                throw new UnsupportedFormatException(logPath + ": segment format version " + version + " is unsealed"
                        + " (written before encryption at rest, by a development build); this build reads only sealed"
                        + " segments (version " + FORMAT_VERSION + "): move the data directory aside and start afresh");
            }
            if (version != FORMAT_VERSION) {
                throw new CorruptHeaderException(logPath + ": unsupported segment format version " + version);
            }
            if (fileSize < HEADER_SIZE) {
                throw new CorruptHeaderException(logPath + ": segment header is cut short (" + fileSize + " bytes)");
            }
            byte flags = header.get(FLAGS_OFFSET);
            if ((flags & ~(COMPACTED_FLAG | UNSEALED_FLAG)) != 0) {
                throw new CorruptHeaderException(logPath + ": unknown segment flags " + flags);
            }
            boolean compacted = (flags & COMPACTED_FLAG) != 0;
            boolean unsealed = (flags & UNSEALED_FLAG) != 0;

            long headerBase = header.getLong(BASE_OFFSET_OFFSET);
            if (headerBase != baseOffset) {
                throw new CorruptHeaderException(logPath + ": header base offset " + headerBase
                        + " does not match its name");
            }
            if (fileSize > Integer.MAX_VALUE) {
                throw new IOException(logPath + ": segment larger than 2 GiB");
            }
            WrappedDataKey slotA = readSlot(header, KEY_SLOT_A_OFFSET);
            WrappedDataKey slotB = readSlot(header, KEY_SLOT_B_OFFSET);
            DataKey key = null;
            String problem = null;
            for (WrappedDataKey wrapped : new WrappedDataKey[]{slotA, slotB}) {
                if (wrapped == null) {
                    continue;
                }
                try {
                    key = sealing.openDataKey(wrapped);
                    break;
                } catch (KeyUnavailableException | KeyUnwrapException e) {
                    problem = problem == null ? e.getMessage() : problem;
                }
            }
            if (key == null) {
                problem = logPath + ": the data key does not open: "
                        + (problem == null ? "neither key slot holds a wrapped data key" : problem);
            } else if (unsealed && sealing.sealsBatches()) {
                // A store that seals never wrote it (the choice is fixed when a store is created, see
                // BatchSealingRecord): it was put here from outside, or its flags were changed. Tampering.
                key = null;
                problem = logPath + ": holds unsealed batches, but this store has sealed every batch since it was"
                        + " created: the segment was put here or changed from outside, and none of it is served";
            }
            Segment segment = new Segment(baseOffset, compacted, unsealed, sealing, logPath, channel, (int) fileSize,
                    key, problem, header.getInt(INCARNATION_OFFSET));
            segment.slotA = slotA;
            segment.slotB = slotB;
            if (compacted) {
                segment.sealedDataLength = header.getInt(DATA_LENGTH_OFFSET);
                segment.sealedDataCrc = header.getInt(DATA_CRC_OFFSET);
            }
            Optional<SegmentIndex.Loaded> loaded = key == null ? Optional.empty() : segment.readIndex((int) fileSize);
            loaded.ifPresent(segment::adopt);
            return new Opened(segment, loaded.isPresent());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The wrapped key of a slot, or null when the slot does not hold one (torn or damaged). */
    private static WrappedDataKey readSlot(ByteBuffer header, int offset) {
        int length = Short.toUnsignedInt(header.getShort(offset));
        if (length < WrappedDataKey.MIN_ENCODED_LENGTH || length > WrappedDataKey.MAX_ENCODED_LENGTH) {
            return null;
        }
        byte[] bytes = new byte[length];
        header.get(offset + 2, bytes);
        try {
            return WrappedDataKey.fromBytes(bytes);
        } catch (KeyUnwrapException e) {
            return null;
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

    /** A segment file of a format this build no longer reads. */
    static final class UnsupportedFormatException extends IOException {
        UnsupportedFormatException(String message) {
            super(message);
        }
    }

    /**
     * Why nothing of the segment can be read: its data key did not open, or it holds unsealed batches in a store that
     * seals them. Null when it can be read.
     */
    String keyProblem() {
        return keyProblem;
    }

    private DataKey key() throws IOException {
        DataKey key = dataKey;
        if (key == null) {
            throw new KeyUnavailableIOException(keyProblem);
        }
        return key;
    }

    /** A segment's data key did not open: nothing of it is read. */
    static final class KeyUnavailableIOException extends IOException {
        KeyUnavailableIOException(String message) {
            super(message);
        }
    }

    /**
     * Rewraps the data key under the owner's current KEK version, in place and durably: slot B first, then slot A
     * (see the class comment). Call it under the lock that rolls the partition's segments.
     *
     * @return whether the header changed (false when both slots were under the current version already)
     */
    boolean rewrapKey() throws IOException, GeneralSecurityException {
        DataKey key = key();
        WrappedDataKey current = sealing.rewrap(key.wrapped());
        if (current.equals(slotA) && current.equals(slotB)) {
            return false;
        }
        writeFully(channel, slot(current), KEY_SLOT_B_OFFSET);
        channel.force(false);
        slotB = current;
        writeFully(channel, slot(current), KEY_SLOT_A_OFFSET);
        channel.force(false);
        slotA = current;
        dataKey = new DataKey(key.key(), current);
        return true;
    }

    /** The KEK version the data key is wrapped under, or -1 when it did not open. */
    int kekVersion() {
        DataKey key = dataKey;
        return key == null ? -1 : key.wrapped().kekVersion();
    }

    /** Seals a small file's payload (index, producer snapshot) under this segment's data key. */
    byte[] sealPayload(String kind, long fileOffset, byte[] plaintext) throws IOException {
        return sealing.sealPayload(key(), kind, baseOffset, fileOffset, plaintext);
    }

    /** Opens what {@link #sealPayload} sealed with the same kind and offset. */
    ByteBuffer openPayload(String kind, long fileOffset, ByteBuffer sealed) throws IOException {
        return sealing.openPayload(key(), kind, baseOffset, fileOffset, sealed);
    }

    /** {@link #sealPayload} and {@link #openPayload} of one file. */
    PayloadSeal payloadSeal(String kind, long fileOffset) {
        return new PayloadSeal() {
            @Override
            public byte[] seal(byte[] plaintext) throws IOException {
                return sealPayload(kind, fileOffset, plaintext);
            }

            @Override
            public ByteBuffer open(ByteBuffer sealed) throws IOException {
                return openPayload(kind, fileOffset, sealed);
            }
        };
    }

    private Optional<SegmentIndex.Loaded> readIndex(int segmentSize) {
        try {
            Optional<MetadataFile.Content> content = MetadataFile.read(indexPath, SegmentIndex.FILE_MAGIC);
            if (content.isEmpty() || content.get().version() != SegmentIndex.FILE_VERSION) {
                return Optional.empty();
            }
            return SegmentIndex.decode(openPayload(SegmentIndex.SEALED_KIND, baseOffset, content.get().payload()),
                    segmentSize);
        } catch (IOException e) {
            LOG.warn("{}: index unusable ({}); rebuilding it", logPath, e.getMessage());
            return Optional.empty();
        }
    }

    private void writeIndex() throws IOException {
        byte[] payload = index.encode(new SegmentIndex.Summary(size, nextOffset, maxTimestamp, maxTimestampBatchOffset,
                rollTimestamp));
        MetadataFile.write(indexPath, SegmentIndex.FILE_MAGIC, SegmentIndex.FILE_VERSION,
                sealPayload(SegmentIndex.SEALED_KIND, baseOffset, payload));
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
     * Seals and appends one batch whose offsets the caller has assigned.
     *
     * <p>Design note: an fdatasync of a file that grew must also commit the new length to the file system journal,
     * which makes it several times slower than one that only writes data. So the active segment is extended with
     * zeroes ahead of the appends, {@link #PREALLOCATION} at a time (never past {@code segmentBytes}), and most
     * fsyncs under the durable flush policy overwrite space the file already has. The zeroes are never part of the
     * log: reads stop at {@code size}, sealing trims the file to it, and recovery drops an all-zero tail silently.
     */
    void append(ByteBuffer batch, BatchHeader header, int indexIntervalBytes, int segmentBytes) throws IOException {
        DataKey key = key();
        if (!incarnationFresh) {
            bumpIncarnation();
        }
        int position = size;
        int frameSize = Frame.sizeOf(header.sizeInBytes());
        if (!compacted && (long) position + frameSize > allocated) {
            preallocate((long) position + frameSize, segmentBytes);
        }
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > HEADER_SIZE) {
            index.append(relative(header.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        ByteBuffer frame = frameBuffer(frameSize);
        Frame.writeHeader(frame, header.baseOffset(), header.sizeInBytes(), header.lastOffsetDelta(), incarnation);
        if (appendAssociatedData == null) {
            appendAssociatedData = ByteBuffer.allocate(sealing.batchAssociatedDataLength());
        }
        if (unsealed) {
            frame.put(batch.duplicate()).put(ZERO_TAG);
        } else {
            sealing.gcm().seal(key.key(), SegmentNonce.of(incarnation, header.baseOffset()),
                    sealing.batchAssociatedData(appendAssociatedData, baseOffset, header.baseOffset(),
                            header.lastOffsetDelta()), batch.duplicate(), frame);
        }
        frame.flip();
        writeFully(channel, frame.duplicate(), position);
        if (writtenDataCrc != null) {
            writtenDataCrc.update(frame.duplicate());
        }
        track(header);
        bytesSinceIndexEntry += frameSize;
        size = position + frameSize;
        nextOffset = header.nextOffset();
        transactions.completeUpTo(nextOffset); // the partition lists each ABORT marker it appends
    }

    private ByteBuffer frameBuffer(int frameSize) {
        if (frameBuffer == null || frameBuffer.capacity() < frameSize) {
            frameBuffer = ByteBuffer.allocate(Math.max(frameSize, 16 << 10));
        }
        return frameBuffer.clear();
    }

    /** Whether the segment may take appends under its data key: false once it used its last incarnation. */
    boolean canSealAgain() {
        return incarnationFresh || incarnation != SegmentNonce.LAST_INCARNATION;
    }

    /** Moves to the next incarnation and makes it durable before anything is sealed under it. */
    private void bumpIncarnation() throws IOException {
        int next;
        try {
            next = SegmentNonce.next(incarnation);
        } catch (IllegalStateException e) {
            throw new IOException(logPath + ": " + e.getMessage(), e);
        }
        writeFully(channel, ByteBuffer.allocate(4).putInt(next).flip(), INCARNATION_OFFSET);
        channel.force(false);
        incarnation = next;
        incarnationFresh = true;
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
     * segment stops growing. The append buffer is let go.
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
        writeIndex();
        frameBuffer = null;
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

    /** Bytes of frames (the file without its header). */
    int dataSize() {
        return size - HEADER_SIZE;
    }

    /** Where the first frame starts. */
    int dataStart() {
        return HEADER_SIZE;
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

    List<CorruptRange> corruptRanges() {
        return List.copyOf(corruptRanges);
    }

    /** Re-applies a corrupt range found by an earlier recovery (they are kept in the partition's checkpoint). */
    void addCorruptRange(CorruptRange range) {
        corruptRanges.add(range);
    }

    /**
     * Finds the first frame whose last offset is at or after {@code offset}, starting below {@code maxPosition}.
     *
     * @return that frame's position and clear fields, or empty when no such frame starts below {@code maxPosition}
     * @throws CorruptSegmentException   when {@code offset} falls in a corrupt range
     * @throws KeyUnavailableIOException when the segment's data key did not open
     */
    Optional<Located> locate(long offset, int maxPosition) throws IOException {
        key();
        for (CorruptRange range : corruptRanges) {
            if (offset >= range.fromOffset() && offset < range.toOffset()) {
                throw new CorruptSegmentException(this, range);
            }
        }
        int start = index.floorPositionForOffset(relative(Math.max(offset, baseOffset)), HEADER_SIZE);
        return scan(start, maxPosition, frame -> frame.lastOffset() >= offset);
    }

    /**
     * Like {@link #locate} but by time: the first batch whose largest timestamp is at or after {@code timestamp},
     * opened (timestamps are sealed).
     */
    Optional<OpenBatch> locateByTimestamp(long timestamp, int fromPosition, int maxPosition) throws IOException {
        int position = Math.max(fromPosition, index.floorPositionForTimestamp(timestamp, HEADER_SIZE));
        while (true) {
            Optional<Located> located = scan(position, maxPosition, frame -> true);
            if (located.isEmpty()) {
                return Optional.empty();
            }
            OpenBatch batch = open(located.get());
            if (batch.header().maxTimestamp() >= timestamp) {
                return Optional.of(batch);
            }
            position = located.get().end();
        }
    }

    /** A frame where it lies. */
    record Located(int position, Frame frame) {
        int end() {
            return position + frame.size();
        }
    }

    /** A batch opened from its frame. */
    record OpenBatch(Located located, MemoryRecords records) {
        BatchHeader header() {
            return BatchHeader.read(records.buffer(), 0);
        }
    }

    /** Visits a batch where it lies, opened. */
    interface BatchVisitor {
        void visit(OpenBatch batch) throws IOException;
    }

    /** Opens and hands every batch from the one holding {@code fromOffset} to the end of the segment to {@code visitor}. */
    void forEachBatchFrom(long fromOffset, BatchVisitor visitor) throws IOException {
        Optional<Located> first = scan(index.floorPositionForOffset(relative(Math.max(fromOffset, baseOffset)),
                HEADER_SIZE), size, frame -> frame.lastOffset() >= fromOffset);
        int position = first.isEmpty() ? size : first.get().position();
        while (true) {
            Optional<Located> located = scan(position, size, frame -> true);
            if (located.isEmpty()) {
                return;
            }
            visitor.visit(open(located.get()));
            position = located.get().end();
        }
    }

    /** Hands the header of each batch from the one holding {@code fromOffset} that starts below {@code maxPosition}. */
    void forEachBatchFrom(long fromOffset, int maxPosition, Consumer<BatchHeader> sink) throws IOException {
        Optional<Located> first = scan(index.floorPositionForOffset(relative(Math.max(fromOffset, baseOffset)),
                HEADER_SIZE), maxPosition, frame -> frame.lastOffset() >= fromOffset);
        int position = first.isEmpty() ? maxPosition : first.get().position();
        while (true) {
            Optional<Located> located = scan(position, maxPosition, frame -> true);
            if (located.isEmpty()) {
                return;
            }
            sink.accept(open(located.get()).header());
            position = located.get().end();
        }
    }

    /** Walks frames from {@code position}, stepping over corrupt ranges, to the first frame that matches. */
    private Optional<Located> scan(int position, int maxPosition, Predicate<Frame> match) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Frame.SEALED_OFFSET);
        while (position < maxPosition) {
            Optional<CorruptRange> corrupt = corruptRangeAt(position);
            if (corrupt.isPresent()) {
                position = corrupt.get().endPosition();
                continue;
            }
            Frame frame = readFrame(header, position);
            if (match.test(frame)) {
                return Optional.of(new Located(position, frame));
            }
            position += frame.size();
        }
        return Optional.empty();
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

    /** The clear fields of the frame at {@code position}, checked to fit the segment. */
    Frame readFrame(ByteBuffer header, int position) throws IOException {
        header.clear().limit(Frame.SEALED_OFFSET);
        readFully(header, position);
        Frame frame = Frame.read(header, 0);
        if (!Frame.plausibleSize(frame.size(), (long) size - position)) {
            throw new IOException(logPath + ": frame at position " + position + " has an impossible size "
                    + frame.size());
        }
        return frame;
    }

    /**
     * Opens the batch of a frame whose sealed bytes are in {@code sealed} (from its position to its limit: the
     * ciphertext and the tag) into {@code out}, and checks that the batch is the one its clear fields name.
     *
     * @throws SealedBatchException when it does not open or does not match: it must not be served
     */
    void openSealed(Located located, ByteBuffer sealed, ByteBuffer out, ByteBuffer associatedData)
            throws IOException {
        Frame frame = located.frame();
        int start = out.position();
        if (unsealed) {
            openUnsealed(located, sealed, out);
            return;
        }
        try {
            sealing.gcm().open(key().key(), SegmentNonce.of(frame.incarnation(), frame.baseOffset()),
                    sealing.batchAssociatedData(associatedData, baseOffset, frame.baseOffset(),
                            frame.lastOffsetDelta()), sealed, out);
        } catch (AEADBadTagException e) {
            throw new SealedBatchException(this, located, "does not open (changed, or moved from another offset, "
                    + "segment or partition)");
        } catch (IllegalArgumentException e) {
            throw new SealedBatchException(this, located, "does not open: " + e.getMessage());
        }
        if (frame.batchSize() < BatchHeader.SIZE || out.getLong(start) != frame.baseOffset()
                || out.getInt(start + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD != frame.batchSize()
                || out.get(start + BatchHeader.MAGIC_OFFSET) != RecordBatch.MAGIC_VALUE_V2
                || out.getInt(start + 23) != frame.lastOffsetDelta()) {
            throw new SealedBatchException(this, located, "opens to a batch other than its frame names");
        }
    }

    /**
     * The batch of an unsealed frame, checked as Kafka checks a batch: its header against the frame's fields, and
     * its CRC (what a torn write or a changed byte fails).
     */
    private void openUnsealed(Located located, ByteBuffer stored, ByteBuffer out) throws IOException {
        Frame frame = located.frame();
        int start = out.position();
        int length = stored.remaining() - AesGcm.TAG_LENGTH;
        if (length < BatchHeader.SIZE || out.remaining() < length) {
            throw new SealedBatchException(this, located, "is cut short");
        }
        out.put(stored.slice(stored.position(), length));
        stored.position(stored.limit());
        int crcStart = start + BatchHeader.MAGIC_OFFSET + 5;
        if (out.getLong(start) != frame.baseOffset()
                || out.getInt(start + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD != frame.batchSize()
                || out.get(start + BatchHeader.MAGIC_OFFSET) != RecordBatch.MAGIC_VALUE_V2
                || out.getInt(start + 23) != frame.lastOffsetDelta()) {
            throw new SealedBatchException(this, located, "holds a batch other than its frame names");
        }
        CRC32C crc = new CRC32C();
        crc.update(out.duplicate().limit(start + length).position(crcStart));
        if ((int) crc.getValue() != out.getInt(start + BatchHeader.MAGIC_OFFSET + 1)) {
            throw new SealedBatchException(this, located, "does not match its CRC");
        }
    }

    /** Opens the batch of a located frame into memory of its own. */
    OpenBatch open(Located located) throws IOException {
        ByteBuffer sealed = ByteBuffer.allocate(located.frame().size() - Frame.SEALED_OFFSET);
        readFully(sealed, located.position() + Frame.SEALED_OFFSET);
        ByteBuffer out = ByteBuffer.allocate(located.frame().batchSize());
        openSealed(located, sealed.flip(), out, ByteBuffer.allocate(sealing.batchAssociatedDataLength()));
        return new OpenBatch(located, MemoryRecords.readableRecords(out.flip()));
    }

    /** Whole batches opened from a run of frames, and the file bytes the frames took. */
    record Chunk(MemoryRecords records, int fileBytes) {
    }

    /**
     * Opens whole frames from {@code position}: those that fit in {@code maxBytes} of file, and at least one. The
     * caller stays below {@link #size()} and out of corrupt ranges.
     */
    Chunk readBatches(int position, int maxBytes) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Frame.SEALED_OFFSET);
        List<Located> frames = new ArrayList<>();
        int end = position;
        int plaintext = 0;
        while (end < size) {
            Frame frame = readFrame(header, end);
            if (!frames.isEmpty() && end - position + frame.size() > maxBytes) {
                break;
            }
            frames.add(new Located(end, frame));
            plaintext += frame.batchSize();
            end += frame.size();
        }
        if (frames.isEmpty()) {
            throw new IOException(logPath + ": no whole frame at position " + position);
        }
        ByteBuffer out = ByteBuffer.allocate(plaintext);
        readRun(frames, out);
        return new Chunk(MemoryRecords.readableRecords(out.flip()), end - position);
    }

    /**
     * Opens a run of adjacent frames into {@code out} (which has room for their batches), reading their file bytes
     * with as few reads as the reading thread's buffer allows.
     */
    void readRun(List<Located> frames, ByteBuffer out) throws IOException {
        ByteBuffer associatedData = ByteBuffer.allocate(sealing.batchAssociatedDataLength());
        int i = 0;
        while (i < frames.size()) {
            int from = frames.get(i).position();
            int to = frames.get(i).end();
            int j = i + 1;
            while (j < frames.size() && frames.get(j).position() == to
                    && frames.get(j).end() - from <= MAX_CACHED_SCRATCH) {
                to = frames.get(j).end();
                j++;
            }
            ByteBuffer bytes = scratch(to - from);
            readFully(bytes, from);
            for (int k = i; k < j; k++) {
                Located located = frames.get(k);
                int at = located.position() - from;
                ByteBuffer sealed = bytes.duplicate().limit(at + located.frame().size()).position(at
                        + Frame.SEALED_OFFSET);
                if (!Frame.read(bytes, at).equals(located.frame())) {
                    throw new SealedBatchException(this, located, "changed since it was located");
                }
                openSealed(located, sealed, out, associatedData);
            }
            i = j;
        }
    }

    private static ByteBuffer scratch(int length) {
        if (length > MAX_CACHED_SCRATCH) {
            return ByteBuffer.allocate(length);
        }
        ByteBuffer scratch = SCRATCH.get();
        if (scratch.capacity() < length) {
            scratch = ByteBuffer.allocate(Math.max(length, scratch.capacity() * 2));
            SCRATCH.set(scratch);
        }
        return scratch.clear().limit(length);
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
     * Opens every frame (GCM tag, clear fields matching the batch, increasing offsets), rebuilds the index, hands each
     * valid batch to {@code onValidBatch}, truncates an invalid tail, and fences off invalid stretches that valid
     * batches follow.
     *
     * <p>The offset rule. The associated data binds each batch to its base offset, so a frame cannot be moved to
     * another offset and still open; but whole frames can be dropped, repeated or swapped. In a segment the log
     * appended to, every batch starts at the offset after the previous one, and recovery demands exactly that. A
     * compacted segment has gaps where the cleaner dropped whole batches, so there a batch may start at or after the
     * offset after the previous one (never before). A compacted segment is written once, fsynced, and never changed,
     * and its header holds the CRC32C of all its frame bytes: the scan recomputes it over the frames it accepted; only
     * when they cover the whole file and the checksum matches are the batches served. Otherwise the whole segment is
     * fenced: reported, never served. A compacted segment is never the newest, so nothing of it is ever truncated as a
     * torn tail.
     *
     * @param nextSegmentBase the base offset of the following segment, or -1 for the newest segment; only in the
     *                        newest can an invalid stretch be a torn tail
     * @throws KeyUnavailableIOException when the data key did not open; nothing is changed
     */
    Recovery recover(int indexIntervalBytes, long nextSegmentBase, Consumer<BatchHeader> onValidBatch)
            throws IOException {
        key();
        boolean lastSegment = nextSegmentBase < 0 && !compacted;
        recoveryLimit = nextSegmentBase < 0 ? Long.MAX_VALUE : nextSegmentBase;
        corruptRanges.clear();
        resetState();
        int fileSize = (int) channel.size();
        Scratch scratch = new Scratch();
        CRC32C digest = compacted ? new CRC32C() : null;
        int position = HEADER_SIZE;
        int valid = 0;
        long truncated = 0;
        List<CorruptRange> found = new ArrayList<>();
        while (position < fileSize) {
            Optional<BatchHeader> batch = verifiedBatchAt(position, fileSize, scratch, false, digest);
            if (batch.isPresent()) {
                int frameSize = Frame.sizeOf(batch.get().sizeInBytes());
                acceptRecovered(batch.get(), frameSize, position, indexIntervalBytes, onValidBatch);
                position += frameSize;
                valid++;
                continue;
            }
            if (lastSegment && allZero(position, fileSize, scratch.sealed)) {
                LOG.debug("{}: dropping {} bytes of preallocated space after position {}", logPath,
                        fileSize - position, position);
                channel.truncate(position);
                break;
            }
            int resume = nextVerifiedBatch(position + 1, fileSize, scratch);
            if (resume < 0 && lastSegment) {
                truncated = fileSize - position;
                LOG.warn("{}: torn tail: {} bytes after position {} (offset {}) do not hold a whole batch that opens; "
                        + "truncating", logPath, truncated, position, nextOffset);
                channel.truncate(position);
                break;
            }
            int end = resume < 0 ? fileSize : resume;
            long toOffset = resume < 0 ? Math.max(nextSegmentBase, nextOffset) : frameAt(scratch, resume).baseOffset();
            CorruptRange range = new CorruptRange(position, end, nextOffset, toOffset);
            LOG.error("{}: corrupt or tampered data at positions [{}, {}) covering offsets [{}, {}); it will not be "
                    + "served", logPath, range.startPosition(), range.endPosition(), range.fromOffset(),
                    range.toOffset());
            found.add(range);
            corruptRanges.add(range);
            nextOffset = toOffset;
            if (resume >= 0) {
                index.append(relative(toOffset), resume, maxTimestamp);
                bytesSinceIndexEntry = 0;
            }
            position = end;
        }
        if (compacted && (!found.isEmpty() || fileSize - HEADER_SIZE != sealedDataLength
                || (int) digest.getValue() != sealedDataCrc)) {
            long toOffset = Math.max(nextSegmentBase, nextOffset);
            LOG.error("{}: compacted segment does not match the checksum of its header (it was damaged after it was "
                    + "written); offsets [{}, {}) are fenced whole and will not be served", logPath, baseOffset,
                    toOffset);
            corruptRanges.clear();
            found.clear();
            resetState();
            CorruptRange whole = new CorruptRange(HEADER_SIZE, fileSize, baseOffset, toOffset);
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

    /** Buffers of one recovery scan. */
    private final class Scratch {
        final ByteBuffer header = ByteBuffer.allocate(Frame.SEALED_OFFSET);
        ByteBuffer sealed = ByteBuffer.allocate(64 * 1024);
        ByteBuffer plain = ByteBuffer.allocate(64 * 1024);
        final ByteBuffer associatedData = ByteBuffer.allocate(sealing.batchAssociatedDataLength());

        void ensure(int frameSize) {
            if (sealed.capacity() < frameSize) {
                sealed = ByteBuffer.allocate(frameSize);
                plain = ByteBuffer.allocate(frameSize);
            }
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

    private void acceptRecovered(BatchHeader batch, int frameSize, int position, int indexIntervalBytes,
                                 Consumer<BatchHeader> onValidBatch) {
        if (bytesSinceIndexEntry >= indexIntervalBytes && position > HEADER_SIZE) {
            index.append(relative(batch.baseOffset()), position, maxTimestamp);
            bytesSinceIndexEntry = 0;
        }
        track(batch);
        bytesSinceIndexEntry += frameSize;
        nextOffset = batch.nextOffset();
        onValidBatch.accept(batch);
    }

    /**
     * The header of the batch at {@code position} if a whole frame is there whose batch opens, matches its clear
     * fields and has fitting offsets (see {@link #recover} for the offset rule).
     *
     * @param resync whether this looks for the first valid frame after a damaged stretch, whose offsets are unknown
     *               and so need only lie ahead; otherwise the batch must start at the next offset (in a compacted
     *               segment, at or after it)
     * @param digest when not null, takes the bytes of a frame found valid
     */
    private Optional<BatchHeader> verifiedBatchAt(int position, int fileSize, Scratch scratch, boolean resync,
                                                  CRC32C digest) throws IOException {
        if (fileSize - position < Frame.SEALED_OFFSET) {
            return Optional.empty();
        }
        Frame frame = frameAt(scratch, position);
        if (!fits(frame, position, fileSize, resync)) {
            return Optional.empty();
        }
        scratch.ensure(frame.size());
        ByteBuffer sealed = scratch.sealed.clear().limit(frame.size() - Frame.SEALED_OFFSET);
        readFully(sealed, position + Frame.SEALED_OFFSET);
        sealed.flip();
        ByteBuffer plain = scratch.plain.clear();
        try {
            openSealed(new Located(position, frame), sealed, plain, scratch.associatedData);
        } catch (SealedBatchException e) {
            return Optional.empty();
        }
        if (digest != null) {
            digest.update(scratch.header.duplicate().position(0).limit(Frame.SEALED_OFFSET));
            digest.update(scratch.sealed.duplicate().position(0).limit(frame.size() - Frame.SEALED_OFFSET));
        }
        return Optional.of(BatchHeader.read(plain, 0));
    }

    /** Whether a frame's clear fields could be those of the next batch (before its batch is opened). */
    private boolean fits(Frame frame, int position, int fileSize, boolean resync) {
        boolean placed = resync || compacted ? frame.baseOffset() >= nextOffset : frame.baseOffset() == nextOffset;
        return Frame.plausibleSize(frame.size(), (long) fileSize - position)
                && placed
                && frame.lastOffsetDelta() >= 0
                && canHoldOffset(frame.lastOffset())
                && frame.lastOffset() >= frame.baseOffset()
                && frame.lastOffset() < recoveryLimit
                && Integer.compareUnsigned(frame.incarnation(), incarnation) <= 0;
    }

    private Frame frameAt(Scratch scratch, int position) throws IOException {
        scratch.header.clear();
        readFully(scratch.header, position);
        return Frame.read(scratch.header, 0);
    }

    /** The position of the next frame that opens at or after {@code from}, or -1. */
    private int nextVerifiedBatch(int from, int fileSize, Scratch scratch) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(1 << 20);
        long windowStart = -1;
        for (int candidate = from; candidate + Frame.SEALED_OFFSET <= fileSize; candidate++) {
            if (windowStart < 0 || candidate + Frame.SEALED_OFFSET > windowStart + window.limit()) {
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
            if (!fits(Frame.read(window, (int) (candidate - windowStart)), candidate, fileSize, true)) {
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

    /** A frame whose batch does not open, or opens to another batch than its clear fields name. */
    static final class SealedBatchException extends IOException {
        private final transient Segment segment;
        private final transient Located located;

        SealedBatchException(Segment segment, Located located, String what) {
            super(segment.logPath + ": the batch at position " + located.position() + " (offset "
                    + located.frame().baseOffset() + ") " + what + "; it is not served");
            this.segment = segment;
            this.located = located;
        }

        Segment segment() {
            return segment;
        }

        Located located() {
            return located;
        }
    }
}
