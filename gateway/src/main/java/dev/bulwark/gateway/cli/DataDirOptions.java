package dev.bulwark.gateway.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the offline subcommands find a stopped server's data directory and its master key: the server's own settings,
 * as options, each falling back on the environment variable the server reads. The options are inherited, so they may
 * come before or after a subcommand ({@code bulwark keys --data-dir D rotate-tenant T}, {@code ... rotate-tenant
 * --data-dir D T}).
 */
public final class DataDirOptions {

    /** The server's {@code bulwark.master-key}: read from the environment only, a key never goes on a command line. */
    static final String MASTER_KEY_ENV = "BULWARK_MASTER_KEY";

    @Option(names = "--data-dir", scope = ScopeType.INHERIT, paramLabel = "DIR", defaultValue = "${env:BULWARK_DATA_DIR:-./data}",
            description = "the server's data directory (env BULWARK_DATA_DIR; default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--master-key-file", scope = ScopeType.INHERIT, paramLabel = "FILE", defaultValue = "${env:BULWARK_MASTER_KEY_FILE}",
            description = "the file of the master key the keyring is under (env BULWARK_MASTER_KEY_FILE; or the"
                    + " base64 key in env BULWARK_MASTER_KEY; with neither, the dev key in <data-dir>/keys)")
    Path masterKeyFile;

    @Option(names = "--fips", scope = ScopeType.INHERIT, defaultValue = "${env:BULWARK_CRYPTO_FIPS:-false}",
            description = "Bouncy Castle's FIPS module, as bulwark.crypto.fips=true (env BULWARK_CRYPTO_FIPS; the FIPS"
                    + " build only)")
    boolean fips;

    Optional<Path> masterKeyFile() {
        return Optional.ofNullable(masterKeyFile);
    }

    Optional<String> masterKey() {
        return Optional.ofNullable(System.getenv(MASTER_KEY_ENV)).filter(key -> !key.isBlank());
    }
}
