package dev.bulwark.audit.journal;

import com.nimbusds.jose.jwk.JWKSet;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Proves a journal intact, or names its first bad entry and why, from its files and the signing public keys alone
 * (offline), or with the broker's keys as well (online, which also opens every entry's seal).
 *
 * <p>What is checked, in journal order: every checkpoint's signature; each file's header, and that it continues the
 * file before it (sequence number and hash); each entry's sequence number (a gap is an entry removed, a step back
 * entries reordered), its link to the previous entry's hash, its own hash, and where a checkpoint signs it, the
 * signed hash; at the end, that no checkpoint signs an entry past the last one (the tail was truncated). A forgery
 * that rewrites entries and recomputes every hash is caught at the first checkpoint after the rewrite: offline, the
 * first bad entry named is then the first one that checkpoint signed and its predecessor did not; online, the seal of
 * the rewritten entry does not open, which names it exactly.
 *
 * <p>Entries after the last checkpoint are covered by the hash chain but by no signature: the report says where the
 * signed part ends.
 *
 * <p>A range ({@link #verifyOnline(Path, JWKSet, EntryOpener, long, long)}) is checked from its first entry, whose
 * link to the entry before it is taken as given, and on past its last entry, without opening seals, up to the first
 * checkpoint at or after it, since that signature is what proves the range as written; nothing after that checkpoint
 * (or after the range, when no checkpoint follows it yet) is read, so a range up to {@link AuditJournal#lastDurableSeq}
 * is checked while the journal is written.
 */
public final class JournalVerifier {

    /** What is wrong with the first bad entry. */
    public enum Kind {
        /** A file's or entry's bytes are not a header or an entry. */
        MALFORMED,
        /** The journal, or an entry, ends before what was written and signed. */
        TRUNCATED,
        /** An entry's bytes are not those its hash was computed over. */
        HASH_MISMATCH,
        /** An entry does not name the hash of the entry before it. */
        BROKEN_CHAIN,
        /** An entry is missing, or entries are out of order. */
        OUT_OF_SEQUENCE,
        /** A checkpoint's signature does not verify. */
        BAD_SIGNATURE,
        /** The entries up to a checkpoint are not those it signed: rewritten, hashes and all. */
        CHECKPOINT_MISMATCH,
        /** An entry's seal does not open (online only). */
        SEAL_DOES_NOT_OPEN
    }

    /**
     * @param seq      the sequence number of the first bad entry (of the checkpoint, for a bad signature)
     * @param file     the file it is in, or the checkpoints file
     * @param position the byte offset in that file (the line number, for the checkpoints file)
     */
    public record Problem(long seq, Path file, long position, Kind kind, String message) {
    }

    /**
     * @param entries       how many entries were checked
     * @param firstSeq      the first one's sequence number (0 when there were none)
     * @param lastSeq       the last one's
     * @param checkpoints   how many signed checkpoints were checked against the entries
     * @param lastSignedSeq the last entry a checkpoint signs (0 when none does)
     */
    public record Report(long entries, long firstSeq, long lastSeq, int checkpoints, long lastSignedSeq,
                         Optional<Problem> problem) {

        public boolean intact() {
            return problem.isEmpty();
        }

        /** One line for people: "intact: ..." or "first bad entry ...". */
        public String summary() {
            if (problem.isPresent()) {
                Problem p = problem.get();
                return "first bad entry " + p.seq() + " (" + p.kind() + "): " + p.message();
            }
            return "intact: " + entries + " entries" + (entries == 0 ? "" : " (" + firstSeq + " to " + lastSeq + ")")
                    + ", " + checkpoints + " signed checkpoints, signed up to entry " + lastSignedSeq
                    + (lastSeq > lastSignedSeq ? "; entries after " + lastSignedSeq + " are chained but not yet signed"
                    : "");
        }
    }

    private final JWKSet publicKeys;
    private final Optional<EntryOpener> opener;
    private final long fromSeq;
    private final long toSeq;

    private JournalVerifier(JWKSet publicKeys, Optional<EntryOpener> opener, long fromSeq, long toSeq) {
        this.publicKeys = publicKeys;
        this.opener = opener;
        this.fromSeq = fromSeq;
        this.toSeq = toSeq;
    }

    /** Checks the journal in {@code directory} against the signing public keys: what an auditor can do offline. */
    public static Report verifyOffline(Path directory, JWKSet publicKeys) throws IOException {
        return new JournalVerifier(publicKeys, Optional.empty(), 1, Long.MAX_VALUE).verify(directory);
    }

    /** As {@link #verifyOffline}, and opens every entry's seal with the broker's keys. */
    public static Report verifyOnline(Path directory, JWKSet publicKeys, EntryOpener opener) throws IOException {
        return new JournalVerifier(publicKeys, Optional.of(opener), 1, Long.MAX_VALUE).verify(directory);
    }

    /**
     * As {@link #verifyOnline(Path, JWKSet, EntryOpener)}, for the entries {@code fromSeq} to {@code toSeq} (both
     * inclusive; see the class comment for what else is read). The report counts the entries of the range; a last
     * checkpoint line still being written (no line end yet) is not read.
     */
    public static Report verifyOnline(Path directory, JWKSet publicKeys, EntryOpener opener, long fromSeq, long toSeq)
            throws IOException {
        checkRange(fromSeq, toSeq);
        return new JournalVerifier(publicKeys, Optional.of(opener), fromSeq, toSeq).verify(directory);
    }

    /** As {@link #verifyOffline(Path, JWKSet)}, for the entries {@code fromSeq} to {@code toSeq} (both inclusive). */
    public static Report verifyOffline(Path directory, JWKSet publicKeys, long fromSeq, long toSeq)
            throws IOException {
        checkRange(fromSeq, toSeq);
        return new JournalVerifier(publicKeys, Optional.empty(), fromSeq, toSeq).verify(directory);
    }

    private static void checkRange(long fromSeq, long toSeq) {
        if (fromSeq < 1 || toSeq < fromSeq) {
            throw new IllegalArgumentException("a range of entries is 1 <= from <= to, not " + fromSeq + " to "
                    + toSeq);
        }
    }

    private static long firstSeq(Path file) {
        return Long.parseLong(file.getFileName().toString().substring(0, 20));
    }

    private boolean whole() {
        return fromSeq == 1 && toSeq == Long.MAX_VALUE;
    }

    private Report verify(Path directory) throws IOException {
        Path checkpointsFile = directory.resolve(AuditJournal.CHECKPOINTS_FILE);
        TreeMap<Long, Checkpoint> checkpoints = new TreeMap<>();
        if (Files.exists(checkpointsFile)) {
            String text = Files.readString(checkpointsFile, StandardCharsets.US_ASCII);
            List<String> lines = new ArrayList<>(text.lines().toList());
            if (!whole() && !text.isEmpty() && !text.endsWith("\n")) {
                lines.remove(lines.size() - 1);
            }
            for (int i = 0; i < lines.size(); i++) {
                try {
                    Checkpoint checkpoint = Checkpoint.verify(lines.get(i), publicKeys);
                    checkpoints.put(checkpoint.seq(), checkpoint);
                } catch (Checkpoint.BadCheckpointException e) {
                    return new Report(0, 0, 0, 0, 0, Optional.of(new Problem(-1, checkpointsFile, i + 1,
                            Kind.BAD_SIGNATURE, "checkpoint on line " + (i + 1) + ": " + e.getMessage())));
                }
            }
        }
        Long signedAfter = checkpoints.ceilingKey(toSeq);
        Walk walk = new Walk(checkpoints, toSeq == Long.MAX_VALUE || signedAfter == null ? toSeq : signedAfter);
        List<Path> files = JournalFormat.files(directory);
        for (int i = 0; i < files.size() && !walk.done; i++) {
            if (i + 1 < files.size() && firstSeq(files.get(i + 1)) <= fromSeq) {
                continue;
            }
            Optional<Problem> problem = walk.file(files.get(i));
            if (problem.isPresent()) {
                return walk.report(problem);
            }
        }
        Map.Entry<Long, Checkpoint> beyond = checkpoints.higherEntry(walk.lastRead);
        if (!walk.done && beyond != null && walk.lastRead > 0) {
            return walk.report(Optional.of(new Problem(walk.lastRead + 1, checkpointsFile, 0, Kind.TRUNCATED,
                    "the journal ends at entry " + walk.lastRead + ", but a checkpoint signs entry " + beyond.getKey()
                            + ": entries were cut off its end")));
        }
        if (walk.lastRead == 0 && !checkpoints.isEmpty()) {
            return walk.report(Optional.of(new Problem(checkpoints.firstKey(), directory, 0, Kind.TRUNCATED,
                    "no journal file is left, but checkpoints sign entries up to " + checkpoints.lastKey())));
        }
        return walk.report(Optional.empty());
    }

    /** The state of one pass over the files. */
    private final class Walk {
        private final TreeMap<Long, Checkpoint> checkpoints;
        /** The walk ends after this entry. */
        private final long stopAt;
        private boolean done;
        private boolean walked;
        private long entries;
        private long firstSeq;
        private long lastSeq = -1;
        /** The hash of entry lastSeq; null until the walk reaches the first entry it checks. */
        private byte[] lastHash;
        /** The last entry of the range checked. */
        private long lastInRange = -1;
        /** The last entry read, checked or not (0 when none was). */
        private long lastRead;
        private int matched;
        private long lastSignedSeq;

        Walk(TreeMap<Long, Checkpoint> checkpoints, long stopAt) {
            this.checkpoints = checkpoints;
            this.stopAt = stopAt;
        }

        Report report(Optional<Problem> problem) {
            return new Report(entries, firstSeq, Math.max(lastInRange, 0), matched, lastSignedSeq, problem);
        }

        private void startAt(long seq, byte[] previousHash) {
            firstSeq = seq;
            lastSeq = seq - 1;
            lastInRange = seq - 1;
            lastHash = previousHash;
        }

        Optional<Problem> file(Path file) throws IOException {
            EntryScanner scanner;
            try {
                scanner = EntryScanner.open(file);
            } catch (JournalDamageException e) {
                return Optional.of(new Problem(lastRead + 1, file, e.position(),
                        e.cutShort() ? Kind.TRUNCATED : Kind.MALFORMED, e.getMessage()));
            }
            try (scanner) {
                JournalFormat.Header header = scanner.header();
                boolean first = !walked;
                walked = true;
                if (lastHash == null && first && header.firstSeq() >= fromSeq) {
                    // The oldest file left (retention may have deleted those before it) or the range's first file:
                    // where proof starts.
                    startAt(header.firstSeq(), header.previousHash());
                } else if (lastHash == null && header.firstSeq() <= fromSeq) {
                    // The range starts inside this file: its entries before the range are skipped.
                    lastRead = header.firstSeq() - 1;
                } else if (lastHash == null) {
                    // The file before ended before the range began, and this one begins after it.
                    startAt(fromSeq, header.previousHash());
                    return Optional.of(sequenceProblem(file, 0, fromSeq, header.firstSeq(), "file"));
                } else if (header.firstSeq() != lastSeq + 1) {
                    return Optional.of(sequenceProblem(file, 0, lastSeq + 1, header.firstSeq(), "file"));
                } else if (!Arrays.equals(header.previousHash(), lastHash)) {
                    return Optional.of(new Problem(header.firstSeq(), file, 0, Kind.BROKEN_CHAIN,
                            "the file does not continue the hash chain of the file before it"));
                }
                while (true) {
                    EntryScanner.Entry entry;
                    try {
                        entry = scanner.next();
                    } catch (JournalDamageException e) {
                        return Optional.of(new Problem(lastRead + 1, file, e.position(),
                                e.cutShort() ? Kind.TRUNCATED : Kind.MALFORMED, e.getMessage()));
                    }
                    if (entry == null) {
                        return Optional.empty();
                    }
                    if (lastHash == null) {
                        if (entry.seq() < fromSeq) {
                            lastRead = entry.seq();
                            continue;
                        }
                        // The range's first entry: its link to the entry before it is taken as given.
                        startAt(fromSeq, entry.previousHash());
                    }
                    Optional<Problem> problem = entry(header, entry);
                    if (problem.isPresent() || done) {
                        return problem;
                    }
                }
            }
        }

        private Optional<Problem> entry(JournalFormat.Header header, EntryScanner.Entry entry) {
            long expected = lastSeq + 1;
            if (entry.seq() != expected) {
                return Optional.of(sequenceProblem(entry.file(), entry.position(), expected, entry.seq(), "entry"));
            }
            if (!Arrays.equals(entry.previousHash(), lastHash)) {
                return Optional.of(new Problem(entry.seq(), entry.file(), entry.position(), Kind.BROKEN_CHAIN,
                        "entry " + entry.seq() + " does not name the hash of entry " + lastSeq));
            }
            if (!entry.hashMatches()) {
                return Optional.of(new Problem(entry.seq(), entry.file(), entry.position(), Kind.HASH_MISMATCH,
                        "entry " + entry.seq() + "'s bytes are not those its hash was computed over"));
            }
            if (opener.isPresent() && entry.seq() <= toSeq) {
                try {
                    opener.get().open(header, entry);
                } catch (AEADBadTagException | KeyUnavailableException | KeyUnwrapException
                         | IllegalArgumentException e) {
                    return Optional.of(new Problem(entry.seq(), entry.file(), entry.position(),
                            Kind.SEAL_DOES_NOT_OPEN, "entry " + entry.seq() + "'s sealed event does not open: "
                            + (e.getMessage() == null ? "its bytes were changed or moved" : e.getMessage())));
                }
            }
            Checkpoint checkpoint = checkpoints.get(entry.seq());
            if (checkpoint != null) {
                if (!checkpoint.covers(entry.seq(), entry.storedHash())) {
                    long from = lastSignedSeq == 0 ? firstSeq : lastSignedSeq + 1;
                    return Optional.of(new Problem(from, entry.file(), entry.position(), Kind.CHECKPOINT_MISMATCH,
                            "entries " + from + " to " + entry.seq() + " are not those the checkpoint at entry "
                                    + entry.seq() + " signed: they were rewritten"));
                }
                matched++;
                lastSignedSeq = entry.seq();
            }
            if (entry.seq() <= toSeq) {
                entries++;
                lastInRange = entry.seq();
            }
            lastSeq = entry.seq();
            lastRead = entry.seq();
            lastHash = entry.storedHash();
            done = entry.seq() >= stopAt;
            return Optional.empty();
        }

        private Problem sequenceProblem(Path file, long position, long expected, long found, String what) {
            String message = "expected entry " + expected + " but the " + what + " holds " + found + (found > expected
                    ? ": entry " + expected + " was removed, or moved out of order" : ": entries are out of order");
            return new Problem(expected, file, position, Kind.OUT_OF_SEQUENCE, message);
        }
    }
}
