package dev.bulwark.storage;

import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Opens one partition log through {@link LogLoader}, as the log store does, without the rest of the store. */
final class Partitions {

    static final PartitionId ID = new PartitionId(Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ"), 0);

    private Partitions() {
    }

    static LogConfig config(Map<String, String> overrides) {
        return LogConfig.resolve(overrides, Map.of());
    }

    /** How the partition {@link #ID} of the default tenant is sealed, with the keyring of {@code keysDir}. */
    static PartitionSealing sealing(Path keysDir) throws IOException {
        return new PartitionSealing(TestKeys.open(keysDir), KeyOwner.tenant(TopicMetadata.DEFAULT_TENANT_ID), ID);
    }

    /**
     * A new, empty partition log in {@code dir} (its keyring in {@code dir/keys}); retired segments are deleted at
     * once.
     */
    static PartitionLog create(Path dir, LogConfig config, Clock clock, FlushPolicy policy, FlushScheduler flushes)
            throws IOException {
        Files.createDirectories(dir);
        return LogLoader.load(ID, dir, sealing(dir), config, clock, policy, flushes, log -> { },
                (segment, delayMs) -> {
                    try {
                        segment.deleteFiles();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, PartitionCheckpoint.NONE, true).log();
    }

    /**
     * A flush scheduler that runs nothing: under {@link FlushPolicy#DURABLE} the high watermark then moves only when
     * the test calls {@link PartitionLog#flush()}.
     */
    static FlushScheduler manualFlushes() throws InterruptedException {
        FlushScheduler scheduler = new FlushScheduler(1);
        scheduler.close();
        return scheduler;
    }

    /** The segment files of a partition directory, oldest first. */
    static List<Path> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(Segment.LOG_SUFFIX)).sorted().toList();
        }
    }

    /**
     * Where each batch of a segment file starts, read from the length fields (the file is assumed intact); the
     * preallocated zeroes an active segment may end with hold no batch.
     */
    static List<Integer> batchPositions(Path segmentFile) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segmentFile));
        List<Integer> positions = new ArrayList<>();
        int position = Segment.HEADER_SIZE;
        while (position + BatchHeader.SIZE <= bytes.limit() && bytes.getInt(position + BatchHeader.LENGTH_OFFSET) > 0) {
            positions.add(position);
            position += bytes.getInt(position + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD;
        }
        return positions;
    }

    /** Where the batches of a segment file end: its size, unless it ends with preallocated zeroes. */
    static long dataEnd(Path segmentFile) throws IOException {
        List<Integer> positions = batchPositions(segmentFile);
        if (positions.isEmpty()) {
            return Math.min(Files.size(segmentFile), Segment.HEADER_SIZE);
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segmentFile));
        int last = positions.get(positions.size() - 1);
        return last + bytes.getInt(last + BatchHeader.LENGTH_OFFSET) + BatchHeader.LOG_OVERHEAD;
    }

    /** A segment file's bytes without the preallocated zeroes an active segment may end with. */
    static byte[] dataBytes(Path segmentFile) throws IOException {
        return java.util.Arrays.copyOf(Files.readAllBytes(segmentFile), (int) dataEnd(segmentFile));
    }

    /** The batches of a segment file of partition {@link #ID}, opened with the keyring of {@code keysDir}. */
    static List<byte[]> openedBatches(Path keysDir, Path segmentFile) throws IOException {
        String name = segmentFile.getFileName().toString();
        long base = Long.parseLong(name.substring(0, name.length() - Segment.LOG_SUFFIX.length()));
        List<byte[]> batches = new ArrayList<>();
        try (Segment segment = Segment.open(segmentFile, base, sealing(keysDir)).segment()) {
            ByteBuffer header = ByteBuffer.allocate(Frame.SEALED_OFFSET);
            for (int position : batchPositions(segmentFile)) {
                Segment.Located located = new Segment.Located(position, segment.readFrame(header, position));
                batches.add(Batches.bytes(segment.open(located).records()));
            }
        }
        return batches;
    }

    /** Writes {@code bytes} right after the last batch of a segment file, over any preallocated zeroes. */
    static void writeAfterData(Path segmentFile, byte[] bytes) throws IOException {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(segmentFile,
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), dataEnd(segmentFile));
        }
    }
}
