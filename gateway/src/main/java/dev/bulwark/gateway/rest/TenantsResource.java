package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.jboss.resteasy.reactive.RestResponse;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * {@code /api/v1/tenants}: operators create tenants and suspend or reactivate them; every principal reads its own
 * tenant, operators read them all ({@link TenantAccess}).
 */
@Path("/api/v1/tenants")
@Produces(MediaType.APPLICATION_JSON)
public class TenantsResource {

    @Inject
    BulwarkLifecycle lifecycle;

    /** The body of {@code POST /api/v1/tenants}. */
    public record NewTenant(String name) {
    }

    /** The body of {@code PUT /api/v1/tenants/{name}/state}: {@code active} or {@code suspended}. */
    public record StateChange(String state) {
    }

    /** A tenant as the API shows it: {@code state} {@code active} or {@code suspended}, {@code createdAt} ISO-8601. */
    public record TenantView(String id, String name, String state, String createdAt) {
        static TenantView of(Tenant tenant) {
            return new TenantView(tenant.id(), tenant.name(), tenant.state().name().toLowerCase(Locale.ROOT),
                    Instant.ofEpochMilli(tenant.createdMs()).toString());
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public RestResponse<TenantView> create(NewTenant body, @Context SecurityContext auth, @Context UriInfo uri)
            throws IOException {
        TenantStore tenants = tenants();
        new TenantAccess(tenants).requireOperator(Caller.of(auth), "create tenants");
        if (body == null || body.name() == null) {
            throw new BadRequestException("the body must be {\"name\": \"...\"}");
        }
        Tenant tenant;
        try {
            tenant = tenants.create(body.name());
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(e.getMessage());
        } catch (DuplicateResourceException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        }
        return RestResponse.ResponseBuilder
                .<TenantView>created(uri.getAbsolutePathBuilder().path(tenant.name()).build())
                .entity(TenantView.of(tenant)).build();
    }

    /** Every tenant for an operator; the caller's own tenant for anyone else. */
    @GET
    public List<TenantView> list(@Context SecurityContext auth) {
        Caller caller = Caller.of(auth);
        return tenants().list().stream()
                .filter(tenant -> caller.isOperator() || tenant.id().equals(caller.tenantId()))
                .map(TenantView::of).toList();
    }

    @GET
    @Path("/{name}")
    public TenantView get(@PathParam("name") String name, @Context SecurityContext auth) {
        return TenantView.of(new TenantAccess(tenants()).toRead(Caller.of(auth), name));
    }

    /**
     * Suspends a tenant, whose principals can then no longer authenticate (connections already authenticated are
     * not closed), or makes it active again.
     */
    @PUT
    @Path("/{name}/state")
    @Consumes(MediaType.APPLICATION_JSON)
    public TenantView setState(@PathParam("name") String name, StateChange body, @Context SecurityContext auth)
            throws IOException {
        TenantStore tenants = tenants();
        TenantAccess access = new TenantAccess(tenants);
        Caller caller = Caller.of(auth);
        access.requireOperator(caller, "change a tenant's state");
        Tenant tenant = access.toRead(caller, name);
        Tenant.State state = state(body);
        try {
            return TenantView.of(tenants.setState(tenant.id(), state));
        } catch (IllegalArgumentException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        }
    }

    private static Tenant.State state(StateChange body) {
        String state = body == null ? null : body.state();
        if ("active".equals(state)) {
            return Tenant.State.ACTIVE;
        }
        if ("suspended".equals(state)) {
            return Tenant.State.SUSPENDED;
        }
        throw new BadRequestException("the body must be {\"state\": \"active\"} or {\"state\": \"suspended\"}");
    }

    private TenantStore tenants() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting")).tenants();
    }
}
