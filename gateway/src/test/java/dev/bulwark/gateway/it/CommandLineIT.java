package dev.bulwark.gateway.it;

import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import dev.bulwark.gateway.testing.TestLogs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged application's offline subcommands, run as the README says: {@code java -jar quarkus-run.jar ...}. */
class CommandLineIT {

    @TempDir
    Path dir;

    private static ExternalCommand.Result bulwark(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", System.getProperty("bulwark.jar")));
        command.addAll(List.of(args));
        return ExternalCommand.run(Duration.ofSeconds(120), null, command);
    }

    @Test
    void helpUsageErrorsAndTenantsOfADataDirectoryOnTheDevKeyWithoutBootingTheServer() throws Exception {
        ExternalCommand.Result help = bulwark("--help").requireSuccess();
        assertTrue(help.stdout().contains("tenant") && help.stdout().contains("inspect"), help.stdout());
        assertEquals(2, bulwark("frobnicate").exitCode());

        Path data = dir.resolve("data");
        AesGcm gcm = new AesGcm();
        // A data directory as a first start leaves it: a keyring under the dev key, an empty log store.
        Keyring keyring = Keyring.open(data, MasterKeySource.devKey(data, gcm).kms(), gcm);
        LogManager.open(data.resolve("log"), TestLogs.settings(), new AtRestKeys(keyring, gcm), Map.of(),
                Clock.systemUTC(), log -> { }).close();

        bulwark("tenant", "create", "acme", "--data-dir", data.toString()).requireSuccess();
        ExternalCommand.Result list = bulwark("tenant", "list", "--data-dir", data.toString()).requireSuccess();
        assertTrue(list.stdout().contains("\tacme\tACTIVE"), list.stdout());
        assertTrue(!list.stdout().contains("Quarkus") && !list.stderr().contains("Listening"), list.stderr());

        ExternalCommand.Result none = bulwark("tenant", "list", "--data-dir", dir.resolve("nothing").toString());
        assertEquals(1, none.exitCode());
        assertTrue(none.stderr().contains("not a Bulwark data directory"), none.stderr());
    }
}
