package dev.bulwark.gateway.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real Bulwark, run as its own process from the packaged jar ({@code java -jar quarkus-run.jar}), on
 * 127.0.0.1 with a free port and a data directory of the test's own. It can be stopped with SIGTERM, killed with
 * SIGKILL and started again on the same data and port. A JVM shutdown hook kills it if a test forgets to.
 */
public final class BulwarkProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("Listening for Kafka clients on (\\w+)://[^:]+:(\\d+)");
    private static final Pattern HTTP = Pattern.compile("Listening on: http://[^:]+:(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final Path logFile;
    private final Map<String, String> env;
    private final String listeners;
    private final Map<String, Integer> ports = new HashMap<>();
    private Process process;
    private int port;
    private int httpPort;
    private int starts;

    private BulwarkProcess(Path dataDir, Map<String, String> env, String listeners) {
        this.dataDir = dataDir;
        this.logFile = logFileFor(dataDir);
        this.env = env;
        this.listeners = listeners;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (process != null) {
                process.destroyForcibly();
            }
        }));
    }

    /**
     * Server logs go to {@code target/it-logs} (not the test's temporary directory), so they outlive a failed test.
     */
    private static Path logFileFor(Path dataDir) {
        try {
            Path logs = Path.of(System.getProperty("bulwark.it.logs", "target/it-logs"));
            Files.createDirectories(logs);
            return logs.resolve(StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                    .walk(frames -> frames.map(StackWalker.StackFrame::getDeclaringClass)
                            .filter(c -> c != BulwarkProcess.class).findFirst().orElse(BulwarkProcess.class))
                    .getSimpleName() + "-" + Math.abs(dataDir.hashCode()) + ".log");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Starts a server on {@code dataDir} with extra environment settings ({@code BULWARK_KAFKA_...}). A
     * {@code BULWARK_LISTENERS} among them may use port 0: each such listener gets a free port of its own, kept across
     * restarts; without it the server has one PLAINTEXT listener.
     */
    public static BulwarkProcess start(Path dataDir, Map<String, String> env) throws IOException {
        Map<String, String> rest = new HashMap<>(env);
        String listeners = rest.remove("BULWARK_LISTENERS");
        StringBuilder bound = new StringBuilder();
        for (String listener : (listeners == null ? "PLAINTEXT://127.0.0.1:0" : listeners).split(",")) {
            bound.append(bound.length() == 0 ? "" : ",")
                    .append(listener.endsWith(":0") ? listener.substring(0, listener.length() - 1) + freePort()
                            : listener);
        }
        BulwarkProcess server = new BulwarkProcess(dataDir, rest, bound.toString());
        server.launch();
        return server;
    }

    public static BulwarkProcess start(Path dataDir) throws IOException {
        return start(dataDir, Map.of());
    }

    /**
     * A server for tenant tests: one SASL_PLAINTEXT listener, an operator, and groups that rebalance without the
     * initial delay.
     */
    public static BulwarkProcess startForTenants(Path dataDir, String operator, String password) throws IOException {
        return start(dataDir, Map.of(
                "BULWARK_LISTENERS", "SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", operator + ":" + password,
                "BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private void launch() throws IOException {
        String jar = System.getProperty("bulwark.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("bulwark.jar not set or missing (" + jar + "); run through mvn verify");
        }
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-jar", jar);
        Map<String, String> environment = builder.environment();
        environment.put("BULWARK_DATA_DIR", dataDir.toString());
        environment.put("BULWARK_LISTENERS", listeners);
        environment.put("BULWARK_ADVERTISED_HOST", "127.0.0.1");
        environment.put("QUARKUS_HTTP_PORT", "0");
        environment.putAll(env);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
        process = builder.start();
        starts++;
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            String log = Files.exists(logFile) ? readFrom(logStart) : "";
            Matcher http = HTTP.matcher(log);
            if (http.find()) {
                Matcher m = LISTENING.matcher(log);
                while (m.find()) {
                    ports.put(m.group(1), Integer.parseInt(m.group(2)));
                }
                port = ports.getOrDefault("PLAINTEXT", -1);
                httpPort = Integer.parseInt(http.group(1));
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("Bulwark exited with " + process.exitValue() + " during start:\n" + log);
            }
            sleep(50);
        }
        process.destroyForcibly();
        throw new IllegalStateException("Bulwark did not start within " + START_TIMEOUT + ":\n" + log());
    }

    private String readFrom(long offset) throws IOException {
        byte[] all = Files.readAllBytes(logFile);
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                StandardCharsets.UTF_8);
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The bootstrap address of the listener named {@code listener} ({@code SASL_SSL}, ...). */
    public String bootstrap(String listener) {
        Integer listenerPort = ports.get(listener);
        if (listenerPort == null) {
            throw new IllegalArgumentException("no " + listener + " listener; listening on " + ports);
        }
        return "127.0.0.1:" + listenerPort;
    }

    public int port() {
        return port;
    }

    /** Base URL of the HTTP API (health, REST). */
    public String http() {
        return "http://127.0.0.1:" + httpPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Everything the server has logged, across restarts. */
    public String log() {
        try {
            return Files.readString(logFile);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGTERM, then wait for the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("Bulwark did not stop within 60 s after SIGTERM");
        }
        return process.exitValue();
    }

    /** SIGKILL: no shutdown of any kind. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Starts again on the same data directory and port. */
    public void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("still running");
        }
        launch();
    }

    public int starts() {
        return starts;
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            stop();
        }
    }

    static Map<String, String> env(String... keyValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
