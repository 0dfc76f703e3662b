package dev.bulwark.gateway.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kcat (librdkafka 2.0, Debian package) against the real server. */
@Timeout(180)
class KcatIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"), Map.of("BULWARK_KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true",
                "BULWARK_KAFKA_NUM_PARTITIONS", "2"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void metadataProduceAndConsume() throws Exception {
        String bootstrap = server.bootstrap();
        ExternalCommand.kcat(TIMEOUT, "k1:v1\nk2:v2\nk3:v3\nk4:v4\n", "-b", bootstrap, "-t", "kcat-topic", "-P",
                "-K:", "-z", "lz4").requireSuccess();

        String metadata = ExternalCommand.kcat(TIMEOUT, null, "-b", bootstrap, "-L").requireSuccess().stdout();
        assertTrue(metadata.contains("broker 1 at " + bootstrap), metadata);
        assertTrue(metadata.contains("topic \"kcat-topic\" with 2 partitions"), metadata);

        List<String> consumed = ExternalCommand.kcat(TIMEOUT, null, "-b", bootstrap, "-t", "kcat-topic", "-C", "-e",
                "-f", "%k=%s\n").requireSuccess().lines();
        assertEquals(4, consumed.size(), consumed.toString());
        assertTrue(consumed.containsAll(List.of("k1=v1", "k2=v2", "k3=v3", "k4=v4")), consumed.toString());

        List<String> fromOffset = ExternalCommand.kcat(TIMEOUT, null, "-b", bootstrap, "-t", "kcat-topic", "-C", "-e",
                "-p", "0", "-o", "beginning", "-f", "%o\n").requireSuccess().lines();
        for (int i = 0; i < fromOffset.size(); i++) {
            assertEquals(Integer.toString(i), fromOffset.get(i));
        }
    }
}
