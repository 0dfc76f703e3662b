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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queries through the index give exactly what reading every entry and testing the filter gives: for every kind of
 * filter, across closed files (indexes from sidecars, rebuilt, or evicted and reloaded) and the file being written,
 * page by page; and a damaged file is served up to its damage only.
 */
class JournalSearchTest {

    private static final long T0 = 1_700_000_000_000L;
    /** Small files, so that a few thousand entries span many, and blocks of 64 entries span files. */
    private static final AuditJournal.Settings SMALL_FILES = new AuditJournal.Settings(40_000, 100,
            Duration.ofHours(1), Duration.ofDays(7 * 365));

    @TempDir
    Path dataDir;

    private final AesGcm gcm = new AesGcm();
    private final Random random = new Random(20240501);
    private Keyring keyring;
    private CheckpointSigner signer;
    private Path directory;
    private AuditJournal journal;
    private final List<AuditEvent> written = new ArrayList<>();

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

    private void reopen(AuditJournal.Settings settings) throws IOException {
        if (journal != null) {
            journal.close();
        }
        journal = AuditJournal.open(directory, keyring, gcm, signer, settings, Clock.systemUTC());
    }

    private JournalSearch search() {
        return new JournalSearch(journal, new EntryOpener(keyring, gcm));
    }

    /** Events over 5 tenants (and the broker), 40 principals, 6 actions, 300 resources, 3 outcomes. */
    private AuditEvent randomEvent() {
        int n = written.size();
        boolean broker = random.nextInt(50) == 0;
        String tenant = broker ? null : "tenant-" + random.nextInt(5);
        return new AuditEvent(T0 + n * 1000L + random.nextInt(3000), tenant,
                broker ? null : "user-" + random.nextInt(40), "10.0.0." + random.nextInt(9) + ":5000", "java/4.0",
                "SASL_SSL", "action-" + random.nextInt(6),
                random.nextInt(4) == 0 ? null : "topic:t" + random.nextInt(300),
                Outcome.values()[random.nextInt(10) < 8 ? 0 : random.nextInt(3)], null, Map.of("n", "" + n));
    }

