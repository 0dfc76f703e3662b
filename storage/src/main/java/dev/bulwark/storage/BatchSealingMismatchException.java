package dev.bulwark.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A log store was opened with a {@link StorageSettings#sealBatches} other than the one it was created with (see
 * {@link BatchSealingRecord}); nothing of it was loaded or changed.
 */
public final class BatchSealingMismatchException extends IOException {

    private final boolean storeSeals;

    BatchSealingMismatchException(Path dataDir, boolean storeSeals) {
        super("log store " + dataDir + " was created " + (storeSeals ? "sealing" : "NOT sealing")
                + " its record batches, and that is fixed for the life of the store (it never holds both kinds of"
                + " segment); it cannot be opened " + (storeSeals ? "without sealing them" : "sealing them"));
        this.storeSeals = storeSeals;
    }

    /** Whether the store seals its batches: the setting it must be opened with. */
    public boolean storeSeals() {
        return storeSeals;
    }
}
