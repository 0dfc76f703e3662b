package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal on real files and real keys: what it writes verifies intact offline and online, and each kind of
 * tampering is reported at the first bad entry, by both.
 */
class AuditJournalTest {

    private static final AuditJournal.Settings EVERY_TEN = new AuditJournal.Settings(64L << 20, 10,
            Duration.ofHours(1), Duration.ofDays(7 * 365));

    @TempDir
    Path dataDir;

    private final String marker = "audit-" + UUID.randomUUID();
    private final AesGcm gcm = new AesGcm();
    private Keyring keyring;
    private CheckpointSigner signer;
    private Path directory;
    private AuditJournal journal;

    @BeforeEach
    void open() throws Exception {
        keyring = Keyring.open(dataDir, MasterKeySource.devKey(dataDir, gcm).kms(), gcm);
        directory = dataDir.resolve("audit");
        signer = CheckpointSigner.openOrCreate(directory, new SealedFiles(new AtRestKeys(keyring, gcm)));
    }

    @AfterEach
    void close() throws IOException {
        if (journal != null) {
            journal.close();
        }
    }

    private AuditJournal reopen(AuditJournal.Settings settings) throws IOException {
        if (journal != null) {
            journal.close();
        }
        journal = AuditJournal.open(directory, keyring, gcm, signer, settings, Clock.systemUTC());
        return journal;
    }

    private AuditEvent event(int i) {
        return new AuditEvent(1_700_000_000_000L + i, "tenant-" + marker, "alice-" + marker, "10.0.0.7:5123",
                "apache-kafka-java/4.4.0", "SASL_SSL", "topic.create", "topic:payments-" + marker + "-" + i,
                i % 3 == 0 ? Outcome.DENIED : Outcome.SUCCESS, i % 3 == 0 ? "no ACL allows it" : null,
                Map.of("partitions", Integer.toString(i)));
    }

    /** Appends {@code count} events, each durable before the next, and closes the journal. */
    private void write(int count) throws Exception {
        reopen(EVERY_TEN);
        long first = journal.append(event(0)).get();
        for (int i = 1; i < count; i++) {
            assertEquals(first + i, journal.append(event(i)).get(), "numbered in order, without gaps");
        }
        journal.close();
        journal = null;
    }

    private JournalVerifier.Report offline() throws IOException {
        return JournalVerifier.verifyOffline(directory, signer.publicKeys());
    }

    private JournalVerifier.Report online() throws IOException {
        return JournalVerifier.verifyOnline(directory, signer.publicKeys(), new EntryOpener(keyring, gcm));
    }

    private JournalVerifier.Report online(long fromSeq, long toSeq) throws IOException {
        return JournalVerifier.verifyOnline(directory, signer.publicKeys(), new EntryOpener(keyring, gcm), fromSeq,
                toSeq);
    }

    // ---------------------------------------------------------------- intact

