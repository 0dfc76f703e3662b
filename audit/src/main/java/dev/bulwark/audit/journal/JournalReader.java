package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the journal's events in order, opening each seal: what queries and the audit stream are built on. Entries are
 * read up to a given sequence number (the journal's {@link AuditJournal#lastDurableSeq}), so a reader never sees an
 * entry before it is on disk, nor the half of one being written.
 */
public final class JournalReader {

    /** An event and its sequence number in the journal. */
    public record Stored(long seq, AuditEvent event) {
    }

    /** What a scan is handed, in sequence order; returns false to stop. */
    @FunctionalInterface
    public interface Visitor {
        boolean visit(Stored stored) throws IOException;
    }

    private final Path directory;
    private final EntryOpener opener;

    public JournalReader(Path directory, EntryOpener opener) {
        this.directory = directory;
        this.opener = opener;
    }

    /**
     * Hands the entries {@code fromSeq} to {@code toSeq} (both inclusive) to {@code visitor}, until it returns false.
     *
     * @throws JournalDamageException when an entry in the range does not open or is damaged: the range is not
     *                                served past it (verification says why)
     */
    public void scan(long fromSeq, long toSeq, Visitor visitor) throws IOException {
        List<Path> files = JournalFormat.files(directory);
        for (int i = 0; i < files.size(); i++) {
            if (i + 1 < files.size() && firstSeq(files.get(i + 1)) <= fromSeq) {
                continue;
            }
            if (firstSeq(files.get(i)) > toSeq) {
                return;
            }
            try (EntryScanner scanner = EntryScanner.open(files.get(i))) {
                for (EntryScanner.Entry entry = scanner.next(); entry != null; entry = scanner.next()) {
                    if (entry.seq() < fromSeq) {
                        continue;
                    }
                    if (entry.seq() > toSeq) {
                        return;
                    }
                    if (!visitor.visit(new Stored(entry.seq(), open(scanner.header(), entry)))) {
                        return;
                    }
                }
            }
        }
    }

    private AuditEvent open(JournalFormat.Header header, EntryScanner.Entry entry) throws JournalDamageException {
        if (!entry.hashMatches()) {
            throw new JournalDamageException(entry.file(), entry.position(), "entry " + entry.seq()
                    + " does not match its hash");
        }
        try {
            return opener.open(header, entry);
        } catch (AEADBadTagException | KeyUnavailableException | KeyUnwrapException | IllegalArgumentException e) {
            throw new JournalDamageException(entry.file(), entry.position(), "entry " + entry.seq()
                    + " does not open: " + (e.getMessage() == null ? "its bytes were changed" : e.getMessage()));
        }
    }

    private static long firstSeq(Path file) {
        return Long.parseLong(file.getFileName().toString().substring(0, 20));
    }
}
