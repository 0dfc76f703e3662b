package dev.bulwark.gateway.it;

import dev.bulwark.auth.tls.DevCertificateAuthority;
import dev.bulwark.auth.tls.DevTls;
import dev.bulwark.auth.tls.IssuedCertificate;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An SSL listener on configured PEM files that requires client certificates (mTLS): a client with a certificate from
 * the trusted CA is served, one without a certificate or with another CA's is refused in the handshake, a
 * certificate that maps to no known tenant is refused after it, and a renewed server certificate file is used
 * without a restart.
 */
@Timeout(180)
class MutualTlsIT {

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static DevCertificateAuthority ca;

    @BeforeAll
    static void start() throws Exception {
        DevTls files = DevCertificateAuthority.ensure(dir.resolve("pki"), "127.0.0.1", Clock.systemUTC());
        ca = DevCertificateAuthority.openOrCreate(dir.resolve("pki"), Clock.systemUTC());
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_LISTENERS", "SSL://127.0.0.1:0",
                "BULWARK_TLS_CERTIFICATE_FILE", files.serverCertificate().toString(),
                "BULWARK_TLS_KEY_FILE", files.serverKey().toString(),
                "BULWARK_TLS_TRUSTSTORE_FILE", files.caCertificate().toString(),
                "BULWARK_KAFKA_SSL_CLIENT_AUTH", "required",
                "BULWARK_KAFKA_SSL_PRINCIPAL_MAPPING_RULES",
                "RULE:^CN=([^,]+),OU=([^,]+)$/$1@$2/,RULE:^CN=([^,]+)$/$1/",
                "BULWARK_TLS_RELOAD_INTERVAL", "200ms"));
    }

    @Test
    void configuredMaterialNeedsNoDevelopmentCa() {
        assertFalse(Files.exists(server.dataDir().resolve("tls")), "no development CA beside configured files");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aClientWithACertificateFromTheTrustedCaProducesAndConsumes() throws Exception {
        Map<String, Object> client = ssl(ca.issueClientCertificate("payments-app"), "payments");
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic("payments", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(client, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("payments", "iban-1", "100.00 EUR")).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(withEarliest(client),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("payments", 0)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int read = 0;
            while (read == 0 && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(500)).count();
            }
            assertEquals(1, read);
        }
    }

    @Test
    void aClientWithoutACertificateIsRefusedInTheHandshake() throws Exception {
        Map<String, Object> anonymous = ssl(null, "anonymous");
        assertHandshakeRefused(anonymous);
        assertServed();
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedInTheHandshake() throws Exception {
        DevCertificateAuthority stranger = DevCertificateAuthority.openOrCreate(dir.resolve("stranger"),
                Clock.systemUTC());
        assertHandshakeRefused(ssl(stranger.issueClientCertificate("payments-app"), "stranger"));
        assertServed();
    }

    @Test
    void aCertificateNamingAnUnknownTenantIsRefused() throws Exception {
        IssuedCertificate mallory = ca.issueClientCertificate(
                new javax.security.auth.x500.X500Principal("CN=mallory,OU=nowhere"), Duration.ofDays(1));
        Map<String, Object> client = ssl(mallory, "mallory");
        client.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
        client.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 4_000);
        try (Admin admin = Admin.create(client)) {
            assertThrows(ExecutionException.class, () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
        }
        assertTrue(server.log().contains("the certificate of mallory@nowhere names no known tenant"),
                "the log says why");
        assertServed();
    }

    @Test
    void aRenewedServerCertificateIsUsedWithoutARestart() throws Exception {
        BigInteger before = serverCertificateSerial();
        Files.delete(dir.resolve("pki").resolve(DevCertificateAuthority.SERVER_CERTIFICATE));
        ca.ensureServerCertificate("127.0.0.1");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        BigInteger after = before;
        assertTrue(before != null, "the server shows a certificate");
        while (before.equals(after) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            after = serverCertificateSerial();
        }

        assertNotEquals(before, after, "new connections get the renewed certificate");
        assertServed();
    }

    // ---------------------------------------------------------------- helpers

    private static void assertHandshakeRefused(Map<String, Object> client) {
        try (Admin admin = Admin.create(client)) {
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SslAuthenticationException.class, failed.getCause());
        }
    }

    private static void assertServed() throws Exception {
        try (Admin admin = Admin.create(ssl(ca.issueClientCertificate("ops"), "ops"))) {
            assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
        }
    }

    /**
     * The serial number of the certificate a new TLS connection is shown: recorded as the client checks it, since
     * the server refuses this client (it has no certificate) right after.
     */
    private static BigInteger serverCertificateSerial() throws Exception {
        AtomicReference<BigInteger> shown = new AtomicReference<>();
        X509TrustManager recorder = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
                throw new UnsupportedOperationException("a client's trust manager is never asked about clients");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                shown.set(chain[0].getSerialNumber());
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {recorder}, null);
        String[] hostPort = server.bootstrap("SSL").split(":");
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(hostPort[0],
                Integer.parseInt(hostPort[1]))) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
        } catch (IOException refused) {
            // expected once the server has shown its certificate
        }
        return shown.get();
    }

    /** SSL client settings trusting the development CA, with {@code certificate} as the client's (or none). */
    private static Map<String, Object> ssl(IssuedCertificate certificate, String name) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap("SSL"));
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, ca.caCertificateFile().toString());
        if (certificate != null) {
            Path cert = dir.resolve(name + ".pem");
            Path key = dir.resolve(name + "-key.pem");
            certificate.writePem(cert, key);
            config.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
            config.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, Files.readString(cert));
            config.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, Files.readString(key));
        }
        return config;
    }

    private static Map<String, Object> withEarliest(Map<String, Object> client) {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return config;
    }
}
