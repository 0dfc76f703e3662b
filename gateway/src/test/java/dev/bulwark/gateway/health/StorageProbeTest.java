package dev.bulwark.gateway.health;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StorageProbeTest {

    @TempDir
    Path dir;

    @Test
    void aWritableDirectoryPassesAndKeepsNoProbe() throws IOException {
        Files.createDirectories(dir.resolve("log"));

        assertEquals(Optional.empty(), new StorageProbe(List.of(dir, dir.resolve("log"))).failure());

        try (var left = Files.list(dir.resolve("log"))) {
            assertEquals(0, left.count());
        }
        assertTrue(Files.notExists(dir.resolve(StorageProbe.PROBE_FILE)));
    }

    @Test
    void aDirectoryThatCannotTakeTheProbeIsNamedWithTheReason() throws IOException {
        // A file where the log directory should be: nothing can be created in it, whoever runs the test.
        Files.writeString(dir.resolve("log"), "not a directory");

        String failure = new StorageProbe(List.of(dir, dir.resolve("log"))).failure().orElseThrow();

        assertTrue(failure.startsWith(dir.resolve("log") + " does not take writes: "), failure);
    }
}
