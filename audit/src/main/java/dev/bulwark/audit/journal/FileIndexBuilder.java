package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds one file's {@link FileIndex} entry by entry: as the journal writes them (the file being written), or from the
 * file itself when its sidecar is missing or stale ({@link #rebuild}).
 *
 * <p>Threads: one thread adds; any thread may take a {@link #snapshot} of what was added so far, which later adds do
 * not change (they write past its count, into arrays it may share, and the monitor orders both).
 */
final class FileIndexBuilder {

    private static final int NAMED = FileIndex.Field.NAMED.length;
    private static final int OUTCOME = FileIndex.Field.OUTCOME.ordinal();

    private final long firstSeq;
    /** Per named field, a value's hash to its code; concurrent, because snapshots look codes up after the fact. */
    private final ConcurrentHashMap<Long, Integer>[] dictionaries;
    private final int[] dictionarySizes = new int[NAMED];
    private final int[][] columns = new int[FileIndex.Field.values().length][];
    private long[] blockPositions = new long[16];
    private long[] blockMinTimes = new long[16];
    private long[] blockMaxTimes = new long[16];
    private int count;
    private long endPosition;
    private String damage;

    /**
     * @param firstSeq the file's first sequence number
     * @param start    where its first entry starts (after the header)
     */
    @SuppressWarnings("unchecked")
    FileIndexBuilder(long firstSeq, long start) {
        this.firstSeq = firstSeq;
        this.endPosition = start;
        this.dictionaries = new ConcurrentHashMap[NAMED];
        for (int f = 0; f < NAMED; f++) {
            dictionaries[f] = new ConcurrentHashMap<>();
        }
        for (int f = 0; f < columns.length; f++) {
            columns[f] = new int[1024];
        }
    }

    /**
     * Adds the next entry of the file.
     *
     * @param position where the entry starts in the file
     * @param end      where it ends
     */
    synchronized void add(long seq, long timeMs, long position, long end, AuditEvent event) {
        if (seq != firstSeq + count) {
            throw new IllegalArgumentException("entry " + seq + " added after entry " + (firstSeq + count - 1));
        }
        if (count == columns[0].length) {
            for (int f = 0; f < columns.length; f++) {
                columns[f] = Arrays.copyOf(columns[f], count * 2);
            }
        }
        for (FileIndex.Field field : FileIndex.Field.NAMED) {
            String value = field.of(event);
            int f = field.ordinal();
            int code = 0;
            if (value != null) {
                long hash = FileIndex.hash(value);
                Integer known = dictionaries[f].get(hash);
                if (known == null) {
                    code = ++dictionarySizes[f];
                    dictionaries[f].put(hash, code);
                } else {
                    code = known;
                }
            }
            columns[f][count] = code;
        }
        columns[OUTCOME][count] = event.outcome().code();
        int block = count / FileIndex.BLOCK;
        if (count % FileIndex.BLOCK == 0) {
            if (block == blockPositions.length) {
                blockPositions = Arrays.copyOf(blockPositions, block * 2);
                blockMinTimes = Arrays.copyOf(blockMinTimes, block * 2);
                blockMaxTimes = Arrays.copyOf(blockMaxTimes, block * 2);
            }
            blockPositions[block] = position;
            blockMinTimes[block] = timeMs;
            blockMaxTimes[block] = timeMs;
        } else {
            blockMinTimes[block] = Math.min(blockMinTimes[block], timeMs);
            blockMaxTimes[block] = Math.max(blockMaxTimes[block], timeMs);
        }
        count++;
        endPosition = end;
    }

    /** Records that the file is damaged after the entries added so far; nothing more is added. */
    synchronized void damaged(String reason) {
        damage = reason;
    }

    /** What was added so far, for a query: codes looked up in the live dictionaries. */
    synchronized FileIndex snapshot() {
        int blocks = (count + FileIndex.BLOCK - 1) / FileIndex.BLOCK;
        FileIndex.Dictionary[] lookups = new FileIndex.Dictionary[NAMED];
        for (int f = 0; f < NAMED; f++) {
            Map<Long, Integer> dictionary = dictionaries[f];
            lookups[f] = hash -> dictionary.getOrDefault(hash, -1);
        }
        FileIndex.Codes[] shared = new FileIndex.Codes[columns.length];
        for (int f = 0; f < columns.length; f++) {
            shared[f] = new FileIndex.IntCodes(columns[f]);
        }
        return new FileIndex(firstSeq, count, endPosition, lookups, shared, Arrays.copyOf(blockPositions, blocks),
                Arrays.copyOf(blockMinTimes, blocks), Arrays.copyOf(blockMaxTimes, blocks), damage);
    }

    /** The finished index: dictionaries sorted by hash, codes renumbered to match, columns as narrow as they fit. */
    synchronized FileIndex build() {
        int blocks = (count + FileIndex.BLOCK - 1) / FileIndex.BLOCK;
        FileIndex.Dictionary[] sorted = new FileIndex.Dictionary[NAMED];
        FileIndex.Codes[] compact = new FileIndex.Codes[columns.length];
        for (int f = 0; f < NAMED; f++) {
            Map<Long, Integer> dictionary = dictionaries[f];
            long[] hashes = dictionary.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
            int[] renumbered = new int[dictionary.size() + 1];
            for (int rank = 0; rank < hashes.length; rank++) {
                renumbered[dictionary.get(hashes[rank])] = rank + 1;
            }
            int[] codes = new int[count];
            for (int i = 0; i < count; i++) {
                codes[i] = renumbered[columns[f][i]];
            }
            sorted[f] = new FileIndex.SortedDictionary(hashes);
            compact[f] = FileIndex.Codes.compact(codes, count, hashes.length);
        }
        compact[OUTCOME] = FileIndex.Codes.compact(columns[OUTCOME], count, 0xFF);
        return new FileIndex(firstSeq, count, endPosition, sorted, compact, Arrays.copyOf(blockPositions, blocks),
                Arrays.copyOf(blockMinTimes, blocks), Arrays.copyOf(blockMaxTimes, blocks), damage);
    }

    /**
     * Indexes a journal file from its entries, opening each seal. Where the file is damaged (an entry cut short, out
     * of sequence, not matching its hash, or not opening), the index ends and says why.
     */
    static FileIndex rebuild(Path file, long firstSeq, EntryOpener opener) throws IOException {
        EntryScanner scanner;
        try {
            scanner = EntryScanner.open(file);
        } catch (JournalDamageException e) {
            FileIndexBuilder empty = new FileIndexBuilder(firstSeq, 0);
            empty.damaged(e.getMessage());
            return empty.build();
        }
        FileIndexBuilder builder = new FileIndexBuilder(firstSeq, scanner.position());
        try (scanner) {
            if (scanner.header().firstSeq() != firstSeq) {
                builder.damaged(file + ": its header says it begins at entry " + scanner.header().firstSeq());
                return builder.build();
            }
            long expected = firstSeq;
            while (true) {
                EntryScanner.Entry entry;
                try {
                    entry = scanner.next();
                } catch (JournalDamageException e) {
                    builder.damaged(e.getMessage());
                    break;
                }
                if (entry == null) {
                    break;
                }
                String problem = entry.seq() != expected ? "expected entry " + expected + ", found " + entry.seq()
                        : entry.hashMatches() ? null : "entry " + entry.seq() + " does not match its hash";
                AuditEvent event = null;
                if (problem == null) {
                    try {
                        event = opener.open(scanner.header(), entry);
                    } catch (AEADBadTagException | KeyUnavailableException | KeyUnwrapException
                             | IllegalArgumentException e) {
                        problem = "entry " + entry.seq() + " does not open";
                    }
                }
                if (problem != null) {
                    builder.damaged(file + " at byte " + entry.position() + ": " + problem);
                    break;
                }
                builder.add(entry.seq(), entry.timeMs(), entry.position(), entry.end(), event);
                expected++;
            }
        }
        return builder.build();
    }
}
