package dev.bulwark.gateway.cluster;

import dev.bulwark.storage.MetadataFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Hands out producer ids that are never reused, across restarts and crashes: ids come from blocks, and the end of
 * the current block is made durable before the first id of the block is handed out.
 */
public final class ProducerIds {

    private static final int FILE_MAGIC = 0x42575049; // "BWPI"
    private static final byte FILE_VERSION = 1;
    static final long BLOCK_SIZE = 1000;

    private final Path file;
    private long next;
    private long blockEnd;

    private ProducerIds(Path file, long next) {
        this.file = file;
        this.next = next;
        this.blockEnd = next;
    }

    public static ProducerIds open(Path file) throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        long next = content.map(c -> c.payload().getLong()).orElse(0L);
        return new ProducerIds(file, next);
    }

    public synchronized long next() throws IOException {
        if (next == blockEnd) {
            long end = blockEnd + BLOCK_SIZE;
            MetadataFile.write(file, FILE_MAGIC, FILE_VERSION, ByteBuffer.allocate(8).putLong(end).array());
            blockEnd = end;
        }
        return next++;
    }
}
