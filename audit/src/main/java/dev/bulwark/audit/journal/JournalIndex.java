package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.storage.SealedFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The index that lets an auditor's query ({@link JournalSearch}) skip what cannot match instead of opening every
 * sealed entry, so that a filtered first page over millions of entries opens about as many entries as it returns.
 *
 * <p>Design: the journal's entries hold their sequence number and time in the clear and seal the rest, so a query
 * needs, without opening seals, which entries have the tenant, principal, action, resource and outcome it asks for,
 * and where they are. Per journal file, a {@link FileIndex} holds one small code per entry and field (a field's codes
 * stand for the 64-bit hashes of its values in that file's dictionary) and, per block of 64 entries, the block's
 * position and earliest and latest time. A query, for each file in its range: skips the file when a value it asks for
 * is in none of the file's entries (its dictionary) or the file's times are outside its range; else computes, per
 * block, a 64-bit mask of the entries whose codes all match (a few compares per entry in tight loops, no I/O); reads
 * only the blocks with a match, and opens only the matching entries, checking their time and the event itself (a hash
 * collision costs a read, never a wrong answer). Exact per-entry codes rather than per-block sets or Bloom filters:
 * those leave whole blocks to open for a value seen once in them, or for two values seen in the same block but never
 * in the same entry, and opening seals is what costs; codes cost 5 to 8 bytes per entry instead.
 *
 * <p>Where it lives: the file being written has its index in memory, added to by the journal's writer as entries
 * become durable ({@link #appended}), and queried through a snapshot. When a file is closed, its index is finished
 * (dictionaries sorted, codes as narrow as they fit) and kept beside it as a sealed sidecar ({@link IndexFile}), since
 * hashes of names can be matched against guessed names. At open, each closed file's sidecar is loaded in the
 * background, or the file indexed anew from its entries when the sidecar is missing (a crash before it was written),
 * does not open, or does not describe the file; a query that needs a file before that finishes loads it itself.
 * Loaded indexes of closed files are kept up to a memory budget, least recently used first out; an evicted one is
 * loaded again from its sidecar when a query needs it.
 *
 * <p>A damaged file (an entry cut short, out of sequence, changed) is indexed up to the damage; a query that reaches
 * past it fails there, as {@link JournalReader} does, and verification says why.
 *
 * <p>Thread-safe: the journal's writer calls {@link #fileStarted}, {@link #appended} and {@link #fileClosed}; queries
 * call {@link #files} from any thread.
 */
final class JournalIndex implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JournalIndex.class);

    /** A journal file as a query sees it: its first sequence number and its index, loaded when asked for. */
    interface IndexedFile {
        Path file();

        long firstSeq();

        /** The earliest and latest time of its entries, when known without loading its index. */
        Optional<long[]> timeRange();

        FileIndex index() throws IOException;
    }

    private final Path directory;
    private final SealedFiles sealedFiles;
    private final EntryOpener opener;
    private final long cacheBytes;
    private final ExecutorService background;
    private final Object lock = new Object();
    /** Closed files by first sequence number; guarded by lock. */
    private final TreeMap<Long, ClosedFile> closed = new TreeMap<>();
    /** The loaded indexes of closed files, least recently used first; guarded by lock. */
    private final LinkedHashMap<ClosedFile, FileIndex> loaded = new LinkedHashMap<>(16, 0.75f, true);
    private long loadedBytes;
    private volatile boolean closing;
    private Path openFile;
    private FileIndexBuilder open;

    private JournalIndex(Path directory, SealedFiles sealedFiles, EntryOpener opener, long cacheBytes) {
        this.directory = directory;
        this.sealedFiles = sealedFiles;
        this.opener = opener;
        this.cacheBytes = cacheBytes;
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bulwark-audit-index");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The index of the journal files in {@code directory}, all closed: removes sidecars left without their file
     * (retention deleted it) and loads or rebuilds the others in the background.
     *
     * @param cacheBytes about how much memory the loaded indexes of closed files may take
     */
    static JournalIndex open(Path directory, SealedFiles sealedFiles, EntryOpener opener, long cacheBytes)
            throws IOException {
        JournalIndex index = new JournalIndex(directory, sealedFiles, opener, cacheBytes);
        Set<Path> kept = new HashSet<>();
        for (Path file : JournalFormat.files(directory)) {
            ClosedFile closedFile = index.new ClosedFile(file, firstSeq(file));
            index.closed.put(closedFile.firstSeq, closedFile);
            kept.add(IndexFile.of(file));
        }
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path path : entries.toList()) {
                String name = path.getFileName().toString();
                if ((name.endsWith(IndexFile.SUFFIX) && !kept.contains(path))
                        || name.endsWith(IndexFile.SUFFIX + ".tmp")) {
                    Files.delete(path);
                }
            }
        }
        List<ClosedFile> files = new ArrayList<>(index.closed.values());
        index.background.execute(() -> {
            for (ClosedFile file : files) {
                if (index.closing) {
                    return;
                }
                synchronized (index.lock) {
                    if (index.closed.get(file.firstSeq) != file) {
                        continue;
                    }
                }
                try {
                    file.index();
                } catch (IOException | RuntimeException e) {
                    LOG.warn("Audit index: {} could not be indexed: {}", file.file, e.toString());
                }
            }
        });
        return index;
    }

    /**
     * The journal begins writing {@code file}, whose first entry will be {@code firstSeq} and start at
     * {@code start}.
     */
    void fileStarted(Path file, long firstSeq, long start) {
        synchronized (lock) {
            // A last file without entries is replaced by the new one, which begins at the same entry.
            ClosedFile replaced = closed.remove(firstSeq);
            if (replaced != null) {
                FileIndex index = loaded.remove(replaced);
                loadedBytes -= index == null ? 0 : index.memoryBytes();
            }
            openFile = file;
            open = new FileIndexBuilder(firstSeq, start);
        }
    }

    /** An entry of the file being written is on disk. */
    void appended(long seq, long timeMs, long position, long end, AuditEvent event) {
        FileIndexBuilder builder;
        synchronized (lock) {
            builder = open;
        }
        builder.add(seq, timeMs, position, end, event);
    }

    /** The file being written is closed: its finished index is kept in memory and written beside it. */
    void fileClosed() {
        ClosedFile file;
        FileIndex index;
        synchronized (lock) {
            if (open == null) {
                return;
            }
            index = open.build();
            file = new ClosedFile(openFile, index.firstSeq);
            closed.put(file.firstSeq, file);
            open = null;
            openFile = null;
            remember(file, index);
        }
        keepLater(file.file, index);
    }

    /** The journal's files in order, the one being written last (as what it holds now). */
    List<IndexedFile> files() {
        synchronized (lock) {
            List<IndexedFile> files = new ArrayList<>(closed.values());
            if (open != null) {
                files.add(new OpenFile(openFile, open.snapshot()));
            }
            return files;
        }
    }

    /** Waits for the sidecars being written; loading at open stops where it is. */
    @Override
    public void close() {
        closing = true;
        background.shutdown();
        try {
            if (!background.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("Audit index: sidecars were still being written at close; they are rebuilt at next start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The memory the loaded indexes of closed files take now. */
    long loadedBytes() {
        synchronized (lock) {
            return loadedBytes;
        }
    }

    private void remember(ClosedFile file, FileIndex index) {
        FileIndex previous = loaded.put(file, index);
        loadedBytes += index.memoryBytes() - (previous == null ? 0 : previous.memoryBytes());
        Iterator<Map.Entry<ClosedFile, FileIndex>> oldest = loaded.entrySet().iterator();
        while (loadedBytes > cacheBytes && oldest.hasNext()) {
            Map.Entry<ClosedFile, FileIndex> entry = oldest.next();
            if (entry.getKey() != file) {
                loadedBytes -= entry.getValue().memoryBytes();
                oldest.remove();
            }
        }
    }

    private void keepLater(Path file, FileIndex index) {
        try {
            background.execute(() -> keep(file, index));
        } catch (RejectedExecutionException e) {
            LOG.info("Audit index: closing; the index of {} is rebuilt at next start", file);
        }
    }

    private void keep(Path file, FileIndex index) {
        try {
            IndexFile.write(sealedFiles, file, index);
        } catch (IOException e) {
            LOG.warn("Audit index: the index of {} could not be written beside it ({}); it is rebuilt at next start",
                    file, e.toString());
        }
    }

    private static long firstSeq(Path file) {
        return Long.parseLong(file.getFileName().toString().substring(0, 20));
    }

    /** The file being written, as a query found it. */
    private record OpenFile(Path file, FileIndex index) implements IndexedFile {
        @Override
        public long firstSeq() {
            return index.firstSeq;
        }

        @Override
        public Optional<long[]> timeRange() {
            return Optional.empty();
        }
    }

    /** A closed journal file and, while loaded, its index. */
    private final class ClosedFile implements IndexedFile {
        private final Path file;
        private final long firstSeq;
        private volatile long[] timeRange;

        ClosedFile(Path file, long firstSeq) {
            this.file = file;
            this.firstSeq = firstSeq;
        }

        @Override
        public Path file() {
            return file;
        }

        @Override
        public long firstSeq() {
            return firstSeq;
        }

        @Override
        public Optional<long[]> timeRange() {
            return Optional.ofNullable(timeRange);
        }

        /** Its index: in memory, else from its sidecar, else built from the file (one thread builds it). */
        @Override
        public synchronized FileIndex index() throws IOException {
            synchronized (lock) {
                FileIndex index = loaded.get(this);
                if (index != null) {
                    return index;
                }
            }
            FileIndex index = stored().orElse(null);
            if (index == null) {
                long started = System.nanoTime();
                index = FileIndexBuilder.rebuild(file, firstSeq, opener);
                if (index.damage == null) {
                    LOG.info("Audit index: indexed {} ({} entries) in {} ms", file, index.count,
                            (System.nanoTime() - started) / 1_000_000);
                    keepLater(file, index);
                } else {
                    LOG.warn("Audit index: {} is indexed up to entry {} only: {}", file, index.lastSeq(),
                            index.damage);
                }
            }
            // A damaged file is never skipped by time: a query in its range must learn of the damage.
            timeRange = index.count == 0 || index.damage != null ? null
                    : new long[] {index.minTime(), index.maxTime()};
            synchronized (lock) {
                remember(this, index);
            }
            return index;
        }

        /** The sidecar's index, when there is one that opens and describes the file as it is. */
        private Optional<FileIndex> stored() {
            try {
                Optional<FileIndex> stored = IndexFile.read(sealedFiles, file);
                if (stored.isPresent() && (stored.get().firstSeq != firstSeq
                        || stored.get().endPosition != Files.size(file))) {
                    LOG.warn("Audit index: {} does not describe {} as it is; rebuilding it", IndexFile.of(file), file);
                    return Optional.empty();
                }
                return stored;
            } catch (IOException e) {
                LOG.warn("Audit index: {} is unusable ({}); rebuilding it", IndexFile.of(file), e.getMessage());
                return Optional.empty();
            }
        }
    }
}
