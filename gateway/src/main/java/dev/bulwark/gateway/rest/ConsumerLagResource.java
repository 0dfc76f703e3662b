package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.group.ConsumerLag;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/** {@code GET /api/v1/groups/{group}/lag}: a consumer group's lag per partition, computed on the server. */
@Path("/api/v1/groups")
public class ConsumerLagResource {

    @Inject
    BulwarkLifecycle lifecycle;

    /** The lag of a group and its total. */
    public record GroupLag(String group, long totalLag, List<ConsumerLag.PartitionLag> partitions) {
    }

    @GET
    @Path("/{group}/lag")
    @Produces(MediaType.APPLICATION_JSON)
    public GroupLag lag(@PathParam("group") String group) {
        ConsumerLag lag = lifecycle.consumerLag().orElseThrow(() -> new ServiceUnavailableException("starting"));
        List<ConsumerLag.PartitionLag> partitions = lag.of(Tenant.DEFAULT_ID, group)
                .orElseThrow(() -> new NotFoundException("no consumer group " + group));
        return new GroupLag(group, partitions.stream().mapToLong(ConsumerLag.PartitionLag::lag).sum(), partitions);
    }
}
