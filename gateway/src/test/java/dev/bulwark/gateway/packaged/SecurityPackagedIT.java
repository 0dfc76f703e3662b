package dev.bulwark.gateway.packaged;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * TLS and SASL on the packaged application, twin of SaslSslIT: the development TLS material Bulwark generates (Bouncy
 * Castle), SCRAM-SHA-512 for the operator, a SCRAM user the operator creates through the Admin API, that user's
 * records over SASL_SSL, and a wrong password refused.
 */
@QuarkusIntegrationTest
@WithTestResource(PackagedBroker.class)
@Timeout(300)
class SecurityPackagedIT {

    @PackagedBroker.Server
    PackagedBroker.Addresses server;

    @Test
    void aScramUserTheOperatorCreatesProducesAndConsumesOverTls() throws Exception {
        try (Admin operator = Admin.create(server.saslSsl(PackagedBroker.OPERATOR,
                PackagedBroker.OPERATOR_PASSWORD))) {
            operator.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("nurse",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "nurse-secret")))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> nurse = server.saslSsl("nurse", "nurse-secret");
        try (Admin admin = Admin.create(nurse)) {
            admin.createTopics(List.of(new NewTopic("vitals", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> producerConfig = new HashMap<>(nurse);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>("vitals", "bed-" + i, "pulse-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Map<String, Object> consumerConfig = new HashMap<>(nurse);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "ward");
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("vitals"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (read.size() < 20 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    read.add(record.value());
                }
            }
        }
        assertEquals(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "pulse-" + i).toList(), read);
    }

    @Test
    void aWrongPasswordIsRefused() {
        try (Admin admin = Admin.create(server.saslSsl(PackagedBroker.OPERATOR, "not-the-password"))) {
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, failure.getCause());
        }
    }
}
