package dev.bulwark.gateway.cli;

import dev.bulwark.auth.Tenant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.Map;

/**
 * Tenants of a stopped server, in its sealed tenant store, with the store's own validation. There is no offline
 * delete: deleting a tenant (TenantErasure) also ends its groups and transactions through the server's coordinators,
 * which run only in the server; DELETE /api/v1/tenants/NAME does it.
 */
@Command(name = "tenant", description = "list or create tenants (server stopped; the master key opens the store)")
final class TenantCommand extends CommandGroup {

    @Mixin
    DataDirOptions dataDir;

    @Command(name = "list", description = "every tenant: id, name, state")
    int list() throws Exception {
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            for (Tenant tenant : dir.tenants.list()) {
                out().println(tenant.id() + "\t" + tenant.name() + "\t" + tenant.state());
            }
            return 0;
        }
    }

    @Command(name = "create", description = "create a tenant (as POST /api/v1/tenants)")
    int create(@Parameters(paramLabel = "NAME") String name) throws Exception {
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Tenant tenant = dir.recorded("tenant.create", "tenant:" + name, () -> dir.tenants.create(name),
                    created -> Map.of("id", created.id(), "name", created.name(), "state", created.state().name()));
            out().println(tenant.id() + "\t" + tenant.name() + "\t" + tenant.state());
            return 0;
        }
    }
}
