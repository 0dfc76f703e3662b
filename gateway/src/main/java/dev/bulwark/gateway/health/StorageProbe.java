package dev.bulwark.gateway.health;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * Whether the data directory takes writes now: a probe file is created, written, forced to disk and removed in the
 * data directory and in the log store's directory. A read-only remount, a full disk or lost permissions fail it, and
 * the broker is not ready: appends, commits and audit entries would fail the same way.
 */
public final class StorageProbe {

    static final String PROBE_FILE = ".ready-probe";

    private final List<Path> directories;

    public StorageProbe(List<Path> directories) {
        this.directories = List.copyOf(directories);
    }

    /** Why the data directory does not take writes; empty when it does. */
    public Optional<String> failure() {
        for (Path directory : directories) {
            Path probe = directory.resolve(PROBE_FILE);
            try {
                try (FileChannel channel = FileChannel.open(probe, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    channel.write(ByteBuffer.wrap(new byte[] {1}));
                    channel.force(false);
                }
                Files.delete(probe);
            } catch (IOException e) {
                return Optional.of(directory + " does not take writes: " + e);
            }
        }
        return Optional.empty();
    }
}
