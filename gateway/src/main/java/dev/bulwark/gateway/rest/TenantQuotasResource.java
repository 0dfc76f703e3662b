package dev.bulwark.gateway.rest;

import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaLimits;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.SecurityContext;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * {@code /api/v1/tenants/{tenant}/quotas}: the tenant-wide quotas, each a cap on the sum over all of the tenant's
 * connections (user and client-id quotas inside the tenant are set with Kafka's AlterClientQuotas). Operators set
 * them; anyone who may read the tenant reads them ({@link TenantAccess}).
 */
@Path("/api/v1/tenants/{tenant}/quotas")
@Produces(MediaType.APPLICATION_JSON)
public class TenantQuotasResource {

    @Inject
    BulwarkLifecycle lifecycle;

    /**
     * The tenant-wide quotas; null is unlimited. Byte rates in bytes per second, request percentage in percent of
     * one request thread, connection creation rate in connections per second.
     */
    public record TenantQuotas(Double producerByteRate, Double consumerByteRate, Double requestPercentage,
                               Double connectionCreationRate) {

        static TenantQuotas of(QuotaLimits limits) {
            return new TenantQuotas(value(limits, QuotaKind.PRODUCER_BYTE_RATE),
                    value(limits, QuotaKind.CONSUMER_BYTE_RATE), value(limits, QuotaKind.REQUEST_PERCENTAGE),
                    value(limits, QuotaKind.CONNECTION_CREATION_RATE));
        }

        private static Double value(QuotaLimits limits, QuotaKind kind) {
            return limits.get(kind).isPresent() ? limits.get(kind).getAsDouble() : null;
        }

        QuotaLimits limits() {
            Map<QuotaKind, Double> values = new EnumMap<>(QuotaKind.class);
            put(values, QuotaKind.PRODUCER_BYTE_RATE, producerByteRate);
            put(values, QuotaKind.CONSUMER_BYTE_RATE, consumerByteRate);
            put(values, QuotaKind.REQUEST_PERCENTAGE, requestPercentage);
            put(values, QuotaKind.CONNECTION_CREATION_RATE, connectionCreationRate);
            return QuotaLimits.of(values);
        }

        private static void put(Map<QuotaKind, Double> values, QuotaKind kind, Double value) {
            if (value != null) {
                values.put(kind, value);
            }
        }
    }

    @GET
    public TenantQuotas get(@PathParam("tenant") String tenantName, @Context SecurityContext auth) {
        Tenant tenant = new TenantAccess(tenants()).toRead(Caller.of(auth), tenantName);
        return TenantQuotas.of(quotas().snapshot().limits(new QuotaEntity.Tenant(tenant.id())));
    }

    /** Replaces all of the tenant's tenant-wide quotas: a quota left out or null is removed. */
    @Audited(action = "quota.alter", resource = "tenant:{tenant}")
    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    public TenantQuotas put(@PathParam("tenant") String tenantName, TenantQuotas body, @Context SecurityContext auth)
            throws IOException {
        TenantAccess access = new TenantAccess(tenants());
        Caller caller = Caller.of(auth);
        access.requireOperator(caller, "set tenant quotas");
        Tenant tenant = access.toRead(caller, tenantName);
        if (body == null) {
            throw new BadRequestException("the body must be {\"producerByteRate\": ..., \"consumerByteRate\": ..., "
                    + "\"requestPercentage\": ..., \"connectionCreationRate\": ...}");
        }
        QuotaLimits limits;
        try {
            limits = body.limits();
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(e.getMessage());
        }
        QuotaEntity entity = new QuotaEntity.Tenant(tenant.id());
        QuotaStore quotas = quotas();
        quotas.replace(entity, limits);
        return TenantQuotas.of(quotas.snapshot().limits(entity));
    }

    private TenantStore tenants() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting")).tenants();
    }

    private QuotaStore quotas() {
        return lifecycle.quotas().orElseThrow(() -> new ServiceUnavailableException("starting"));
    }
}