    @Test
    void whatIsWrittenIsSealedChainedSignedAndVerifiesIntact() throws Exception {
        write(25);

        JournalVerifier.Report report = offline();
        assertTrue(report.intact(), report.summary());
        assertEquals(25, report.entries());
        assertEquals(3, report.checkpoints(), "after entries 10 and 20, and at the close");
        assertEquals(25, report.lastSignedSeq());
        assertTrue(online().intact(), online().summary());
        assertTrue(report.summary().startsWith("intact: 25 entries (1 to 25), 3 signed checkpoints"),
                report.summary());
        byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(contains(Files.readAllBytes(file), needle), file + " holds an event in the clear");
            }
        }
        List<EntryScanner.Entry> entries = entries(onlyFile());
        AuditEvent read = new EntryOpener(keyring, gcm).open(EntryScanner.open(onlyFile()).header(), entries.get(3));
        assertEquals(event(3), read);
        assertFalse(Files.getPosixFilePermissions(onlyFile()).contains(PosixFilePermission.OWNER_WRITE),
                "a closed file is read-only");
    }

    @Test
    void aReaderGetsTheEventsOfARangeInOrderAcrossFiles() throws Exception {
        write(5);
        write(5);
        List<JournalReader.Stored> read = new ArrayList<>();
        JournalReader reader = new JournalReader(directory, new EntryOpener(keyring, gcm));

        reader.scan(4, 8, stored -> read.add(stored));

        assertEquals(List.of(4L, 5L, 6L, 7L, 8L), read.stream().map(JournalReader.Stored::seq).toList());
        assertEquals(event(3), read.get(0).event());
        assertEquals(event(0), read.get(2).event(), "entry 6 is the second start's first event");
        read.clear();
        reader.scan(1, 100, stored -> read.size() < 2 && read.add(stored));
        assertEquals(2, read.size(), "the visitor stops the scan");
    }

    @Test
    void eachStartBeginsANewFileThatContinuesTheChain() throws Exception {
        write(5);
        write(7);

        assertEquals(2, JournalFormat.files(directory).size());
        assertEquals(JournalFormat.fileName(6), JournalFormat.files(directory).get(1).getFileName().toString());
        JournalVerifier.Report report = online();
        assertTrue(report.intact(), report.summary());
        assertEquals(12, report.lastSeq());
    }

    @Test
    void aLastEntryCutShortByACrashIsCutOffAtStart() throws Exception {
        write(4);
        Path file = onlyFile();
        EntryScanner.Entry last = entries(file).get(3);
        file.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, (int) last.position() + 20)); // entry 4 half written,
        Files.delete(directory.resolve(AuditJournal.CHECKPOINTS_FILE)); // so never acknowledged, nor signed

        reopen(EVERY_TEN);
        assertEquals(4, journal.append(event(99)).get(), "the next entry takes the number the torn one had");
        journal.close();
        journal = null;

        JournalVerifier.Report report = online();
        assertTrue(report.intact(), report.summary());
        assertEquals(4, report.lastSeq());
    }

    @Test
    void filesPastTheRetentionAreDeletedAndTheRestStillVerifies() throws Exception {
        write(3);
        write(3);
        Path old = JournalFormat.files(directory).get(0);
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(8))));

        reopen(new AuditJournal.Settings(64L << 20, 10, Duration.ofHours(1), Duration.ofDays(7)));
        journal.close();
        journal = null;

        assertFalse(Files.exists(old));
        JournalVerifier.Report report = offline();
        assertTrue(report.intact(), report.summary());
        assertEquals(4, report.firstSeq());
    }

    // ---------------------------------------------------------------- tampering

    @Test
    void aFlippedByteIsTheFirstBadEntry() throws Exception {
        write(25);
        EntryScanner.Entry entry = entries(onlyFile()).get(11);
        patch(onlyFile(), entry.position() + 4 + JournalFormat.BODY_FIXED + 3, b -> (byte) (b ^ 0x40));

        assertFirstBad(12, JournalVerifier.Kind.HASH_MISMATCH, offline());
        assertFirstBad(12, JournalVerifier.Kind.HASH_MISMATCH, online());
    }

    @Test
    void aDeletedEntryIsReportedWhereItWas() throws Exception {
        write(25);
        List<EntryScanner.Entry> entries = entries(onlyFile());
        rewrite(onlyFile(), entries, List.of(cut(entries, 7)));

        assertFirstBad(8, JournalVerifier.Kind.OUT_OF_SEQUENCE, offline());
        assertFirstBad(8, JournalVerifier.Kind.OUT_OF_SEQUENCE, online());
    }

    @Test
    void swappedEntriesAreReportedAtTheFirst() throws Exception {
        write(25);
        List<EntryScanner.Entry> entries = new ArrayList<>(entries(onlyFile()));
        EntryScanner.Entry fifth = entries.get(4);
        entries.set(4, entries.get(5));
        entries.set(5, fifth);
        rewrite(onlyFile(), entries, List.of());

        assertFirstBad(5, JournalVerifier.Kind.OUT_OF_SEQUENCE, offline());
        assertFirstBad(5, JournalVerifier.Kind.OUT_OF_SEQUENCE, online());
    }

    @Test
    void aTailCutOffAfterASignedCheckpointIsReported() throws Exception {
        write(25);
        List<EntryScanner.Entry> entries = entries(onlyFile());
        onlyFile().toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(onlyFile());
        Files.write(onlyFile(), Arrays.copyOf(bytes, (int) entries.get(18).position()));

        assertFirstBad(19, JournalVerifier.Kind.TRUNCATED, offline());
        assertFirstBad(19, JournalVerifier.Kind.TRUNCATED, online());
    }

    @Test
    void aRehashedForgeryIsCaughtByTheSignatureOfflineAndByTheSealOnline() throws Exception {
        write(25);
        List<EntryScanner.Entry> entries = entries(onlyFile());
        // Entry 14's sealed event replaced by entry 13's, and every hash from there recomputed: the chain is whole,
        // but nobody without the signing key can sign it.
        List<byte[]> sealed = new ArrayList<>();
        entries.forEach(e -> sealed.add(e.sealed()));
        sealed.set(13, sealed.get(12));
        forge(onlyFile(), entries, sealed);

        JournalVerifier.Report offline = offline();
        assertFirstBad(11, JournalVerifier.Kind.CHECKPOINT_MISMATCH, offline);
        assertTrue(offline.problem().orElseThrow().message().contains("entries 11 to 20"), offline.summary());
        assertFirstBad(14, JournalVerifier.Kind.SEAL_DOES_NOT_OPEN, online());
    }

    @Test
    void aForgedCheckpointIsABadSignature() throws Exception {
        write(25);
        Path checkpoints = directory.resolve(AuditJournal.CHECKPOINTS_FILE);
        List<String> lines = new ArrayList<>(Files.readAllLines(checkpoints));
        String[] parts = lines.get(1).split("\\.");
        String payload = new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"seq\":20", "\"seq\":21");
        lines.set(1, parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2]);
        Files.write(checkpoints, lines);

        JournalVerifier.Report report = offline();
        assertFalse(report.intact());
        assertEquals(JournalVerifier.Kind.BAD_SIGNATURE, report.problem().orElseThrow().kind(), report.summary());
    }

    @Test
    void verifiesARangeOfflineWithThePublicKeysAlone() throws Exception {
        write(12);
        JournalVerifier.Report report = JournalVerifier.verifyOffline(directory,
                CheckpointSigner.readPublicKeys(directory.resolve(CheckpointSigner.PUBLIC_KEYS_FILE)), 4, 9);
        assertTrue(report.intact(), report.summary());
        assertEquals(6, report.entries(), report.summary());
        assertThrows(IllegalArgumentException.class, () -> JournalVerifier.verifyOffline(directory,
                CheckpointSigner.readPublicKeys(directory.resolve(CheckpointSigner.PUBLIC_KEYS_FILE)), 9, 4));
    }

    // ---------------------------------------------------------------- a range, online

    @Test
    void aRangeIsCheckedUpToTheCheckpointThatSignsItAndNoFurther() throws Exception {
        write(25); // checkpoints after entries 10, 20 and 25
        write(25); // entries 26 to 50: checkpoints after 35, 45 and 50

        JournalVerifier.Report range = online(13, 28);
        assertTrue(range.intact(), range.summary());
        assertEquals(16, range.entries(), "entries 13 to 28");
        assertEquals(13, range.firstSeq());
        assertEquals(28, range.lastSeq());
        assertEquals(35, range.lastSignedSeq(), "checked on to the checkpoint after the range");

        List<EntryScanner.Entry> second = entries(JournalFormat.files(directory).get(1));
        flipSealedByte(second.get(13)); // entry 39, past that checkpoint
        assertTrue(online(13, 28).intact(), "nothing after the checkpoint that signs the range is read");
        flipSealedByte(second.get(7)); // entry 33, between the range and its checkpoint
        assertFirstBad(33, JournalVerifier.Kind.HASH_MISMATCH, online(13, 28));
    }

    @Test
    void aRangeNamesItsFirstBadEntry() throws Exception {
        write(25);
        List<EntryScanner.Entry> entries = entries(onlyFile());
        rewrite(onlyFile(), entries, List.of(cut(entries, 14)));

        assertTrue(online(1, 10).intact(), online(1, 10).summary());
        // Entries 11 to 13 are whole, but the checkpoint at 20 that proves them is reached only across the gap.
        assertFirstBad(15, JournalVerifier.Kind.OUT_OF_SEQUENCE, online(11, 13));
        assertFirstBad(15, JournalVerifier.Kind.OUT_OF_SEQUENCE, online(15, 18));
        assertFirstBad(15, JournalVerifier.Kind.OUT_OF_SEQUENCE, online(12, 18));
        assertThrows(IllegalArgumentException.class, () -> online(5, 4));
    }

    @Test
    void aRangeWithNoCheckpointAfterItEndsAtItsLastEntry() throws Exception {
        reopen(EVERY_TEN);
        for (int i = 0; i < 15; i++) {
            journal.append(event(i)).get();
        }
        // The journal is still being written: entries 11 to 15 are not signed yet.
        JournalVerifier.Report range = online(8, journal.lastDurableSeq());
        assertTrue(range.intact(), range.summary());
        assertEquals(8, range.entries());
        assertEquals(10, range.lastSignedSeq());
        assertTrue(range.summary().contains("entries after 10 are chained but not yet signed"), range.summary());
    }

    @Test
    void appendsAfterCloseFail() throws Exception {
        reopen(EVERY_TEN);
        journal.close();
        assertThrows(Exception.class, () -> journal.append(event(1)).get());
        journal = null;
    }

    // ---------------------------------------------------------------- helpers

    private static void assertFirstBad(long seq, JournalVerifier.Kind kind, JournalVerifier.Report report) {
        assertFalse(report.intact(), "tampering went unnoticed");
        JournalVerifier.Problem problem = report.problem().orElseThrow();
        assertEquals(kind, problem.kind(), report.summary());
        assertEquals(seq, problem.seq(), report.summary());
    }

    private Path onlyFile() throws IOException {
        List<Path> files = JournalFormat.files(directory);
        assertEquals(1, files.size());
        return files.get(0);
    }

    private static List<EntryScanner.Entry> entries(Path file) throws IOException {
        List<EntryScanner.Entry> entries = new ArrayList<>();
        try (EntryScanner scanner = EntryScanner.open(file)) {
            for (EntryScanner.Entry e = scanner.next(); e != null; e = scanner.next()) {
                entries.add(e);
            }
        }
        return entries;
    }

    private static EntryScanner.Entry cut(List<EntryScanner.Entry> entries, int index) {
        return entries.get(index);
    }

    private interface ByteChange {
        byte apply(byte b);
    }

    private static void flipSealedByte(EntryScanner.Entry entry) throws IOException {
        patch(entry.file(), entry.position() + 4 + JournalFormat.BODY_FIXED + 3, b -> (byte) ~b);
    }

    private static void patch(Path file, long position, ByteChange change) throws IOException {
        file.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) position] = change.apply(bytes[(int) position]);
        Files.write(file, bytes);
    }

    /** The file with {@code entries} in this order (as stored), leaving out {@code removed}. */
    private static void rewrite(Path file, List<EntryScanner.Entry> entries, List<EntryScanner.Entry> removed)
            throws IOException {
        file.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(file);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, (int) entries.stream().mapToLong(EntryScanner.Entry::position).min().orElseThrow());
        for (EntryScanner.Entry entry : entries) {
            if (!removed.contains(entry)) {
                out.write(bytes, (int) entry.position(), (int) (entry.end() - entry.position()));
            }
        }
        Files.write(file, out.toByteArray());
    }

    /** The file rebuilt from the entries' numbers and times with these sealed events, every hash recomputed. */
    private static void forge(Path file, List<EntryScanner.Entry> entries, List<byte[]> sealed) throws IOException {
        file.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(file);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, (int) entries.get(0).position());
        byte[] previous = entries.get(0).previousHash();
        for (int i = 0; i < entries.size(); i++) {
            ByteBuffer body = ByteBuffer.allocate(JournalFormat.BODY_FIXED + sealed.get(i).length)
                    .putLong(entries.get(i).seq()).putLong(entries.get(i).timeMs()).put(previous).put(sealed.get(i));
            byte[] hash = JournalFormat.sha256(body.array(), 0, body.capacity());
            out.write(ByteBuffer.allocate(4).putInt(body.capacity()).array());
            out.write(body.array());
            out.write(hash);
            previous = hash;
        }
        Files.write(file, out.toByteArray());
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