    /** Appends in waves of 50, so that files close every few waves (a file closes after the write that fills it). */
    private void append(int count) throws Exception {
        List<CompletableFuture<Long>> durable = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            AuditEvent event = randomEvent();
            written.add(event);
            durable.add(journal.append(event));
            if (durable.size() == 50 || i == count - 1) {
                for (CompletableFuture<Long> future : durable) {
                    future.get();
                }
                durable.clear();
            }
        }
    }

    /** What a query must return: every written event the filter matches, from {@code fromSeq} on. */
    private List<Long> expected(EventFilter filter, long fromSeq) {
        List<Long> seqs = new ArrayList<>();
        for (int i = (int) fromSeq - 1; i < written.size(); i++) {
            if (filter.matches(written.get(i))) {
                seqs.add(i + 1L);
            }
        }
        return seqs;
    }

    private List<Long> found(EventFilter filter, long fromSeq) throws IOException {
        List<Long> seqs = new ArrayList<>();
        search().scan(filter, fromSeq, stored -> {
            assertEquals(written.get((int) stored.seq() - 1), stored.event(), "entry " + stored.seq());
            return seqs.add(stored.seq());
        });
        return seqs;
    }

    private List<EventFilter> filters() {
        long middle = T0 + written.size() * 500L;
        return List.of(
                EventFilter.ALL,
                new EventFilter("tenant-3", null, null, null, null, null, null),
                new EventFilter(null, "user-17", null, null, null, null, null),
                new EventFilter(null, null, "action-2", null, Outcome.DENIED, null, null),
                new EventFilter(null, null, null, "topic:t42", null, null, null),
                new EventFilter(null, null, null, null, Outcome.FAILURE, null, null),
                new EventFilter(null, null, null, null, null, middle, middle + 200_000),
                new EventFilter("tenant-1", "user-3", "action-0", null, Outcome.SUCCESS, T0, middle),
                new EventFilter("tenant-9", null, null, null, null, null, null),
                new EventFilter(null, "nobody", null, null, null, null, null),
                new EventFilter(null, null, null, null, null, T0 + written.size() * 2000L, null));
    }

    private void assertEveryFilterFindsExactlyItsMatches() throws IOException {
        for (EventFilter filter : filters()) {
            for (long from : new long[] {1, 77, written.size() / 2 + 1, written.size() + 5L}) {
                assertEquals(expected(filter, from), found(filter, from), filter + " from " + from);
            }
        }
    }

    @Test
    void everyFilterFindsExactlyItsMatchesInClosedFilesAndTheOneBeingWritten() throws Exception {
        reopen(SMALL_FILES);
        append(1500);
        reopen(SMALL_FILES); // the first start's files closed, their indexes kept beside them
        append(700);
        assertTrue(JournalFormat.files(directory).size() > 10, "many files");

        assertEveryFilterFindsExactlyItsMatches();
    }

    @Test
    void pagesFollowOneAnotherWithoutGapsOrRepeats() throws Exception {
        reopen(SMALL_FILES);
        append(1200);
        EventFilter tenant = new EventFilter("tenant-2", null, null, null, null, null, null);
        List<Long> paged = new ArrayList<>();
        long from = 1;
        int pages = 0;
        while (true) {
            JournalSearch.Page page = search().page(tenant, from, 25);
            page.events().forEach(stored -> paged.add(stored.seq()));
            pages++;
            if (page.next().isEmpty()) {
                break;
            }
            assertEquals(25, page.events().size());
            from = page.next().getAsLong();
        }
        assertEquals(expected(tenant, 1), paged);
        assertEquals((paged.size() + 24) / 25, pages, "no empty last page");
    }

    @Test
    void whatIsAcknowledgedIsFoundAtOnce() throws Exception {
        reopen(SMALL_FILES);
        append(10);
        AuditEvent event = new AuditEvent(T0, "tenant-new", "alice", null, null, null, "acl.add", "topic:x",
                Outcome.SUCCESS, null, Map.of());
        written.add(event);
        long seq = journal.append(event).get();
        EventFilter alice = new EventFilter(null, "alice", null, null, null, null, null);

        assertEquals(List.of(seq), found(alice, 1));
        JournalSearch.Page page = search().page(alice, 1, 1);
        assertEquals(List.of(seq), page.events().stream().map(JournalReader.Stored::seq).toList());
        assertTrue(page.next().isEmpty());
    }

    @Test
    void anEmptyLastFileReplacedAtStartIsSearchedOnce() throws Exception {
        AuditJournal.Settings everyWriteFills = new AuditJournal.Settings(1, 100, Duration.ofHours(1),
                Duration.ofDays(7 * 365));
        reopen(everyWriteFills);
        append(3); // the last write filled its file: an empty one was begun, and is closed empty
        reopen(everyWriteFills); // the next file begins at the same entry and replaces it
        append(2);

        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), found(EventFilter.ALL, 1));
    }

    @Test
    void sidecarsAreKeptAndRebuiltWhenMissingDamagedAnotherFilesOrStale() throws Exception {
        reopen(SMALL_FILES);
        append(1500);
        journal.close();
        journal = null;
        List<Path> files = JournalFormat.files(directory);
        assertTrue(files.size() > 5, "enough files");
        for (Path file : files) {
            assertTrue(Files.exists(IndexFile.of(file)), "an index beside " + file);
        }
        Files.delete(IndexFile.of(files.get(1)));
        byte[] damaged = Files.readAllBytes(IndexFile.of(files.get(2)));
        damaged[damaged.length / 2] ^= 1;
        Files.write(IndexFile.of(files.get(2)), damaged);
        Files.copy(IndexFile.of(files.get(4)), IndexFile.of(files.get(3)), StandardCopyOption.REPLACE_EXISTING);
        long fifth = Long.parseLong(files.get(5).getFileName().toString().substring(0, 20));
        IndexFile.write(new SealedFiles(new AtRestKeys(keyring, gcm)), files.get(5),
                new FileIndexBuilder(fifth, 0).build()); // opens, but describes none of the file's entries
        Path orphan = directory.resolve("00000000000000999999.index");
        Files.copy(IndexFile.of(files.get(0)), orphan);

        reopen(SMALL_FILES);
        assertFalse(Files.exists(orphan), "an index without its journal file is removed");
        assertEveryFilterFindsExactlyItsMatches();
        journal.close();
        journal = null;
        for (Path file : files) {
            assertTrue(Files.exists(IndexFile.of(file)), "rebuilt beside " + file);
        }
    }

    @Test
    void indexesOverTheMemoryBudgetAreEvictedAndLoadedAgain() throws Exception {
        reopen(SMALL_FILES);
        append(1500);
        reopen(new AuditJournal.Settings(40_000, 100, Duration.ofHours(1), Duration.ofDays(7 * 365), 1));
        append(100);

        assertEveryFilterFindsExactlyItsMatches();
        FileIndex largest = null;
        for (JournalIndex.IndexedFile file : journal.index().files()) {
            FileIndex index = file.index();
            largest = largest == null || index.memoryBytes() > largest.memoryBytes() ? index : largest;
        }
        assertTrue(journal.index().loadedBytes() <= largest.memoryBytes(), "one closed file's index at most");
    }

    @Test
    void aDamagedFileIsServedUpToItsDamageAndAQueryPastItFails() throws Exception {
        reopen(SMALL_FILES);
        append(600);
        journal.close();
        journal = null;
        Path file = JournalFormat.files(directory).get(1);
        List<EntryScanner.Entry> entries = new ArrayList<>();
        try (EntryScanner scanner = EntryScanner.open(file)) {
            for (EntryScanner.Entry e = scanner.next(); e != null; e = scanner.next()) {
                entries.add(e);
            }
        }
        EntryScanner.Entry bad = entries.get(entries.size() / 2);
        file.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) bad.position() + 4 + JournalFormat.BODY_FIXED + 5] ^= 1;
        Files.write(file, bytes);

        // Its index kept from before the damage: only a query that opens the changed entry notices.
        reopen(SMALL_FILES);
        assertEquals(expected(EventFilter.ALL, 1).subList(0, (int) bad.seq() - 1), firstMatches(bad.seq() - 1));
        JournalDamageException opened = assertThrows(JournalDamageException.class, () -> found(EventFilter.ALL, 1));
        assertTrue(opened.getMessage().contains("entry " + bad.seq() + " does not match its hash"),
                opened.getMessage());
        assertEquals(expected(EventFilter.ALL, bad.seq() + 1), found(EventFilter.ALL, bad.seq() + 1));

        // Indexed anew: the file is indexed up to the damage, and a query reaching past it fails there.
        journal.close();
        journal = null;
        Files.delete(IndexFile.of(file));
        reopen(SMALL_FILES);
        JournalDamageException past = assertThrows(JournalDamageException.class,
                () -> found(new EventFilter(null, "nobody", null, null, null, null, null), 1));
        assertTrue(past.getMessage().contains("entries from " + bad.seq() + " on are not served"), past.getMessage());
        assertEquals(expected(EventFilter.ALL, entries.get(entries.size() - 1).seq() + 1),
                found(EventFilter.ALL, entries.get(entries.size() - 1).seq() + 1), "files after it are served");
    }

    /** The first {@code count} entries, read without reaching further. */
    private List<Long> firstMatches(long count) throws IOException {
        List<Long> seqs = new ArrayList<>();
        search().scan(EventFilter.ALL, 1, stored -> seqs.add(stored.seq()) && seqs.size() < count);
        return seqs;
    }
}
