package dev.bulwark.gateway.packaged;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The settings a packaged Bulwark (the jar, or the native executable in the {@code native} profile) is launched with by
 * {@code @QuarkusIntegrationTest}: a data directory of its own, a PLAINTEXT and a SASL_SSL listener on free ports of
 * 127.0.0.1, and an operator. Quarkus passes them to the launched process as system properties; the tests get the
 * addresses through a field annotated {@link Server}.
 */
public final class PackagedBroker implements QuarkusTestResourceLifecycleManager {

    static final String OPERATOR = "admin";
    static final String OPERATOR_PASSWORD = "operator-secret";

    /** Marks the test field (of type {@link Addresses}) that receives the launched server's addresses. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Server {
    }

    /** Where the launched server listens, and its data directory (where its development CA is). */
    public record Addresses(String plaintext, String saslSsl, Path dataDir) {

        /** Client settings for {@code user} over SASL_SSL with SCRAM-SHA-512, trusting the development CA. */
        Map<String, Object> saslSsl(String user, String password) {
            Map<String, Object> config = new HashMap<>();
            config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, saslSsl);
            config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
            config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
            config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, dataDir.resolve("tls").resolve("ca.pem").toString());
            config.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512");
            config.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"" + user + "\" password=\"" + password + "\";");
            return config;
        }
    }

    private Path dataDir;
    private Addresses addresses;

    @Override
    public Map<String, String> start() {
        try {
            dataDir = Files.createTempDirectory("bulwark-packaged-");
            addresses = new Addresses("127.0.0.1:" + freePort(), "127.0.0.1:" + freePort(), dataDir.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of(
                "bulwark.data-dir", addresses.dataDir().toString(),
                "bulwark.listeners", "PLAINTEXT://" + addresses.plaintext() + ",SASL_SSL://" + addresses.saslSsl(),
                "bulwark.advertised-host", "127.0.0.1",
                "bulwark.operator", OPERATOR + ":" + OPERATOR_PASSWORD);
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(addresses,
                new TestInjector.AnnotatedAndMatchesType(Server.class, Addresses.class));
    }

    @Override
    public void stop() {
        if (dataDir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
