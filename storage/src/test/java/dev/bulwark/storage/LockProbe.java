package dev.bulwark.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tries the data directory lock from another process, which is what the lock guards against: file locks belong to
 * the process, so only a second process sees whether this one still holds it.
 */
final class LockProbe {

    private LockProbe() {
    }

    /** Runs in the child process: prints "free" when it got the lock, "locked" when another process holds it. */
    public static void main(String[] args) throws IOException {
        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            System.out.print(lock == null ? "locked" : "free");
        }
    }

    static String probe(Path lockFile) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                LockProbe.class.getName(), lockFile.toString())).redirectErrorStream(true).start();
        if (!child.waitFor(30, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            throw new AssertionError("the lock probe did not finish");
        }
        return new String(child.getInputStream().readAllBytes()).trim();
    }
}
