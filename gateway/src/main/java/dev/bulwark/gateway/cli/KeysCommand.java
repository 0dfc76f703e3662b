package dev.bulwark.gateway.cli;

import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.storage.crypto.KeyOwner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Map;

/**
 * Key rotation with no server running: what the REST API does ({@link AtRestKeyManagement}), recorded in the audit
 * trail. The command holds the data directory's lock, so it refuses to run while a server uses the directory.
 */
@Command(name = "keys", description = "rotate keys of encryption at rest (server stopped)")
final class KeysCommand extends CommandGroup {

    @Mixin
    DataDirOptions dataDir;

    @Command(name = "rotate-tenant", description = "rotate a tenant's key (its id, as GET /api/v1/tenants shows)")
    int rotateTenant(@Parameters(paramLabel = "TENANT_ID") String tenantId) throws Exception {
        KeyOwner owner;
        try {
            owner = KeyOwner.tenant(tenantId);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            AtRestKeyManagement management = new AtRestKeyManagement(dir.keys, dir.logs);
            String done = dir.recorded("key.rotate", "tenant-id:" + tenantId,
                    () -> describe(management.rotate(owner)), result -> Map.of("result", result));
            out().println(done);
            return 0;
        }
    }

    @Command(name = "rotate-master", description = "rewrap every key under the master key in --new-master-key-file;"
            + " then start the server with that key")
    int rotateMaster(@Option(names = "--new-master-key-file", required = true, paramLabel = "FILE",
            description = "a 256-bit key, raw or base64") Path newMasterKeyFile) throws Exception {
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            AtRestKeyManagement management = new AtRestKeyManagement(dir.keys, dir.logs);
            String previous = dir.keys.keyring().masterKeyId();
            String done = dir.recorded("key.rotate-master", "master-key:current",
                    () -> "master key rotated from " + previous + " to " + management.rotateMaster(newMasterKeyFile)
                            + ": start the server with the master key in " + newMasterKeyFile,
                    result -> Map.of("result", result));
            out().println(done);
            return 0;
        }
    }

    private static String describe(AtRestKeyManagement.Rotation rotation) {
        return "key of " + rotation.owner() + " rotated to version " + rotation.version() + ": "
                + rotation.rewrapped() + " segment header(s) rewrapped, destroyed "
                + (rotation.destroyed().isEmpty() ? "none" : String.join(", ", rotation.destroyed()));
    }
}
