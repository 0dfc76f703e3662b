package dev.bulwark.gateway.it;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.bulwark.auth.jwt.TestTokens;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OAUTHBEARER with the Java client and JWTs signed by a test key the server knows from a JWK Set file: a valid token
 * produces and consumes and re-authenticates as {@code connections.max.reauth.ms} asks (KIP-368); an expired, a
 * not-yet-valid, a wrong-audience and a wrongly signed token are refused.
 */
@Timeout(180)
class OAuthBearerIT {

    private static final long MAX_REAUTH_MS = 1500;

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static RSAKey key;

    @BeforeAll
    static void start() throws Exception {
        key = TestTokens.rsa("bulwark-test");
        Path jwks = TestTokens.jwksFile(dir.resolve("jwks.json"), key);
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_LISTENERS", "SASL_SSL://127.0.0.1:0",
                "BULWARK_KAFKA_SASL_ENABLED_MECHANISMS", "OAUTHBEARER,SCRAM-SHA-512",
                "BULWARK_KAFKA_CONNECTIONS_MAX_REAUTH_MS", Long.toString(MAX_REAUTH_MS),
                "BULWARK_JWT_JWKS_FILE", jwks.toString(),
                "BULWARK_JWT_ISSUER", TestTokens.ISSUER,
                "BULWARK_JWT_AUDIENCE", TestTokens.AUDIENCE));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aValidTokenProducesAndConsumesAndReauthenticatesWhenTheSessionEnds() throws Exception {
        Map<String, Object> client = client(sign(key, claims()));
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic("vitals", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        int sent = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(client, new StringSerializer(),
                new StringSerializer())) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_REAUTH_MS * 3);
            while (System.nanoTime() < end) {
                producer.send(new ProducerRecord<>("vitals", "patient-" + sent, "hr=72")).get(30, TimeUnit.SECONDS);
                sent++;
                Thread.sleep(100);
            }
            assertTrue(metric(producer.metrics(), "successful-reauthentication-total") >= 1,
                    "the producer re-authenticated over one connection");
            assertEquals(0, metric(producer.metrics(), "failed-reauthentication-total"));
        }
        Map<String, Object> consumerConfig = new HashMap<>(client);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("vitals", 0)));
            consumer.seekToBeginning(consumer.assignment());
            int read = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (read < sent && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(500)).count();
            }
            assertEquals(sent, read);
        }
    }

    @Test
    void anExpiredTokenIsRefused() {
        Instant now = Instant.now();
        assertRefused(sign(key, claims().issueTime(Date.from(now.minusSeconds(600)))
                .notBeforeTime(Date.from(now.minusSeconds(600))).expirationTime(Date.from(now.minusSeconds(120)))
                .build()));
    }

    @Test
    void aTokenNotValidYetIsRefused() {
        assertRefused(sign(key, claims().notBeforeTime(Date.from(Instant.now().plusSeconds(300))).build()));
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() {
        assertRefused(sign(key, claims().audience("another-service").build()));
    }

    @Test
    void aTokenSignedByAnotherKeyIsRefused() {
        assertRefused(sign(TestTokens.rsa("bulwark-test"), claims().build()));
    }

    // ---------------------------------------------------------------- helpers

    /** Claims for operator {@code ops} of the default tenant, valid for ten minutes. */
    private static JWTClaimsSet.Builder claims() {
        return TestTokens.claims(Instant.now()).subject("ops").claim("tenant", null)
                .claim("roles", List.of("operator"));
    }

    private static String sign(RSAKey signer, JWTClaimsSet.Builder claims) {
        return sign(signer, claims.build());
    }

    private static String sign(RSAKey signer, JWTClaimsSet claims) {
        return TestTokens.sign(signer, JWSAlgorithm.RS256, claims);
    }

    private static void assertRefused(String token) {
        try (Admin admin = Admin.create(client(token))) {
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            SaslAuthenticationException refused = assertInstanceOf(SaslAuthenticationException.class,
                    failed.getCause());
            assertTrue(refused.getMessage().startsWith("Authentication failed: invalid token"), refused.getMessage());
        }
    }

    private static double metric(Map<org.apache.kafka.common.MetricName, ? extends Metric> metrics, String name) {
        return metrics.entrySet().stream().filter(e -> e.getKey().name().equals(name))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
    }

    private static Map<String, Object> client(String token) {
        Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap("SASL_SSL"));
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        config.put(SaslConfigs.SASL_MECHANISM, "OAUTHBEARER");
        config.put(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS, TestTokenLoginHandler.class.getName());
        config.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
                + " required token=\"" + token + "\" lifetimeMs=\"" + Instant.now().plusSeconds(600).toEpochMilli()
                + "\";");
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG,
                server.dataDir().resolve("tls").resolve("ca.pem").toString());
        return config;
    }
}
