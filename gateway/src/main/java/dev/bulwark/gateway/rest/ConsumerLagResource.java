package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.Security;
import dev.bulwark.gateway.group.ConsumerLag;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.SecurityContext;

import java.util.List;

/**
 * {@code GET /api/v1/tenants/{tenant}/groups/{group}/lag}: a consumer group's lag per partition, computed on the
 * server, for an operator (any tenant) or a tenant-admin or member of the group's tenant ({@link TenantAccess}).
 */
@Path("/api/v1/tenants/{tenant}/groups")
public class ConsumerLagResource {

    @Inject
    BulwarkLifecycle lifecycle;

    /** The lag of a group and its total. */
    public record GroupLag(String group, long totalLag, List<ConsumerLag.PartitionLag> partitions) {
    }

    @GET
    @Path("/{group}/lag")
    @Produces(MediaType.APPLICATION_JSON)
    public GroupLag lag(@PathParam("tenant") String tenantName, @PathParam("group") String group,
                        @Context SecurityContext auth) {
        Security security = lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting"));
        Tenant tenant = new TenantAccess(security.tenants()).toReadGroups(Caller.of(auth), tenantName);
        ConsumerLag lag = lifecycle.consumerLag().orElseThrow(() -> new ServiceUnavailableException("starting"));
        List<ConsumerLag.PartitionLag> partitions = lag.of(tenant.id(), group)
                .orElseThrow(() -> new NotFoundException("no consumer group " + group));
        return new GroupLag(group, partitions.stream().mapToLong(ConsumerLag.PartitionLag::lag).sum(), partitions);
    }
}
