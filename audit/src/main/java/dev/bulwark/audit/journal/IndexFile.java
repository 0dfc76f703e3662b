package dev.bulwark.audit.journal;

import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A closed journal file's index, kept beside it as {@code <first sequence number, 20 digits>.index}: a
 * {@link SealedFiles} file under the broker's key ({@link KeyOwner#SYSTEM}, context the file's name), because its
 * hashes of principals and resources could be matched against guessed names. Its payload:
 * <pre>
 * i64 first sequence number, i32 entry count n, i64 where the last entry ends in the journal file,
 * then per named field (tenant, principal, action, resource):
 *     i32 dictionary size d, d x i64 value hashes ascending, i8 code width w (1, 2 or 4), n x w-byte codes
 * then the outcomes: n x i8 {@code Outcome.code()},
 * then i32 block count b, b x [i64 position of the block's first entry, i64 earliest time ms, i64 latest time ms]
 * </pre>
 * Everything big-endian; codes unsigned. A sidecar is only a cache: one that is missing, does not open, is of another
 * version or does not describe the journal file as it is (its first entry or its length) is rebuilt from the file.
 * Damaged files get none: they are indexed up to the damage at every start.
 */
final class IndexFile {

    static final String SUFFIX = ".index";
    static final int MAGIC = 0x42574149; // "BWAI"
    static final byte VERSION = 1;

    private IndexFile() {
    }

    static Path of(Path journalFile) {
        String name = journalFile.getFileName().toString();
        return journalFile.resolveSibling(name.substring(0, name.length() - JournalFormat.SUFFIX.length()) + SUFFIX);
    }

    static void write(SealedFiles sealedFiles, Path journalFile, FileIndex index) throws IOException {
        if (index.damage != null) {
            throw new IllegalArgumentException("the index of a damaged file is not kept");
        }
        Path file = of(journalFile);
        sealedFiles.write(file, MAGIC, VERSION, KeyOwner.SYSTEM, file.getFileName().toString(), encode(index));
    }

    /**
     * The index kept beside {@code journalFile}, if there is one.
     *
     * @throws IOException when it exists but does not open or is malformed
     */
    static Optional<FileIndex> read(SealedFiles sealedFiles, Path journalFile) throws IOException {
        Path file = of(journalFile);
        Optional<ByteBuffer> payload = sealedFiles.read(file, MAGIC, VERSION, KeyOwner.SYSTEM,
                file.getFileName().toString());
        if (payload.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(payload.get()));
        } catch (IllegalArgumentException | BufferUnderflowException e) {
            throw new IOException(file + " is not an index of this format: " + e.getMessage(), e);
        }
    }

    static byte[] encode(FileIndex index) {
        int n = index.count;
        long size = 8 + 4 + 8;
        for (FileIndex.Field field : FileIndex.Field.NAMED) {
            size += 4 + hashes(index, field).length * 8L + 1 + (long) n * width(index.columns[field.ordinal()]);
        }
        size += n + 4 + index.blocks * 24L;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(size));
        out.putLong(index.firstSeq).putInt(n).putLong(index.endPosition);
        for (FileIndex.Field field : FileIndex.Field.NAMED) {
            long[] hashes = hashes(index, field);
            out.putInt(hashes.length);
            for (long hash : hashes) {
                out.putLong(hash);
            }
            FileIndex.Codes column = index.columns[field.ordinal()];
            int width = width(column);
            out.put((byte) width);
            for (int i = 0; i < n; i++) {
                int code = column.get(i);
                switch (width) {
                    case 1 -> out.put((byte) code);
                    case 2 -> out.putChar((char) code);
                    default -> out.putInt(code);
                }
            }
        }
        FileIndex.Codes outcomes = index.columns[FileIndex.Field.OUTCOME.ordinal()];
        for (int i = 0; i < n; i++) {
            out.put((byte) outcomes.get(i));
        }
        out.putInt(index.blocks);
        for (int b = 0; b < index.blocks; b++) {
            out.putLong(index.blockPositions[b]).putLong(index.blockMinTimes[b]).putLong(index.blockMaxTimes[b]);
        }
        return out.array();
    }

    static FileIndex decode(ByteBuffer in) {
        long firstSeq = in.getLong();
        int n = in.getInt();
        long endPosition = in.getLong();
        if (n < 0) {
            throw new IllegalArgumentException("it claims " + n + " entries");
        }
        FileIndex.Dictionary[] dictionaries = new FileIndex.Dictionary[FileIndex.Field.NAMED.length];
        FileIndex.Codes[] columns = new FileIndex.Codes[FileIndex.Field.values().length];
        for (FileIndex.Field field : FileIndex.Field.NAMED) {
            int d = in.getInt();
            if (d < 0 || d > in.remaining() / 8) {
                throw new IllegalArgumentException("a dictionary claims " + d + " values");
            }
            long[] hashes = new long[d];
            for (int i = 0; i < d; i++) {
                hashes[i] = in.getLong();
                if (i > 0 && hashes[i] <= hashes[i - 1]) {
                    throw new IllegalArgumentException("a dictionary is not in ascending order");
                }
            }
            dictionaries[field.ordinal()] = new FileIndex.SortedDictionary(hashes);
            int width = in.get();
            columns[field.ordinal()] = switch (width) {
                case 1 -> {
                    byte[] codes = new byte[n];
                    in.get(codes);
                    yield new FileIndex.ByteCodes(codes);
                }
                case 2 -> {
                    char[] codes = new char[n];
                    in.asCharBuffer().get(codes);
                    in.position(in.position() + n * 2);
                    yield new FileIndex.CharCodes(codes);
                }
                case 4 -> {
                    int[] codes = new int[n];
                    in.asIntBuffer().get(codes);
                    in.position(in.position() + n * 4);
                    yield new FileIndex.IntCodes(codes);
                }
                default -> throw new IllegalArgumentException("code width " + width);
            };
            for (int i = 0; i < n; i++) {
                if (columns[field.ordinal()].get(i) > d) {
                    throw new IllegalArgumentException("entry " + i + " has a code past its dictionary");
                }
            }
        }
        byte[] outcomes = new byte[n];
        in.get(outcomes);
        columns[FileIndex.Field.OUTCOME.ordinal()] = new FileIndex.ByteCodes(outcomes);
        int blocks = in.getInt();
        if (blocks != (n + FileIndex.BLOCK - 1) / FileIndex.BLOCK) {
            throw new IllegalArgumentException(blocks + " blocks for " + n + " entries");
        }
        long[] positions = new long[blocks];
        long[] minTimes = new long[blocks];
        long[] maxTimes = new long[blocks];
        for (int b = 0; b < blocks; b++) {
            positions[b] = in.getLong();
            minTimes[b] = in.getLong();
            maxTimes[b] = in.getLong();
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " trailing bytes");
        }
        return new FileIndex(firstSeq, n, endPosition, dictionaries, columns, positions, minTimes, maxTimes, null);
    }

    private static long[] hashes(FileIndex index, FileIndex.Field field) {
        if (index.dictionaries[field.ordinal()] instanceof FileIndex.SortedDictionary sorted) {
            return sorted.hashes();
        }
        throw new IllegalArgumentException("only a finished index is kept");
    }

    private static int width(FileIndex.Codes column) {
        if (column instanceof FileIndex.ByteCodes) {
            return 1;
        }
        return column instanceof FileIndex.CharCodes ? 2 : 4;
    }
}
