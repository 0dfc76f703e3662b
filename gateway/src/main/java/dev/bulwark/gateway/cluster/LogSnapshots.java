package dev.bulwark.gateway.cluster;

import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * The snapshots that bound a key-value internal log: a sealed file holding the whole state up to a log offset, after
 * which the log before that offset is dropped. The store that owns the log counts what it appends
 * ({@link #appended}) and decides when a snapshot is due ({@link #maybeWrite}).
 *
 * <p>The count is guarded by the owner's state lock: {@link #appended} is called holding it, and {@link #maybeWrite}
 * takes it to check the count and encode the state at one log offset.
 */
public final class LogSnapshots {

    private final PartitionLog log;
    private final SealedFiles sealedFiles;
    private final Path file;
    private final int magic;
    private final byte version;
    /** One snapshot written at a time, so an older one never replaces a newer. */
    private final Object writeLock = new Object();
    private long recordsSinceSnapshot;

    public LogSnapshots(PartitionLog log, SealedFiles sealedFiles, Path file, int magic, byte version) {
        this.log = log;
        this.sealedFiles = sealedFiles;
        this.file = file;
        this.magic = magic;
        this.version = version;
    }

    /** The newest snapshot's payload, if one was written. */
    public Optional<ByteBuffer> read() throws IOException {
        return sealedFiles.read(file, magic, version, KeyOwner.SYSTEM, file.getFileName().toString());
    }

    /** Counts records appended to the log; called holding the owner's state lock. */
    public void appended(long records) {
        recordsSinceSnapshot += records;
    }

    /**
     * Writes a snapshot once at least {@code minRecords} were appended since the last (0: now), and drops the log
     * before it.
     *
     * @param state  the owner's state lock, held while the state is encoded
     * @param encode the state's snapshot payload covering the log up to the given offset
     * @return whether one was written
     */
    public boolean maybeWrite(long minRecords, Object state, LongFunction<byte[]> encode) throws IOException {
        synchronized (writeLock) {
            long upTo;
            byte[] payload;
            synchronized (state) {
                if (recordsSinceSnapshot < minRecords) {
                    return false;
                }
                upTo = log.logEndOffset();
                payload = encode.apply(upTo);
                recordsSinceSnapshot = 0;
            }
            KeyValueLog.writeSnapshot(log, sealedFiles, file, magic, version, upTo, payload);
            return true;
        }
    }
}
