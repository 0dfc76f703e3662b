package dev.bulwark.gateway.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BulwarkCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return BulwarkCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void helpNamesEverySubcommandAndTheirOptions() {
        assertEquals(0, run("--help"));
        for (String command : new String[] {"serve", "audit", "keys", "tenant", "user", "inspect"}) {
            assertTrue(out.toString().contains(command), out.toString());
        }
        assertEquals(0, run("user", "--help"));
        assertTrue(out.toString().contains("set-password"), out.toString());
        assertEquals(0, run("keys", "rotate-master", "--help"));
        assertTrue(out.toString().contains("--new-master-key-file"), out.toString());
        assertTrue(out.toString().contains("BULWARK_MASTER_KEY_FILE"), out.toString());
    }

    @Test
    void aMistakeIsAUsageError() {
        assertEquals(2, run("frobnicate"));
        assertEquals(2, run("keys"));
        assertTrue(err.toString().contains("Usage:"), err.toString());
    }
}
