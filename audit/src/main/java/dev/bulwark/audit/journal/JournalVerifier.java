package dev.bulwark.audit.journal;

import com.nimbusds.jose.jwk.JWKSet;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;

import javax.crypto.AEADBadTagException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private JournalVerifier(JWKSet publicKeys, Optional<EntryOpener> opener) {
        this.publicKeys = publicKeys;
        this.opener = opener;
    }

    /** Checks the journal in {@code directory} against the signing public keys: what an auditor can do offline. */
    public static Report verifyOffline(Path directory, JWKSet publicKeys) throws IOException {
        return new JournalVerifier(publicKeys, Optional.empty()).verify(directory);
    }

    /** As {@link #verifyOffline}, and opens every entry's seal with the broker's keys. */
    public static Report verifyOnline(Path directory, JWKSet publicKeys, EntryOpener opener) throws IOException {
        return new JournalVerifier(publicKeys, Optional.of(opener)).verify(directory);
    }

    private Report verify(Path directory) throws IOException {
        Path checkpointsFile = directory.resolve(AuditJournal.CHECKPOINTS_FILE);
        TreeMap<Long, Checkpoint> checkpoints = new TreeMap<>();
        if (Files.exists(checkpointsFile)) {
            List<String> lines = Files.readAllLines(checkpointsFile, StandardCharsets.US_ASCII);
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
        Walk walk = new Walk(checkpoints);
        for (Path file : JournalFormat.files(directory)) {
            Optional<Problem> problem = walk.file(file);
            if (problem.isPresent()) {
                return walk.report(problem);
            }
        }
        Map.Entry<Long, Checkpoint> beyond = checkpoints.higherEntry(walk.lastSeq);
        if (beyond != null && walk.entries > 0) {
            return walk.report(Optional.of(new Problem(walk.lastSeq + 1, checkpointsFile, 0, Kind.TRUNCATED,
                    "the journal ends at entry " + walk.lastSeq + ", but a checkpoint signs entry " + beyond.getKey()
                            + ": entries were cut off its end")));
        }
        if (walk.entries == 0 && !checkpoints.isEmpty()) {
            return walk.report(Optional.of(new Problem(checkpoints.firstKey(), directory, 0, Kind.TRUNCATED,
                    "no journal file is left, but checkpoints sign entries up to " + checkpoints.lastKey())));
        }
        return walk.report(Optional.empty());
    }

    /** The state of one pass over the files. */
    private final class Walk {
        private final TreeMap<Long, Checkpoint> checkpoints;
        private long entries;
        private long firstSeq;
        private long lastSeq = -1;
        private byte[] lastHash;
        private int matched;
        private long lastSignedSeq;

        Walk(TreeMap<Long, Checkpoint> checkpoints) {
            this.checkpoints = checkpoints;
        }

        Report report(Optional<Problem> problem) {
            return new Report(entries, firstSeq, Math.max(lastSeq, 0), matched, lastSignedSeq, problem);
        }

        Optional<Problem> file(Path file) throws IOException {
            EntryScanner scanner;
            try {
                scanner = EntryScanner.open(file);
            } catch (JournalDamageException e) {
                return Optional.of(new Problem(lastSeq + 1, file, e.position(),
                        e.cutShort() ? Kind.TRUNCATED : Kind.MALFORMED, e.getMessage()));
            }
            try (scanner) {
                JournalFormat.Header header = scanner.header();
                if (lastHash == null) {
                    // The oldest file left: retention may have deleted those before it, so it is where proof starts.
                    firstSeq = header.firstSeq();
                    lastSeq = header.firstSeq() - 1;
                    lastHash = header.previousHash();
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
                        return Optional.of(new Problem(lastSeq + 1, file, e.position(),
                                e.cutShort() ? Kind.TRUNCATED : Kind.MALFORMED, e.getMessage()));
                    }
                    if (entry == null) {
                        return Optional.empty();
                    }
                    Optional<Problem> problem = entry(header, entry);
                    if (problem.isPresent()) {
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
            if (opener.isPresent()) {
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
            entries++;
            lastSeq = entry.seq();
            lastHash = entry.storedHash();
            return Optional.empty();
        }

        private Problem sequenceProblem(Path file, long position, long expected, long found, String what) {
            String message = "expected entry " + expected + " but the " + what + " holds " + found + (found > expected
                    ? ": entry " + expected + " was removed, or moved out of order" : ": entries are out of order");
            return new Problem(expected, file, position, Kind.OUT_OF_SEQUENCE, message);
        }
    }
}
