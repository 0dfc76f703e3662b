package dev.bulwark.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Replaces a run of adjacent segments of a partition with the one compacted segment the cleaner wrote for them, so
 * that a crash at any point leaves either all the old segments or the new one, never a mix and never a loss.
 *
 * <p>The protocol, for old segments with base offsets {@code b1 < b2 < ... < bk} and the compacted segment that takes
 * the name {@code b1}:
 * <ol>
 *   <li>The cleaner writes {@code b1.log.cleaned}, {@code b1.txnindex.cleaned} and {@code b1.index.cleaned} and
 *       fsyncs them and the directory
 *       ({@link Segment#finishCompacted}). Nothing refers to them yet: a crash leaves leftovers that the next start
 *       deletes.</li>
 *   <li><b>Commit.</b> The manifest {@code b1.swap} is written atomically (temporary file, fsync, rename, directory
 *       fsync; {@link MetadataFile}). It lists {@code b1 ... bk}. From here on the compacted segment is the truth, and
 *       the next start completes the swap if this process does not.</li>
 *   <li>Each old segment's files are renamed to {@code .deleted} (readers holding them keep reading; the partition's
 *       delayed-deletion reaper removes them later); directory fsync.</li>
 *   <li>{@code b1.txnindex.cleaned} is renamed to {@code b1.txnindex}, then {@code b1.index.cleaned} to
 *       {@code b1.index}; directory fsync. Then {@code b1.log.cleaned} is renamed to {@code b1.log}; directory fsync.
 *       The indexes go first, so an existing {@code b1.txnindex.cleaned} means the offset index and the log are not in
 *       place yet either, and an existing {@code b1.index.cleaned} that the log is not.</li>
 *   <li>The manifest is deleted; directory fsync.</li>
 * </ol>
 *
 * <p>At start, before anything else reads the directory, {@link #completeInterrupted} finishes every swap whose
 * manifest exists: while {@code b1.log.cleaned} exists, every {@code .log} of a listed base is old and is deleted
 * (so is every listed {@code .index}, except {@code b1.index} once {@code b1.index.cleaned} is gone, which is then
 * the new one, and likewise every listed {@code .txnindex}), and the cleaned files take their names; then the
 * manifest goes. Doing this twice does no harm. Without a manifest, {@code .cleaned} files are leftovers of step 1.
 *
 * <p>Manifest format ({@link MetadataFile} payload, version 1): i64 base offset of the compacted segment, i32 count,
 * then the base offset (i64) of each segment it replaces, in increasing order.
 */
final class SegmentSwap {

    private static final Logger LOG = LoggerFactory.getLogger(SegmentSwap.class);

    static final String MANIFEST_SUFFIX = ".swap";
    static final int MANIFEST_MAGIC = 0x42575357; // "BWSW"
    static final byte MANIFEST_VERSION = 1;

    /** Told after each durable step of a swap; tests copy the directory there to play a crash at that point. */
    interface StepListener {
        void stepDone(String step) throws IOException;
    }

    static final StepListener NO_LISTENER = step -> { };

    /** A swap failed after its commit: the directory holds a committed manifest that the next start completes. */
    static final class IncompleteSwapException extends IOException {
        IncompleteSwapException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private SegmentSwap() {
    }

    static Path manifestPath(Path dir, long baseOffset) {
        return dir.resolve(Segment.fileName(baseOffset) + MANIFEST_SUFFIX);
    }

    /**
     * Runs steps 2 to 5 for a compacted segment sealed by {@link Segment#finishCompacted}. The caller holds the
     * partition's append lock and has checked that {@code replaced} are still its segments.
     *
     * @throws IncompleteSwapException when a step after the commit failed (the partition must stop: its files are
     *                                 between two states until the next start completes the swap, so the cleaned
     *                                 files must stay)
     * @throws IOException             when the commit itself failed; the old segments are still the log and the
     *                                 cleaned files can be discarded
     */
    static void swap(Path dir, Segment compacted, List<Segment> replaced, StepListener listener) throws IOException {
        long base = compacted.baseOffset;
        if (replaced.isEmpty() || replaced.get(0).baseOffset != base) {
            throw new IllegalArgumentException("a compacted segment takes the name of the first segment it replaces");
        }
        listener.stepDone("cleaned segment written");
        ByteBuffer manifest = ByteBuffer.allocate(12 + 8 * replaced.size());
        manifest.putLong(base).putInt(replaced.size());
        replaced.forEach(s -> manifest.putLong(s.baseOffset));
        Path manifestPath = manifestPath(dir, base);
        try {
            MetadataFile.write(manifestPath, MANIFEST_MAGIC, MANIFEST_VERSION, manifest.array());
        } catch (IOException e) {
            // The rename may have happened with only its directory fsync failing: withdraw the manifest, or the next
            // start would look for cleaned files that the caller is about to discard.
            try {
                Files.deleteIfExists(manifestPath);
                MetadataFile.syncDirectory(dir);
            } catch (IOException withdrawal) {
                e.addSuppressed(withdrawal);
                throw new IncompleteSwapException("the commit of compacted segment " + compacted + " could not be "
                        + "confirmed or withdrawn; the next start completes it", e);
            }
            throw e;
        }
        try {
            listener.stepDone("committed");
            for (Segment old : replaced) {
                old.markDeleted();
                listener.stepDone("retired " + old.baseOffset);
            }
            MetadataFile.syncDirectory(dir);
            compacted.moveTransactionIndex(Segment.transactionIndexPath(dir, base));
            compacted.moveIndex(Segment.indexPath(dir, base));
            MetadataFile.syncDirectory(dir);
            listener.stepDone("index in place");
            compacted.moveLog(Segment.logPath(dir, base));
            MetadataFile.syncDirectory(dir);
            listener.stepDone("segment in place");
            Files.delete(manifestPath);
            MetadataFile.syncDirectory(dir);
            listener.stepDone("manifest removed");
        } catch (IOException | RuntimeException e) {
            throw new IncompleteSwapException("the swap of compacted segment " + compacted + " failed after its "
                    + "commit; the next start completes it", e);
        }
    }

    /** Step 1 abandoned: removes the cleaned files of a compacted segment that will not be swapped in. */
    static void discard(Segment compacted) {
        try {
            compacted.deleteFiles();
        } catch (IOException e) {
            LOG.warn("removing abandoned compacted segment {} failed (the next start removes it): {}", compacted,
                    e.toString());
        }
    }

    /**
     * Completes the swaps whose manifest was committed before a crash (see the class comment). Runs at start, before
     * leftovers are removed and segments are opened.
     *
     * @return how many swaps were completed
     */
    static int completeInterrupted(Path dir) throws IOException {
        List<Path> manifests;
        try (Stream<Path> files = Files.list(dir)) {
            manifests = files.filter(f -> f.getFileName().toString().endsWith(MANIFEST_SUFFIX)).sorted().toList();
        }
        for (Path manifest : manifests) {
            Optional<MetadataFile.Content> content = MetadataFile.read(manifest, MANIFEST_MAGIC);
            if (content.isEmpty()) {
                continue;
            }
            if (content.get().version() != MANIFEST_VERSION) {
                throw new IOException(manifest + ": unsupported swap manifest version " + content.get().version());
            }
            ByteBuffer payload = content.get().payload();
            long base = payload.getLong();
            int count = payload.getInt();
            List<Long> replaced = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                replaced.add(payload.getLong());
            }
            boolean logPending = Files.exists(Segment.cleanedLogPath(dir, base));
            boolean indexPending = Files.exists(Segment.cleanedIndexPath(dir, base));
            boolean transactionIndexPending = Files.exists(Segment.cleanedTransactionIndexPath(dir, base));
            if (!logPending && !Files.exists(Segment.logPath(dir, base))) {
                throw new IOException(manifest + ": the compacted segment of a committed swap is missing; "
                        + "neither " + Segment.cleanedLogPath(dir, base).getFileName() + " nor "
                        + Segment.logPath(dir, base).getFileName() + " exists");
            }
            for (long old : replaced) {
                if (logPending || old != base) {
                    Files.deleteIfExists(Segment.logPath(dir, old));
                }
                if (indexPending || old != base) {
                    Files.deleteIfExists(Segment.indexPath(dir, old));
                }
                if (transactionIndexPending || old != base) {
                    Files.deleteIfExists(Segment.transactionIndexPath(dir, old));
                }
            }
            MetadataFile.syncDirectory(dir);
            if (transactionIndexPending) {
                Files.move(Segment.cleanedTransactionIndexPath(dir, base), Segment.transactionIndexPath(dir, base),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            if (indexPending) {
                Files.move(Segment.cleanedIndexPath(dir, base), Segment.indexPath(dir, base),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                MetadataFile.syncDirectory(dir);
            }
            if (logPending) {
                Files.move(Segment.cleanedLogPath(dir, base), Segment.logPath(dir, base),
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                MetadataFile.syncDirectory(dir);
            }
            Files.delete(manifest);
            MetadataFile.syncDirectory(dir);
            LOG.warn("{}: completed the swap of compacted segment {} that a stop interrupted (it replaces {} "
                    + "segment(s))", dir, Segment.fileName(base), count);
        }
        return manifests.size();
    }
}
