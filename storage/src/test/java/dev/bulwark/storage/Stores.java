package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.MemoryRecords;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Opens log stores for tests: background work is due only after the test is over, so the test drives it. */
final class Stores {

    private Stores() {
    }

    static StorageSettings settings(FlushPolicy policy) {
        Duration never = Duration.ofHours(1);
        return new StorageSettings(policy, never, 2, 2, never, never, Duration.ofDays(1), never);
    }

    static LogManager open(Path dataDir, Clock clock, FlushPolicy policy) throws IOException {
        return open(dataDir, clock, policy, Map.of());
    }

    static LogManager open(Path dataDir, Clock clock, FlushPolicy policy, Map<String, ?> serverDefaults)
            throws IOException {
        return LogManager.open(dataDir, settings(policy), TestKeys.open(dataDir), serverDefaults, clock, log -> { });
    }

    static PartitionLog log(LogManager store, String topic, int partition) {
        TopicMetadata metadata = store.topic(TopicMetadata.DEFAULT_TENANT_ID, topic).orElseThrow(() -> new AssertionError("no topic " + topic));
        return store.log(metadata.id(), partition).orElseThrow(() -> new AssertionError("no partition " + partition));
    }

    static Path partitionDir(Path dataDir, TopicMetadata topic, int partition) {
        return dataDir.resolve("topics").resolve(topic.id().toString()).resolve(Integer.toString(partition));
    }

    /** Appends and waits until the high watermark passes the batch: what acks=all waits for. */
    static AppendResult appendAcked(PartitionLog log, MemoryRecords records) {
        AppendResult result = log.append(records);
        try {
            log.awaitHighWatermark(result.lastOffset()).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("append at " + result.firstOffset() + " was not acknowledged", e);
        }
        return result;
    }

    /** Copies a data directory as it is now, as a crash would leave it if every write had reached the disk. */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            walk.forEach(source -> {
                Path target = to.resolve(from.relativize(source).toString());
                try {
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** Every file under {@code dir} by its relative path, with its bytes in hex: equal maps mean identical trees. */
    static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> contents = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                contents.put(dir.relativize(file).toString(), HexFormat.of().formatHex(Files.readAllBytes(file)));
            }
        }
        return contents;
    }

    /** Every file under {@code dir} whose name ends with {@code suffix}. */
    static long countFiles(Path dir, String suffix) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }
}
