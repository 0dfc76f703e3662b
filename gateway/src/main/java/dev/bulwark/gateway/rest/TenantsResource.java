package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.TenantErasure;
import dev.bulwark.gateway.TenantUsage;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.InternalServerErrorException;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * {@code /api/v1/tenants}: operators create tenants, suspend or reactivate them, set their limits and their no-ACL
 * rule, and delete them; every principal reads its own tenant, operators read them all ({@link TenantAccess}).
 */
@Path("/api/v1/tenants")
@Produces(MediaType.APPLICATION_JSON)
public class TenantsResource {

    private static final Logger LOG = LoggerFactory.getLogger(TenantsResource.class);

    private static final String LIMITS_SHAPE = "limits must be {\"maxTopics\", \"maxPartitions\", "
            + "\"maxStoredBytes\", \"maxConnections\"}, each a number of 0 or more, or null for no limit";

    @Inject
    BulwarkLifecycle lifecycle;

    @Inject
    StrictBodies strict;

    /**
     * The body of {@code POST /api/v1/tenants}: the name, and optionally the limits (none when absent) and the no-ACL
     * rule (false when absent: what no ACL allows is denied).
     */
    public record NewTenant(String name, JsonNode limits, Boolean allowEveryoneIfNoAcl) {
    }

    /**
     * A tenant's limits, as {@code PUT /api/v1/tenants/{name}/limits} takes them and the tenant's description shows
     * them: each a number of 0 or more, or null (or absent) for no limit. Read {@link StrictBodies strictly}, so that a
     * misspelt limit is refused rather than taken for no limit. Registered for reflection: read from a JsonNode, where
     * the native image cannot trace it.
     */
    @RegisterForReflection
    public record Limits(Integer maxTopics, Integer maxPartitions, Long maxStoredBytes, Integer maxConnections) {
        static Limits of(TenantLimits limits) {
            return new Limits(boxed(limits.maxTopics()), boxed(limits.maxPartitions()),
                    limits.maxStoredBytes().isPresent() ? limits.maxStoredBytes().getAsLong() : null,
                    boxed(limits.maxConnections()));
        }

        TenantLimits toTenantLimits() {
            try {
                return TenantLimits.of(maxTopics, maxPartitions, maxStoredBytes, maxConnections);
            } catch (IllegalArgumentException e) {
                throw new BadRequestException(e.getMessage());
            }
        }

        private static Integer boxed(OptionalInt limit) {
            return limit.isPresent() ? limit.getAsInt() : null;
        }
    }

    /**
     * The body of {@code PUT /api/v1/tenants/{name}/acl-default}, read {@link StrictBodies strictly}; registered for
     * reflection, since it is read from a JsonNode, where the native image cannot trace it.
     */
    @RegisterForReflection
    public record AclDefault(Boolean allowEveryoneIfNoAcl) {
    }

    /** The body of {@code PUT /api/v1/tenants/{name}/state}: {@code active} or {@code suspended}. */
    public record StateChange(String state) {
    }

    /**
     * A tenant as the API shows it: {@code state} {@code active} or {@code suspended}, {@code createdAt} ISO-8601, its
     * limits, its no-ACL rule, and what it holds now against the limits.
     */
    public record TenantView(String id, String name, String state, String createdAt, Limits limits,
                             boolean allowEveryoneIfNoAcl, TenantUsage.Usage usage) {
        static TenantView of(Tenant tenant, TenantUsage usage) {
            return new TenantView(tenant.id(), tenant.name(), tenant.state().name().toLowerCase(Locale.ROOT),
                    Instant.ofEpochMilli(tenant.createdMs()).toString(), Limits.of(tenant.limits()),
                    tenant.allowEveryoneIfNoAcl(), usage.of(tenant.id()));
        }
    }

    @Audited(action = "tenant.create", resource = "tenant:{location}")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public RestResponse<TenantView> create(NewTenant body, @Context SecurityContext auth, @Context UriInfo uri)
            throws IOException {
        TenantStore tenants = tenants();
        new TenantAccess(tenants).requireOperator(Caller.of(auth), "create tenants");
        String shape = "the body must be {\"name\": \"...\"}, optionally with \"limits\" and \"allowEveryoneIfNoAcl\"";
        if (body == null || body.name() == null) {
            throw new BadRequestException(shape);
        }
        TenantLimits limits = body.limits() == null || body.limits().isNull() ? TenantLimits.UNLIMITED
                : strict.read(body.limits(), Limits.class, LIMITS_SHAPE).toTenantLimits();
        boolean allowEveryoneIfNoAcl = Boolean.TRUE.equals(body.allowEveryoneIfNoAcl());
        Tenant tenant;
        try {
            tenant = tenants.create(body.name(), limits, allowEveryoneIfNoAcl);
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(e.getMessage());
        } catch (DuplicateResourceException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        }
        return RestResponse.ResponseBuilder
                .<TenantView>created(uri.getAbsolutePathBuilder().path(tenant.name()).build())
                .entity(TenantView.of(tenant, usage())).build();
    }

