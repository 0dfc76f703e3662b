package dev.bulwark.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether a log store seals its topics' record batches ({@link StorageSettings#sealBatches}): fixed when the store is
 * created, and recorded in {@code <log-dir>/batch-sealing}, so that a store never holds both kinds of segment. A
 * sealing store that could gain unsealed segments by a mistaken setting would leak record content silently; with the
 * choice fixed, an unsealed segment in a sealing store can only have been put there from outside, and is refused as
 * tampering ({@link Segment}).
 *
 * <pre>
 * {@link MetadataFile}, magic "BWBS", version 1, payload: u8 1 when batches are sealed, 0 when not
 * </pre>
 *
 * A store that records nothing was created before the setting existed, when every batch was sealed: it counts as
 * sealing, and the record is written on its next sealing start.
 */
final class BatchSealingRecord {

    static final String FILE_NAME = "batch-sealing";
    private static final int FILE_MAGIC = 0x42574253; // "BWBS"
    private static final byte FILE_VERSION = 1;

    private BatchSealingRecord() {
    }

    /** Whether the store in {@code dataDir} seals its batches, as recorded (sealing when nothing is). */
    static boolean sealsBatches(Path dataDir) throws IOException {
        return recorded(dataDir.resolve(FILE_NAME)).orElse(true);
    }

    /**
     * Records {@code sealBatches} in a new store or one that records nothing yet; in a store that records the other
     * choice (or records nothing and is not new, so seals), refuses to open it. Call it before anything is loaded.
     *
     * @param newStore whether the store was never opened before: nothing of it is written yet
     * @throws BatchSealingMismatchException when {@code sealBatches} disagrees with the store
     */
    static void checkOrRecord(Path dataDir, boolean sealBatches, boolean newStore) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        Optional<Boolean> recorded = recorded(file);
        boolean storeSeals = recorded.orElse(!newStore || sealBatches);
        if (storeSeals != sealBatches) {
            throw new BatchSealingMismatchException(dataDir, storeSeals);
        }
        if (recorded.isEmpty()) {
            MetadataFile.write(file, FILE_MAGIC, FILE_VERSION, new byte[]{(byte) (sealBatches ? 1 : 0)});
        }
    }

    private static Optional<Boolean> recorded(Path file) throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        if (content.get().version() != FILE_VERSION || content.get().payload().remaining() != 1) {
            throw new MetadataFile.CorruptFileException(file, "not a batch sealing record of version "
                    + FILE_VERSION);
        }
        byte value = content.get().payload().get(0);
        if (value != 0 && value != 1) {
            throw new MetadataFile.CorruptFileException(file, "unknown batch sealing " + value);
        }
        return Optional.of(value == 1);
    }
}
