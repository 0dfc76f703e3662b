package dev.bulwark.gateway.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditCommandTest {

    @TempDir
    Path path;

    @TempDir
    Path auditorsCopy;

    @Test
    void verifiesTheJournalWithThePublicKeysAloneAndNamesTheFirstBadEntry() throws Exception {
        StoppedDataDir dataDir = new StoppedDataDir(path);
        for (String tenant : new String[] {"acme", "globex", "initech"}) {
            assertEquals(0, dataDir.run("tenant", "create", tenant), dataDir.err());
        }
        Path journal = path.resolve("audit");
        Path keys = auditorsCopy.resolve("trusted.jwks");
        Files.copy(journal.resolve("signing-keys.jwks"), keys);

        assertEquals(0, dataDir.runAsGiven("audit", "verify", "--journal", journal.toString(), "--public-keys",
                keys.toString()), dataDir.err());
        assertTrue(dataDir.out().startsWith("intact: 3 entries"), dataDir.out());
        assertEquals(0, dataDir.runAsGiven("audit", "verify", "--journal", journal.toString(), "--public-keys",
                keys.toString(), "--from", "2", "--to", "3"), dataDir.err());
        assertTrue(dataDir.out().startsWith("intact: 2 entries"), dataDir.out());

        Path file;
        try (Stream<Path> files = Files.list(journal)) {
            file = files.filter(f -> f.toString().endsWith(".journal")).max(Path::compareTo).orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long at = raf.length() - 10;
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(~b);
        }
        assertEquals(1, dataDir.runAsGiven("audit", "verify", "--journal", journal.toString(), "--public-keys",
                keys.toString()));
        assertTrue(dataDir.out().startsWith("first bad entry 3 "), dataDir.out());

        assertEquals(2, dataDir.runAsGiven("audit", "verify", "--journal", journal.toString()), "--public-keys is required");
        assertEquals(2, dataDir.runAsGiven("audit", "verify", "--journal", journal.toString(), "--public-keys",
                keys.toString(), "--from", "3", "--to", "2"));
    }
}