    /** Every tenant for an operator; the caller's own tenant for anyone else. */
    @GET
    public List<TenantView> list(@Context SecurityContext auth) {
        Caller caller = Caller.of(auth);
        TenantUsage usage = usage();
        return tenants().list().stream()
                .filter(tenant -> caller.isOperator() || tenant.id().equals(caller.tenantId()))
                .map(tenant -> TenantView.of(tenant, usage)).toList();
    }

    @GET
    @Path("/{name}")
    public TenantView get(@PathParam("name") String name, @Context SecurityContext auth) {
        return TenantView.of(new TenantAccess(tenants()).toRead(Caller.of(auth), name), usage());
    }

    /**
     * Suspends a tenant, whose principals can then no longer authenticate (connections already authenticated are
     * not closed), or makes it active again.
     */
    @Audited(action = "tenant.state", resource = "tenant:{name}")
    @PUT
    @Path("/{name}/state")
    @Consumes(MediaType.APPLICATION_JSON)
    public TenantView setState(@PathParam("name") String name, StateChange body, @Context SecurityContext auth)
            throws IOException {
        TenantStore tenants = tenants();
        Tenant tenant = operatorTarget(tenants, auth, "change a tenant's state", name);
        Tenant.State state = state(body);
        try {
            return TenantView.of(tenants.setState(tenant.id(), state), usage());
        } catch (IllegalArgumentException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        }
    }

    /**
     * Replaces a tenant's limits; a limit left out or null is no limit. A tenant already past a lowered limit keeps
     * what it has; only what would add to it is refused.
     */
    @Audited(action = "tenant.limits", resource = "tenant:{name}")
    @PUT
    @Path("/{name}/limits")
    @Consumes(MediaType.APPLICATION_JSON)
    public TenantView setLimits(@PathParam("name") String name, JsonNode body, @Context SecurityContext auth)
            throws IOException {
        TenantStore tenants = tenants();
        Tenant tenant = operatorTarget(tenants, auth, "change a tenant's limits", name);
        Limits limits = strict.read(body, Limits.class, LIMITS_SHAPE);
        return TenantView.of(tenants.setLimits(tenant.id(), limits.toTenantLimits()), usage());
    }

    /**
     * Sets the tenant's no-ACL rule: whether a resource that no ACL names is open to all its principals (Kafka's
     * {@code allow.everyone.if.no.acl.found}, per tenant).
     */
    @Audited(action = "tenant.acl-default", resource = "tenant:{name}")
    @PUT
    @Path("/{name}/acl-default")
    @Consumes(MediaType.APPLICATION_JSON)
    public TenantView setAclDefault(@PathParam("name") String name, JsonNode body, @Context SecurityContext auth)
            throws IOException {
        TenantStore tenants = tenants();
        Tenant tenant = operatorTarget(tenants, auth, "change a tenant's no-ACL rule", name);
        String shape = "the body must be {\"allowEveryoneIfNoAcl\": true} or {\"allowEveryoneIfNoAcl\": false}";
        AclDefault rule = strict.read(body, AclDefault.class, shape);
        if (rule.allowEveryoneIfNoAcl() == null) {
            throw new BadRequestException(shape);
        }
        return TenantView.of(tenants.setAllowEveryoneIfNoAcl(tenant.id(), rule.allowEveryoneIfNoAcl()), usage());
    }

    /**
     * Deletes a tenant, keys first ({@link TenantErasure}): its key-encryption keys are destroyed, so nothing it
     * stored opens again, even from a copy, and only then its topics, groups, transactional ids, users, ACLs and
     * quotas go, and the tenant. Both steps are recorded in {@code <data-dir>/erasures}. A deletion that failed midway
     * leaves the tenant {@code deleting}; deleting it again finishes the job. The default tenant is never deleted.
     */
    @Audited(action = "tenant.delete", resource = "tenant:{name}")
    @DELETE
    @Path("/{name}")
    public TenantErasure.Erasure delete(@PathParam("name") String name, @Context SecurityContext auth) {
        TenantStore tenants = tenants();
        Tenant tenant = operatorTarget(tenants, auth, "delete tenants", name);
        if (tenant.isDefault()) {
            throw new ClientErrorException("the default tenant is never deleted", Response.Status.CONFLICT);
        }
        TenantErasure erasure = lifecycle.erasure().orElseThrow(() -> new ServiceUnavailableException("starting"));
        try {
            return erasure.erase(tenant, Caller.of(auth).getName());
        } catch (IOException e) {
            LOG.error("Deleting tenant {} ({}) stopped", tenant.name(), tenant.id(), e);
            throw new InternalServerErrorException("deleting tenant " + name + " stopped: " + e.getMessage()
                    + "; it stays deleting: delete it again to finish");
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

    private TenantUsage usage() {
        return lifecycle.tenantUsage().orElseThrow(() -> new ServiceUnavailableException("starting"));
    }

    /** The tenant an operator-only change names; 403 for anyone else, 404 for an operator naming no tenant. */
    private static Tenant operatorTarget(TenantStore tenants, SecurityContext auth, String act, String name) {
        TenantAccess access = new TenantAccess(tenants);
        Caller caller = Caller.of(auth);
        access.requireOperator(caller, act);
        return access.toRead(caller, name);
    }

    private TenantStore tenants() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting")).tenants();
    }
}
