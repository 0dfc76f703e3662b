package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A long-running Kafka tool (VerifiableProducer, VerifiableConsumer) as its own process, whose JSON event lines are
 * parsed as they arrive and handed to a listener. It can be stopped with SIGTERM or killed with SIGKILL.
 */
final class ToolProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Process process;
    private final Thread reader;
    private final List<String> other = new CopyOnWriteArrayList<>();

    private ToolProcess(String name, Process process, Consumer<JsonNode> events) {
        this.name = name;
        this.process = process;
        this.reader = new Thread(() -> read(events), name + "-events");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    static ToolProcess start(String name, Consumer<JsonNode> events, String mainClass, String... args)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(ExternalCommand.kafkaToolCommand(mainClass, args))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        return new ToolProcess(name, builder.start(), events);
    }

    /** Hands every event line to the listener; a line that is not valid JSON is kept, and reading goes on. */
    private void read(Consumer<JsonNode> events) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                JsonNode event = line.startsWith("{") ? parse(line) : null;
                if (event != null) {
                    events.accept(event);
                } else if (!line.isBlank()) {
                    other.add(line);
                }
            }
        } catch (IOException e) {
            other.add("reading events failed: " + e);
        }
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }

    /** What the tool printed besides its events, for a failure message. */
    List<String> otherOutput() {
        return List.copyOf(other);
    }

    String name() {
        return name;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * SIGTERM: the tool closes its client cleanly (a consumer leaves its group). Sent through the process handle:
     * {@link Process#destroy()} also closes our end of the tool's output, which would lose the events it prints while
     * it shuts down (its last records and commits).
     */
    int stop() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        reader.join(10_000);
        return process.exitValue();
    }

    /** SIGKILL: nothing is closed; the group notices only when the session times out. What it printed is still read. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " did not finish within " + seconds + " s; it printed " + other);
        }
        reader.join(10_000);
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
