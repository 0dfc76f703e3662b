package dev.bulwark.gateway.telemetry;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;

/** How metrics and spans name a tenant: by its name, as its users know it; by its id while it has none (gone). */
final class TenantLabel {

    private TenantLabel() {
    }

    static String of(TenantStore tenants, String tenantId) {
        return tenants.byId(tenantId).map(Tenant::name).orElse(tenantId);
    }
}
