package dev.bulwark.gateway.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a client program nobody here wrote (Kafka's CLI tools, kcat, kafka-python) as a separate process, with a hard
 * time-out, and captures what it printed.
 */
public final class ExternalCommand {

    /** What a finished command did. */
    public record Result(int exitCode, String stdout, String stderr) {
        public Result requireSuccess() {
            if (exitCode != 0) {
                throw new AssertionError("command failed with exit code " + exitCode + "\nstdout:\n" + stdout
                        + "\nstderr:\n" + stderr);
            }
            return this;
        }

        public List<String> lines() {
            return stdout.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private ExternalCommand() {
    }

    public static Result run(Duration timeout, String stdin, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("cmd-out", ".txt");
        Path err = Files.createTempFile("cmd-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            Process process = builder.start();
            if (stdin != null) {
                process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            process.getOutputStream().close();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("command timed out after " + timeout + ": " + command + "\nstdout:\n"
                        + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A Kafka tool main class from {@code org.apache.kafka:kafka-tools}, on its own classpath. */
    public static Result kafkaTool(Duration timeout, String stdin, String mainClass, String... args)
            throws IOException, InterruptedException {
        return run(timeout, stdin, kafkaToolCommand(mainClass, args));
    }

    static List<String> kafkaToolCommand(String mainClass, String... args) throws IOException {
        String file = System.getProperty("kafka.tools.classpath.file");
        if (file == null || !Files.exists(Path.of(file))) {
            throw new IllegalStateException("kafka.tools.classpath.file not set or missing (" + file + ")");
        }
        // Tools run for seconds: the client compiler alone and the serial collector start them faster.
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", Files.readString(Path.of(file)).trim(), mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /** Debian's python3, where python3-kafka is importable (a pyenv python3 may come first on PATH). */
    public static Result python(Duration timeout, String stdin, Path script, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        command.addAll(List.of(args));
        return run(timeout, stdin, command);
    }

    public static Result kcat(Duration timeout, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat"));
        command.addAll(List.of(args));
        return run(timeout, stdin, command);
    }
}
