package dev.bulwark.gateway.cli;

import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.ScramFunctions;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import dev.bulwark.gateway.rest.RoleNames;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * SCRAM users of one tenant of a stopped server, in its sealed user store, with the store's own validation. Passwords
 * come from a file or the first line of standard input, never from an argument (a process list shows arguments).
 */
@Command(name = "user", description = "list, add, remove users of a tenant or set a password (server stopped)")
final class UserCommand extends CommandGroup {

    /** Salt of the credentials set-password derives: 32 bytes, above what FIPS mode asks for (16). */
    private static final int SALT_BYTES = 32;

    @Mixin
    DataDirOptions dataDir;

    @Option(names = "--tenant", required = true, paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "the tenant's name")
    String tenantName;

    @Option(names = "--scram-iterations", defaultValue = "${env:BULWARK_SASL_SCRAM_ITERATIONS:-4096}",
            scope = ScopeType.INHERIT, description = "iterations of new credentials, as "
            + "bulwark.sasl.scram-iterations (env BULWARK_SASL_SCRAM_ITERATIONS; default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--password-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "read the password from this file (its first line); else from standard input")
    Path passwordFile;

    @Command(name = "list", description = "the tenant's users: name, role, mechanisms")
    int list() throws Exception {
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Tenant tenant = tenant(dir);
            for (User user : dir.users(iterations).list(tenant.id())) {
                out().println(user.name() + "\t" + RoleNames.of(user.role()) + "\t" + user.scramIterations().keySet()
                        .stream().map(ScramMechanism::mechanismName).sorted().collect(Collectors.joining(",")));
            }
            return 0;
        }
    }

    @Command(name = "add", description = "add a user with SCRAM-SHA-256/512 credentials (as POST .../users)")
    int add(@Parameters(paramLabel = "NAME") String name,
            @Option(names = "--role", defaultValue = "member",
                    description = "member, tenant-admin or auditor (default ${DEFAULT-VALUE})") String roleName)
            throws Exception {
        Role role = RoleNames.parse(roleName).filter(r -> r != Role.OPERATOR)
                .orElseThrow(() -> usage("--role must be member, tenant-admin or auditor"));
        String password = password();
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Tenant tenant = tenant(dir);
            UserStore users = dir.users(iterations);
            dir.recorded("user.create", "user:" + tenant.name() + "/" + name,
                    () -> users.create(tenant.id(), name, role, password),
                    user -> Map.of("name", user.name(), "role", RoleNames.of(user.role())));
            out().println("added " + name + " to tenant " + tenant.name() + " as " + roleName);
            return 0;
        }
    }

    @Command(name = "remove", description = "remove a user and its credentials (as DELETE .../users/NAME)")
    int remove(@Parameters(paramLabel = "NAME") String name) throws Exception {
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Tenant tenant = tenant(dir);
            UserStore users = dir.users(iterations);
            dir.recorded("user.delete", "user:" + tenant.name() + "/" + name, () -> {
                users.delete(tenant.id(), name);
                return name;
            }, removed -> Map.of());
            out().println("removed " + name + " from tenant " + tenant.name());
            return 0;
        }
    }

    /** New credentials for both SCRAM mechanisms, as AlterUserScramCredentials upserts them. */
    @Command(name = "set-password", description = "replace a user's SCRAM-SHA-256/512 credentials")
    int setPassword(@Parameters(paramLabel = "NAME") String name) throws Exception {
        String password = password();
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Tenant tenant = tenant(dir);
            UserStore users = dir.users(iterations);
            if (users.get(tenant.id(), name).isEmpty()) {
                throw new IOException("no user " + name + " in tenant " + tenant.name());
            }
            SecureRandom random = new SecureRandom();
            dir.recorded("user.set-password", "user:" + tenant.name() + "/" + name, () -> {
                User user = null;
                for (ScramMechanism mechanism : ScramMechanism.values()) {
                    ScramFunctions scram = users.scram(mechanism);
                    byte[] salt = new byte[SALT_BYTES];
                    random.nextBytes(salt);
                    user = users.upsertScramCredential(tenant.id(), name, mechanism, salt,
                            scram.saltedPassword(password, salt, users.iterations()), users.iterations());
                }
                return user;
            }, user -> Map.of("name", name));
            out().println("set the password of " + name + " in tenant " + tenant.name());
            return 0;
        }
    }

    private Tenant tenant(OfflineDataDir dir) throws IOException {
        return dir.tenants.byName(tenantName).orElseThrow(() -> new IOException("no tenant " + tenantName));
    }

    private String password() throws IOException {
        String line;
        if (passwordFile != null) {
            try (BufferedReader reader = Files.newBufferedReader(passwordFile, StandardCharsets.UTF_8)) {
                line = reader.readLine();
            }
        } else {
            line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        if (line == null || line.isEmpty()) {
            throw usage("no password: give --password-file FILE or the password on standard input");
        }
        return line;
    }
}
