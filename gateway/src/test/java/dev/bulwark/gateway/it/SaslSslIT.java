package dev.bulwark.gateway.it;

import dev.bulwark.auth.tls.LegacyClientHello;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SASL over TLS with stock clients, on Bulwark's own development TLS material: an operator from
 * {@code BULWARK_OPERATOR} creates SCRAM users with kafka-configs, and those users produce and consume with the Java
 * client, the console tools, kcat and kafka-python, with SCRAM-SHA-512 and PLAIN. Bad passwords, unknown users,
 * unknown mechanisms, a plaintext client on the TLS port and a TLS 1.1 client are refused, and the server goes on
 * serving everyone else.
 */
@Timeout(300)
class SaslSslIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String OPERATOR_PASSWORD = "operator-secret";
    private static final String ALICE_PASSWORD = "alice-secret";

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static Path caFile;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of(
                "BULWARK_LISTENERS", "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                "BULWARK_OPERATOR", "admin:" + OPERATOR_PASSWORD));
        caFile = server.dataDir().resolve("tls").resolve("ca.pem");
        ExternalCommand.kafkaTool(TIMEOUT, null, "kafka.admin.ConfigCommand",
                "--bootstrap-server", server.bootstrap("SASL_SSL"),
                "--command-config", propertiesFile("operator", saslSsl("SCRAM-SHA-512", "admin", OPERATOR_PASSWORD)),
                "--alter", "--entity-type", "users", "--entity-name", "alice",
                "--add-config", "SCRAM-SHA-512=[password=" + ALICE_PASSWORD + "],SCRAM-SHA-256=[iterations=8192,"
                        + "password=" + ALICE_PASSWORD + "]").requireSuccess();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void theDevelopmentCaIsInTheDataDirectoryAndTheLogSaysWhere() {
        assertTrue(Files.isRegularFile(caFile));
        assertTrue(server.log().contains(caFile.toString()), "the start log names the CA file");
    }

    @Test
    void theUsersKafkaConfigsCreatedAreDescribedWithTheirMechanismsAndIterations() throws Exception {
        // kafka-configs --describe --entity-type users also asks for client quotas (DescribeClientQuotas), which
        // arrive with quotas; the admin client asks for the credentials alone.
        try (Admin admin = Admin.create(saslSsl("SCRAM-SHA-512", "admin", OPERATOR_PASSWORD))) {
            UserScramCredentialsDescription alice = admin.describeUserScramCredentials(List.of("alice"))
                    .description("alice").get(30, TimeUnit.SECONDS);
            assertEquals(Map.of(ScramMechanism.SCRAM_SHA_512, 4096, ScramMechanism.SCRAM_SHA_256, 8192),
                    alice.credentialInfos().stream().collect(java.util.stream.Collectors.toMap(
                            c -> c.mechanism(), c -> c.iterations())));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"})
    void theJavaClientProducesAndConsumesAsAlice(String mechanism) throws Exception {
        String topic = "java-" + mechanism.toLowerCase();
        Map<String, Object> alice = saslSsl(mechanism, "alice", ALICE_PASSWORD);
        try (Admin admin = Admin.create(alice)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> producerConfig = new HashMap<>(alice);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "payment-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        assertEquals(10, consume(alice, topic, "group-" + mechanism, 10).size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SCRAM-SHA-512", "PLAIN"})
    void theConsoleToolsWorkWithAClientPropertiesFile(String mechanism) throws Exception {
        String topic = "console-" + mechanism.toLowerCase();
        String properties = propertiesFile("alice-" + mechanism, saslSsl(mechanism, "alice", ALICE_PASSWORD));
        ExternalCommand.kafkaTool(TIMEOUT, null, "org.apache.kafka.tools.TopicCommand",
                "--bootstrap-server", server.bootstrap("SASL_SSL"), "--command-config", properties,
                "--create", "--topic", topic, "--partitions", "1").requireSuccess();

        ExternalCommand.kafkaTool(TIMEOUT, "vital-1\nvital-2\nvital-3\n", "org.apache.kafka.tools.ConsoleProducer",
                "--bootstrap-server", server.bootstrap("SASL_SSL"), "--command-config", properties,
                "--topic", topic).requireSuccess();
        List<String> consumed = ExternalCommand.kafkaTool(TIMEOUT, null,
                "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", server.bootstrap("SASL_SSL"),
                "--command-config", properties, "--topic", topic, "--from-beginning", "--max-messages", "3")
                .requireSuccess().lines();

        assertEquals(List.of("vital-1", "vital-2", "vital-3"), consumed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SCRAM-SHA-512", "PLAIN"})
    void kcatProducesAndConsumesAsAlice(String mechanism) throws Exception {
        String topic = "kcat-" + mechanism.toLowerCase();
        createTopic(topic, 1);
        List<String> security = List.of("-b", server.bootstrap("SASL_SSL"), "-X", "security.protocol=SASL_SSL",
                "-X", "sasl.mechanisms=" + mechanism, "-X", "sasl.username=alice", "-X", "sasl.password="
                        + ALICE_PASSWORD, "-X", "ssl.ca.location=" + caFile);

        ExternalCommand.kcat(TIMEOUT, "a:1\nb:2\n", with(security, "-t", topic, "-P", "-K:")).requireSuccess();
        List<String> consumed = ExternalCommand.kcat(TIMEOUT, null, with(security, "-t", topic, "-C", "-e",
                "-f", "%k=%s\n")).requireSuccess().lines();

        assertEquals(List.of("a=1", "b=2"), consumed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SCRAM-SHA-512", "PLAIN"})
    void kafkaPythonProducesAndConsumesAsAlice(String mechanism) throws Exception {
        Path script = Path.of(System.getProperty("bulwark.test.resources", "src/test/resources"), "python",
                "json_round_trip.py");

        ExternalCommand.Result result = ExternalCommand.python(TIMEOUT, null, script, server.bootstrap("SASL_SSL"),
                "python-" + mechanism.toLowerCase(), "200", "SASL_SSL", mechanism, "alice", ALICE_PASSWORD,
                caFile.toString()).requireSuccess();

        assertEquals("OK 200", result.lines().get(result.lines().size() - 1));
    }

    @Test
    void saslPlaintextAuthenticatesTooButServesNothingBeforeAuthentication() throws Exception {
        Map<String, Object> alice = new HashMap<>(saslSsl("SCRAM-SHA-256", "alice", ALICE_PASSWORD));
        alice.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap("SASL_PLAINTEXT"));
        alice.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        try (Admin admin = Admin.create(alice)) {
            assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
        }

        try (KafkaWire wire = KafkaWire.connect(port("SASL_PLAINTEXT"))) {
            RequestHeader versions = wire.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("raw").setClientSoftwareVersion("1"));
            assertEquals(Errors.NONE.code(), ((ApiVersionsResponse) wire.receive(versions)).data().errorCode(),
                    "ApiVersions is served before authentication");
            wire.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
            assertTrue(wire.closedByServer(Duration.ofSeconds(30)),
                    "Metadata before authentication closes the connection");
        }
        assertEveryoneElseIsServed();
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameRefusal() throws Exception {
        String wrongPassword = refusal(saslSsl("SCRAM-SHA-512", "alice", "guess"));
        String unknownUser = refusal(saslSsl("SCRAM-SHA-512", "mallory", "guess"));
        String plain = refusal(saslSsl("PLAIN", "alice", "guess"));

        assertEquals("Authentication failed: invalid credentials for SASL mechanism SCRAM-SHA-512", wrongPassword);
        assertEquals(wrongPassword, unknownUser);
        assertEquals("Authentication failed: invalid credentials for SASL mechanism PLAIN", plain);
        assertTrue(server.log().contains("authentication of 'mallory' failed: UNKNOWN_USER"), "the log says why");
        assertEveryoneElseIsServed();
    }

    @Test
    void anUnofferedMechanismIsRefused() {
        Map<String, Object> gssapi = saslSsl("SCRAM-SHA-512", "alice", ALICE_PASSWORD);
        gssapi.put(SaslConfigs.SASL_MECHANISM, "OAUTHBEARER");
        gssapi.put(SaslConfigs.SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                        + "unsecuredLoginStringClaim_sub=\"alice\";");
        try (Admin admin = Admin.create(gssapi)) {
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertInstanceOf(UnsupportedSaslMechanismException.class, failed.getCause());
        }
    }

    @Test
    void aPlaintextClientOnTheTlsPortIsClosedAndTheServerGoesOn() throws Exception {
        try (KafkaWire wire = KafkaWire.connect(port("SASL_SSL"))) {
            wire.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData());
            assertTrue(wire.closedByServerAfterAnyAnswer(Duration.ofSeconds(30)));
        }
        assertEveryoneElseIsServed();
    }

    @Test
    void aTls11ClientIsRefusedWithAProtocolVersionAlert() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port("SASL_SSL"))) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(LegacyClientHello.of(LegacyClientHello.TLS_1_1));
            out.flush();
            byte[] alert = new byte[7];
            new DataInputStream(socket.getInputStream()).readFully(alert);
            assertEquals(21, alert[0], "an alert record");
            assertEquals(2, alert[5], "fatal");
            assertEquals(70, alert[6], "protocol_version");
        }
        assertEveryoneElseIsServed();
    }

    // ---------------------------------------------------------------- helpers

    private static void assertEveryoneElseIsServed() throws Exception {
        try (Admin admin = Admin.create(saslSsl("SCRAM-SHA-512", "admin", OPERATOR_PASSWORD))) {
            assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
        }
    }

    /** The message of the SaslAuthenticationException a client with {@code config} gets. */
    private static String refusal(Map<String, Object> config) {
        try (Admin admin = Admin.create(config)) {
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            return assertInstanceOf(SaslAuthenticationException.class, failed.getCause()).getMessage();
        }
    }

    private static int port(String listener) {
        return Integer.parseInt(server.bootstrap(listener).split(":")[1]);
    }

    private static void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(saslSsl("SCRAM-SHA-512", "admin", OPERATOR_PASSWORD))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static List<ConsumerRecord<String, String>> consume(Map<String, Object> security, String topic,
                                                                String group, int expected) {
        Map<String, Object> config = new HashMap<>(security);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
            consumer.commitSync();
        }
        return records;
    }

    /** Client settings for SASL_SSL as {@code user}, trusting the development CA. */
    static Map<String, Object> saslSsl(String mechanism, String user, String password) {
        Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, server.bootstrap("SASL_SSL"));
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        config.put(SaslConfigs.SASL_MECHANISM, mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        config.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + user + "\" password=\""
                + password + "\";");
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, caFile.toString());
        return config;
    }

    private static String propertiesFile(String name, Map<String, Object> config) throws IOException {
        Path file = dir.resolve(name + ".properties");
        Properties properties = new Properties();
        config.forEach((k, v) -> properties.setProperty(k, v.toString()));
        try (OutputStream out = Files.newOutputStream(file)) {
            properties.store(out, null);
        }
        return file.toString();
    }

    private static String[] with(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }
}
