package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.AuditEventCodec;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.DataKey;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The audit journal of one data directory ({@code <data-dir>/audit}): events appended in order, each entry sealed
 * under the broker's key and chained to the one before by its hash ({@link JournalFormat}), with a signed checkpoint
 * ({@link Checkpoint}) every {@link Settings#checkpointEvery} entries and every {@link Settings#checkpointInterval}
 * in which there were any, appended to {@code checkpoints}.
 *
 * <p>{@link #append} hands the event to one writer thread, which writes what has queued up, forces it to disk once
 * (group commit) and only then completes each event's future: an admin operation waits on it before it is answered,
 * so an acknowledged operation's entry survives a kill. A write that fails stops the journal: every later append
 * fails, so that nothing that must be audited goes on unaudited.
 *
 * <p>Files: each start of the journal begins a new file (so no sequence number is ever sealed twice under one data
 * key, even one a crash left half-written), and a file reaching {@link Settings#fileBytes} is closed and a new one
 * begun. A closed file is made read-only. At start, a last entry cut short by a crash is cut off; anything else wrong
 * in the last file is left as found, for the verifier to report. Files older than {@link Settings#retention} are
 * deleted, oldest first; nothing else ever deletes or rewrites them (not topic retention, not tenant deletion).
 *
 * <p>The writer also keeps the journal's {@link JournalIndex}, which auditors' queries ({@link JournalSearch}) use:
 * each entry is indexed once on disk, before {@link #lastDurableSeq} admits readers to it, and a closed file's index is
 * written beside it.
 *
 * <p>Thread-safe.
 */
public final class AuditJournal implements AutoCloseable {

    public static final String CHECKPOINTS_FILE = "checkpoints";

    private static final Logger LOG = LoggerFactory.getLogger(AuditJournal.class);

    /**
     * @param fileBytes          a file is closed and a new one begun once it reaches this size
     * @param checkpointEvery    a checkpoint is signed after this many entries
     * @param checkpointInterval and after this much time in which there were entries
     * @param retention          files are deleted once everything in them is older than this
     * @param indexCacheBytes    about how much memory the indexes of closed files may take (see {@link JournalIndex})
     */
    public record Settings(long fileBytes, int checkpointEvery, Duration checkpointInterval, Duration retention,
                           long indexCacheBytes) {

        /** 128 MiB: the indexes of some 16 million entries. */
        public static final long DEFAULT_INDEX_CACHE_BYTES = 128L << 20;

        public Settings(long fileBytes, int checkpointEvery, Duration checkpointInterval, Duration retention) {
            this(fileBytes, checkpointEvery, checkpointInterval, retention, DEFAULT_INDEX_CACHE_BYTES);
        }

        /** 64 MiB files, a checkpoint every 1000 entries and every minute, 7 years' retention. */
        public static Settings defaults() {
            return new Settings(64L << 20, 1000, Duration.ofMinutes(1), Duration.ofDays(7 * 365 + 2));
        }
    }

    private sealed interface Task permits Append, Tick, Stop {
    }

    private record Append(AuditEvent event, CompletableFuture<Long> durable) implements Task {
    }

    private record Tick() implements Task {
    }

    private record Stop(CompletableFuture<Void> stopped) implements Task {
    }

    private final Path directory;
    private final Keyring keyring;
    private final AesGcm gcm;
    private final CheckpointSigner signer;
    private final Settings settings;
    private final Clock clock;
    private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final ScheduledExecutorService ticker;
    private JournalIndex index;
    private volatile Throwable failure;
    private volatile boolean closed;
    /** The last entry on disk: what readers may see. */
    private volatile long durableSeq;

    // The writer thread's own state.
    private FileChannel channel;
    private Path current;
    private long currentSize;
    private DataKey dataKey;
    private long lastSeq;
    private byte[] lastHash;
    private long lastCheckpointSeq;
    /** The index of the current file failed: it is rebuilt from the file at the next start. */
    private boolean indexBroken;

    private AuditJournal(Path directory, Keyring keyring, AesGcm gcm, CheckpointSigner signer, Settings settings,
                         Clock clock) {
        this.directory = directory;
        this.keyring = keyring;
        this.gcm = gcm;
        this.signer = signer;
        this.settings = settings;
        this.clock = clock;
        this.writer = new Thread(this::run, "bulwark-audit-journal");
        // A daemon, so that a start that fails after opening the journal still lets the process exit: what it has
        // not written was never acknowledged.
        this.writer.setDaemon(true);
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-audit-checkpoints");
            t.setDaemon(true);
            return t;
        });
    }

    /** The journal files of {@code directory}, oldest first. */
    public static List<Path> files(Path directory) throws IOException {
        return JournalFormat.files(directory);
    }

    /**
     * Opens the journal in {@code directory} (created when missing): recovers the end of its last file, makes the
     * older files read-only, deletes those past retention and begins a new file.
     */
    public static AuditJournal open(Path directory, Keyring keyring, AesGcm gcm, CheckpointSigner signer,
                                    Settings settings, Clock clock) throws IOException {
        Files.createDirectories(directory);
        AuditJournal journal = new AuditJournal(directory, keyring, gcm, signer, settings, clock);
        journal.recover();
        journal.deleteExpired();
        journal.index = JournalIndex.open(directory, new SealedFiles(new AtRestKeys(keyring, gcm)),
                new EntryOpener(keyring, gcm), settings.indexCacheBytes());
        try {
            journal.startFile();
        } catch (IOException | RuntimeException e) {
            journal.index.close();
            throw e;
        }
        journal.writer.start();
        long interval = settings.checkpointInterval().toMillis();
        journal.ticker.scheduleWithFixedDelay(() -> journal.queue.offer(new Tick()), interval, interval,
                TimeUnit.MILLISECONDS);
        return journal;
    }

    public Path directory() {
        return directory;
    }

    /** The public keys the checkpoints are signed with. */
    public CheckpointSigner signer() {
        return signer;
    }

    /** The sequence number of the last entry on disk (0 when there is none). */
    public long lastDurableSeq() {
        return durableSeq;
    }

    JournalIndex index() {
        return index;
    }

    /** Why the journal stopped taking events, if it did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Appends an event; the future completes with its sequence number once it is on disk, or fails when the journal
     * cannot write it (and then nothing later is written either).
     */
    public CompletableFuture<Long> append(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        Throwable failed = failure;
        if (failed != null || closed) {
            return CompletableFuture.failedFuture(new IOException("the audit journal is not writable", failed));
        }
        CompletableFuture<Long> durable = new CompletableFuture<>();
        queue.add(new Append(event, durable));
        return durable;
    }

    /** Writes what is queued, signs a last checkpoint and closes the file. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        ticker.shutdownNow();
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        queue.add(new Stop(stopped));
        try {
            stopped.get(30, TimeUnit.SECONDS);
            writer.join(TimeUnit.SECONDS.toMillis(30));
            index.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the audit journal", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the audit journal did not close cleanly", e);
        }
    }

    // ---------------------------------------------------------------- recovery

    private void recover() throws IOException {
        List<Path> files = JournalFormat.files(directory);
        lastSeq = 0;
        lastHash = JournalFormat.GENESIS;
        if (!files.isEmpty()) {
            Path last = files.get(files.size() - 1);
            recoverLast(last);
            for (Path file : files) {
                makeReadOnly(file);
            }
        }
        durableSeq = lastSeq;
        Checkpoint newest = newestCheckpoint();
        lastCheckpointSeq = newest == null ? 0 : newest.seq();
        LOG.info("Audit journal {} opened at entry {}", directory, lastSeq);
    }

    /**
     * Finds the last entry of the last file. What a crash leaves after the last whole entry (an entry cut short, a
     * last entry whose bytes were not all written, zeros) is cut off; damage followed by more entries is not a crash's
     * doing, so the file is left as found for the verifier to report, and the journal goes on from the last entry.
     */
    private void recoverLast(Path file) throws IOException {
        file.toFile().setWritable(true, true);
        // A file appears only once its header is whole (written aside, then renamed), so a damaged header is no
        // crash's doing: the journal does not guess where to go on from.
        EntryScanner scanner = EntryScanner.open(file);
        long goodEnd;
        boolean tornTail = false;
        try (scanner) {
            lastSeq = scanner.header().firstSeq() - 1;
            lastHash = scanner.header().previousHash();
            goodEnd = scanner.position();
            while (true) {
                EntryScanner.Entry entry;
                try {
                    entry = scanner.next();
                } catch (JournalDamageException e) {
                    tornTail = e.cutShort() || onlyZerosFrom(file, goodEnd);
                    if (!tornTail) {
                        LOG.error("Audit journal: {} is damaged before its end ({}); it is left as found", file,
                                e.getMessage());
                    }
                    break;
                }
                if (entry == null) {
                    break;
                }
                if (!entry.hashMatches()) {
                    tornTail = entry.end() == Files.size(file);
                    if (!tornTail) {
                        LOG.error("Audit journal: entry {} of {} does not match its hash; the file is left as found",
                                entry.seq(), file);
                    }
                    break;
                }
                lastSeq = entry.seq();
                lastHash = entry.storedHash();
                goodEnd = entry.end();
            }
        }
        if (tornTail) {
            LOG.warn("Audit journal: cutting {} bytes that a crash left incomplete off the end of {} (after entry {})",
                    Files.size(file) - goodEnd, file, lastSeq);
            try (FileChannel truncating = FileChannel.open(file, StandardOpenOption.WRITE)) {
                truncating.truncate(goodEnd);
                truncating.force(true);
            }
        }
    }

    private static boolean onlyZerosFrom(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            long at = position;
            while (true) {
                buffer.clear();
                int read = channel.read(buffer, at);
                if (read < 0) {
                    return true;
                }
                for (int i = 0; i < read; i++) {
                    if (buffer.get(i) != 0) {
                        return false;
                    }
                }
                at += read;
            }
        }
    }

    private Checkpoint newestCheckpoint() throws IOException {
        Path file = directory.resolve(CHECKPOINTS_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        for (int i = lines.size() - 1; i >= 0; i--) {
            try {
                return Checkpoint.verify(lines.get(i), signer.publicKeys());
            } catch (Checkpoint.BadCheckpointException e) {
                LOG.warn("Audit journal: checkpoint line {} of {} does not verify: {}", i + 1, file, e.getMessage());
            }
        }
        return null;
    }

    private void deleteExpired() throws IOException {
        List<Path> files = JournalFormat.files(directory);
        long cutoff = clock.millis() - settings.retention().toMillis();
        for (Path file : files) {
            if (Files.getLastModifiedTime(file).toMillis() >= cutoff) {
                break;
            }
            Files.delete(file);
            LOG.info("Audit journal: deleted {}, past the retention of {}", file, settings.retention());
        }
    }

    // ---------------------------------------------------------------- writing

    private void startFile() throws IOException {
        long firstSeq = lastSeq + 1;
        try {
            dataKey = keyring.newDataKey(KeyOwner.SYSTEM);
        } catch (KeyDestroyedException e) {
            throw new IllegalStateException("the broker's own key is never destroyed", e);
        }
        byte[] header = JournalFormat.encodeHeader(firstSeq, lastHash, dataKey.wrapped());
        Path file = directory.resolve(JournalFormat.fileName(firstSeq));
        Path temporary = directory.resolve(JournalFormat.fileName(firstSeq) + ".tmp");
        Files.write(temporary, header, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        MetadataFile.syncDirectory(directory);
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        current = file;
        currentSize = header.length;
        index.fileStarted(file, firstSeq, header.length);
        indexBroken = false;
    }

    private void run() {
        List<Task> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            queue.drainTo(batch, 4096);
            List<Append> appends = new ArrayList<>();
            Stop stop = null;
            for (Task task : batch) {
                if (task instanceof Append append) {
                    appends.add(append);
                } else if (task instanceof Stop s) {
                    stop = s;
                }
            }
            batch.clear();
            boolean tick = appends.isEmpty() && stop == null;
            try {
                if (failure != null) {
                    throw new IOException("the audit journal stopped earlier", failure);
                }
                write(appends);
                maybeCheckpoint(tick || stop != null);
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = e;
                    LOG.error("Audit journal {}: writing failed; no event is taken from now on", directory, e);
                }
                appends.forEach(a -> a.durable().completeExceptionally(e));
            }
            if (stop != null) {
                closeQuietly();
                queue.forEach(task -> {
                    if (task instanceof Append a) {
                        a.durable().completeExceptionally(new IOException("the audit journal is closed"));
                    }
                });
                stop.stopped().complete(null);
                return;
            }
        }
    }

    private void write(List<Append> appends) throws IOException {
        if (appends.isEmpty()) {
            return;
        }
        List<ByteBuffer> entries = new ArrayList<>(appends.size());
        long seq = lastSeq;
        byte[] previous = lastHash;
        List<Long> seqs = new ArrayList<>(appends.size());
        List<Long> ends = new ArrayList<>(appends.size());
        long end = currentSize;
        for (Append append : appends) {
            seq++;
            byte[] event = AuditEventCodec.encode(append.event());
            long time = append.event().timeMs();
            byte[] sealed = gcm.seal(dataKey.key(), JournalFormat.nonce(seq),
                    JournalFormat.associatedData(seq, time, previous), event);
            ByteBuffer body = ByteBuffer.allocate(JournalFormat.BODY_FIXED + sealed.length)
                    .putLong(seq).putLong(time).put(previous).put(sealed);
            byte[] hash = JournalFormat.sha256(body.array(), 0, body.capacity());
            entries.add(ByteBuffer.allocate(4 + body.capacity() + JournalFormat.HASH_LENGTH)
                    .putInt(body.capacity()).put(body.array()).put(hash).flip());
            previous = hash;
            seqs.add(seq);
            end += 4 + body.capacity() + JournalFormat.HASH_LENGTH;
            ends.add(end);
        }
        ByteBuffer[] buffers = entries.toArray(ByteBuffer[]::new);
        long written = 0;
        long total = entries.stream().mapToLong(ByteBuffer::remaining).sum();
        while (written < total) {
            written += channel.write(buffers);
        }
        channel.force(false);
        indexAppended(appends, seqs, ends);
        durableSeq = seq;
        lastSeq = seq;
        lastHash = previous;
        currentSize += total;
        for (int i = 0; i < appends.size(); i++) {
            appends.get(i).durable().complete(seqs.get(i));
        }
        if (currentSize >= settings.fileBytes()) {
            channel.close();
            makeReadOnly(current);
            index.fileClosed();
            startFile();
        }
    }

    /**
     * Indexes entries now on disk. A fault of the index is logged and never stops the journal: what must be audited
     * is recorded even when it cannot be found quickly.
     */
    private void indexAppended(List<Append> appends, List<Long> seqs, List<Long> ends) {
        if (indexBroken) {
            return;
        }
        try {
            long start = currentSize;
            for (int i = 0; i < appends.size(); i++) {
                index.appended(seqs.get(i), appends.get(i).event().timeMs(), start, ends.get(i),
                        appends.get(i).event());
                start = ends.get(i);
            }
        } catch (RuntimeException e) {
            indexBroken = true;
            LOG.error("Audit journal {}: indexing entries {} to {} failed; queries may miss them until the index "
                    + "of {} is rebuilt at the next start", directory, seqs.get(0), seqs.get(seqs.size() - 1), current,
                    e);
        }
    }

    /** Signs a checkpoint after checkpointEvery entries, or on a tick (or the close) when any entry is unsigned. */
    private void maybeCheckpoint(boolean tick) throws IOException {
        long unsigned = lastSeq - lastCheckpointSeq;
        if (unsigned < settings.checkpointEvery() && !(tick && unsigned > 0)) {
            return;
        }
        String jws = signer.sign(new Checkpoint(lastSeq, lastHash, clock.millis(), signer.keyId()));
        try (FileChannel checkpoints = FileChannel.open(directory.resolve(CHECKPOINTS_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer line = ByteBuffer.wrap((jws + "\n").getBytes(StandardCharsets.US_ASCII));
            while (line.hasRemaining()) {
                checkpoints.write(line);
            }
            checkpoints.force(false);
        }
        lastCheckpointSeq = lastSeq;
    }

    private void closeQuietly() {
        try {
            channel.close();
            makeReadOnly(current);
            index.fileClosed();
        } catch (IOException e) {
            LOG.warn("Audit journal: closing {} failed", current, e);
        }
    }

    private static void makeReadOnly(Path file) {
        if (!file.toFile().setWritable(false, false)) {
            LOG.warn("Audit journal: {} could not be made read-only", file);
        }
    }
}
