package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.storage.crypto.KeyOwner;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.SecurityContext;

import java.io.IOException;

/**
 * {@code /api/v1/tenants/{tenant}/keys}: a tenant's key-encryption key versions and their rotation, operators only
 * (the views and the rest of key management are {@link KeysResource}'s).
 */
@Path("/api/v1/tenants/{tenant}/keys")
@Produces(MediaType.APPLICATION_JSON)
public class TenantKeysResource {

    @Inject
    BulwarkLifecycle lifecycle;

    @GET
    public KeysResource.KeysView get(@PathParam("tenant") String tenant, @Context SecurityContext auth) {
        return KeysResource.KeysView.of(owner(auth, tenant, "read a tenant's keys"),
                KeysResource.management(lifecycle));
    }

    /** Rotates the tenant's key: a new version, every segment rewrapped under it, the older versions destroyed. */
    @Audited(action = "key.rotate", resource = "tenant:{tenant}")
    @POST
    @Path("/rotate")
    public KeysResource.RotationView rotate(@PathParam("tenant") String tenant, @Context SecurityContext auth)
            throws IOException {
        return KeysResource.rotate(KeysResource.management(lifecycle), owner(auth, tenant, "rotate a tenant's key"));
    }

    private KeyOwner owner(SecurityContext auth, String name, String act) {
        TenantAccess access = new TenantAccess(lifecycle.security()
                .orElseThrow(() -> new ServiceUnavailableException("starting")).tenants());
        Caller caller = Caller.of(auth);
        access.requireOperator(caller, act);
        Tenant tenant = access.toRead(caller, name);
        return KeyOwner.tenant(tenant.id());
    }
}
