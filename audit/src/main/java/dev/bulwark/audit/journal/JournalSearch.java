package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Auditors' queries: the events an {@link EventFilter} selects, in journal order, from a sequence number on, never
 * past the last entry on disk ({@link AuditJournal#lastDurableSeq}, read when the query starts). The journal's
 * {@link JournalIndex} says which entries can match; only those are read and opened, and each is checked as
 * {@link JournalReader} checks it (its sequence number, its hash, its seal) and against the filter itself.
 *
 * <p>Thread-safe; a query reads files only, so queries run alongside the journal's writer and each other.
 */
public final class JournalSearch {

    /**
     * A page of events and where the next one starts.
     *
     * @param next the sequence number of the first match after this page, empty when there was none (yet)
     */
    public record Page(List<JournalReader.Stored> events, OptionalLong next) {
    }

    private final AuditJournal journal;
    private final EntryOpener opener;

    public JournalSearch(AuditJournal journal, EntryOpener opener) {
        this.journal = journal;
        this.opener = opener;
    }

    /** The first {@code limit} matches from {@code fromSeq} on. */
    public Page page(EventFilter filter, long fromSeq, int limit) throws IOException {
        if (limit < 1) {
            throw new IllegalArgumentException("a page holds at least one event");
        }
        List<JournalReader.Stored> events = new ArrayList<>(Math.min(limit, 1024));
        long[] next = {-1};
        scan(filter, fromSeq, stored -> {
            if (events.size() == limit) {
                next[0] = stored.seq();
                return false;
            }
            events.add(stored);
            return true;
        });
        return new Page(events, next[0] < 0 ? OptionalLong.empty() : OptionalLong.of(next[0]));
    }

    /**
     * Hands every match from {@code fromSeq} on to {@code visitor}, in order, until it returns false.
     *
     * @throws JournalDamageException when an entry the query reaches is damaged: nothing past it is served
     */
    public void scan(EventFilter filter, long fromSeq, JournalReader.Visitor visitor) throws IOException {
        long upTo = journal.lastDurableSeq();
        List<JournalIndex.IndexedFile> files = journal.index().files();
        for (int i = 0; i < files.size(); i++) {
            JournalIndex.IndexedFile file = files.get(i);
            long nextFirstSeq = i + 1 < files.size() ? files.get(i + 1).firstSeq() : Long.MAX_VALUE;
            if (nextFirstSeq <= fromSeq) {
                continue;
            }
            if (file.firstSeq() > upTo) {
                return;
            }
            Optional<long[]> times = file.timeRange();
            if (times.isPresent() && !filter.overlaps(times.get()[0], times.get()[1])) {
                continue;
            }
            FileIndex index = file.index();
            if (!scanFile(file, index, filter, fromSeq, upTo, visitor)) {
                return;
            }
            long unindexed = Math.max(fromSeq, index.lastSeq() + 1);
            if (index.damage != null && unindexed <= Math.min(upTo, nextFirstSeq - 1)) {
                throw new JournalDamageException(file.file(), index.endPosition, "entries from " + unindexed
                        + " on are not served: " + index.damage);
            }
        }
    }

    /** Scans one file's matches; false when the visitor wants no more. */
    private boolean scanFile(JournalIndex.IndexedFile file, FileIndex index, EventFilter filter, long fromSeq,
                             long upTo, JournalReader.Visitor visitor) throws IOException {
        int[] codes = index.codesOf(filter);
        long first = Math.max(fromSeq, index.firstSeq);
        long last = Math.min(upTo, index.lastSeq());
        if (codes == null || first > last) {
            return true;
        }
        try (BlockReader reader = new BlockReader(file, index)) {
            int lastBlock = (int) ((last - index.firstSeq) / FileIndex.BLOCK);
            for (int b = (int) ((first - index.firstSeq) / FileIndex.BLOCK); b <= lastBlock; b++) {
                if (!filter.overlaps(index.blockMinTimes[b], index.blockMaxTimes[b])) {
                    continue;
                }
                long blockFirst = index.firstSeq + (long) b * FileIndex.BLOCK;
                long mask = index.matches(b, codes) & range(first - blockFirst, last - blockFirst);
                if (mask != 0 && !reader.visit(b, blockFirst, mask, filter, visitor)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The bits of a block's entries {@code from..to} (relative; either may lie outside the block). */
    private static long range(long from, long to) {
        long low = from <= 0 ? -1L : from >= FileIndex.BLOCK ? 0 : -1L << from;
        long high = to >= FileIndex.BLOCK - 1 ? -1L : to < 0 ? 0 : (1L << (to + 1)) - 1;
        return low & high;
    }

    /** Reads a file's blocks and opens the entries a mask selects. */
    private final class BlockReader implements AutoCloseable {
        private final JournalIndex.IndexedFile file;
        private final FileIndex index;
        private FileChannel channel;
        private JournalFormat.Header header;

        BlockReader(JournalIndex.IndexedFile file, FileIndex index) {
            this.file = file;
            this.index = index;
        }

        /** Visits the entries of block {@code b} whose bits are set; false when the visitor wants no more. */
        boolean visit(int b, long blockFirst, long mask, EventFilter filter, JournalReader.Visitor visitor)
                throws IOException {
            long position = index.blockPositions[b];
            ByteBuffer bytes = read(position, index.blockEnd(b));
            for (int i = 0; i < FileIndex.BLOCK && mask >>> i != 0; i++) {
                long at = position + bytes.position();
                if (bytes.remaining() < 4) {
                    throw damage(at, "the index points past the entries");
                }
                int length = bytes.getInt();
                if (length < JournalFormat.BODY_FIXED + 16 || length > bytes.remaining() - JournalFormat.HASH_LENGTH) {
                    throw damage(at, "an entry claims a body of " + length + " bytes");
                }
                if ((mask >>> i & 1) == 0) {
                    bytes.position(bytes.position() + length + JournalFormat.HASH_LENGTH);
                    continue;
                }
                byte[] body = new byte[length];
                byte[] hash = new byte[JournalFormat.HASH_LENGTH];
                bytes.get(body).get(hash);
                ByteBuffer fixed = ByteBuffer.wrap(body);
                long seq = fixed.getLong();
                long time = fixed.getLong();
                byte[] previous = new byte[JournalFormat.HASH_LENGTH];
                fixed.get(previous);
                if (seq != blockFirst + i) {
                    throw damage(at, "expected entry " + (blockFirst + i) + ", found " + seq);
                }
                if (!filter.inTime(time)) {
                    continue;
                }
                EntryScanner.Entry entry = new EntryScanner.Entry(file.file(), at, seq, time, previous, body, hash);
                AuditEvent event = open(entry);
                if (filter.matches(event) && !visitor.visit(new JournalReader.Stored(seq, event))) {
                    return false;
                }
            }
            return true;
        }

        private AuditEvent open(EntryScanner.Entry entry) throws IOException {
            if (!entry.hashMatches()) {
                throw damage(entry.position(), "entry " + entry.seq() + " does not match its hash");
            }
            try {
                return opener.open(header(), entry);
            } catch (AEADBadTagException | KeyUnavailableException | KeyUnwrapException | IllegalArgumentException e) {
                throw damage(entry.position(), "entry " + entry.seq() + " does not open: "
                        + (e.getMessage() == null ? "its bytes were changed" : e.getMessage()));
            }
        }

        private ByteBuffer read(long from, long to) throws IOException {
            if (channel == null) {
                channel = FileChannel.open(file.file(), StandardOpenOption.READ);
            }
            ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(to - from));
            while (bytes.hasRemaining()) {
                if (channel.read(bytes, from + bytes.position()) < 0) {
                    throw damage(from, "the file ends before the entries its index holds");
                }
            }
            return bytes.flip();
        }

        private JournalFormat.Header header() throws IOException {
            if (header == null) {
                try (EntryScanner scanner = EntryScanner.open(file.file())) {
                    header = scanner.header();
                }
            }
            return header;
        }

        private JournalDamageException damage(long position, String reason) {
            return new JournalDamageException(file.file(), position, reason);
        }

        @Override
        public void close() throws IOException {
            if (channel != null) {
                channel.close();
            }
        }
    }
}
