package dev.bulwark.gateway.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** kafka-python 2.0.2 (Debian's python3-kafka, under /usr/bin/python3) against the real server. */
@Timeout(180)
class PythonClientIT {

    @TempDir
    static Path dir;
    static BulwarkProcess server;

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.start(dir.resolve("data"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void jsonEventsRoundTripByAssignAndSeek() throws Exception {
        Path script = Path.of(System.getProperty("bulwark.test.resources", "src/test/resources"), "python",
                "json_round_trip.py");
        ExternalCommand.Result result = ExternalCommand.python(Duration.ofSeconds(120), null, script,
                server.bootstrap(), "vitals", "500").requireSuccess();
        assertEquals("OK 500", result.lines().get(result.lines().size() - 1));
    }
}
