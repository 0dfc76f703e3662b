package dev.bulwark.acl.quota;

import java.util.Map;
import java.util.OptionalDouble;

/**
 * The quotas at one moment, and which of them applies to a connection: immutable, so the request path reads it
 * without locks.
 *
 * @param generation counts the changes since the store opened, so that what was resolved from an older snapshot is
 *                   known to be stale
 * @param entries    every entity with at least one quota
 */
public record QuotaSnapshot(long generation, Map<QuotaEntity, QuotaLimits> entries) {

    public QuotaSnapshot {
        entries = Map.copyOf(entries);
    }

    /**
     * Which usage is measured against which limit: the quota of the most specific entity that sets {@code kind} for
     * this user and client id.
     *
     * @param bound   the limit
     * @param matched the entity the limit was set on
     * @param user    whose usage counts against it: the user, or null when all users of the client id share it
     * @param clientId which client id's usage counts: the client id, or null when all clients of the user share it
     */
    public record Resolution(double bound, QuotaEntity.Client matched, String user, String clientId) {
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public QuotaLimits limits(QuotaEntity entity) {
        return entries.getOrDefault(entity, QuotaLimits.NONE);
    }

    /**
     * The quota on {@code kind} for {@code user} with {@code clientId} in a tenant, in Kafka's order: user and client
     * id, user and default client id, user, default user and client id, default user and default client id, default
     * user, client id, default client id. A quota set on a default is measured per user or client id (each gets the
     * whole of it); one set on a specific name is shared only by what the entity leaves open: a quota on a user is
     * shared by all its client ids.
     *
     * @return the resolution, or null when no entity limits {@code kind} (unlimited)
     */
    public Resolution resolve(String tenantId, String user, String clientId, QuotaKind kind) {
        if (entries.isEmpty()) {
            return null;
        }
        EntityName u = EntityName.of(user);
        EntityName c = EntityName.of(clientId);
        EntityName d = EntityName.DEFAULT;
        Resolution found;
        if ((found = match(new QuotaEntity.Client(tenantId, u, c), kind, user, clientId)) != null
                || (found = match(new QuotaEntity.Client(tenantId, u, d), kind, user, clientId)) != null
                || (found = match(new QuotaEntity.Client(tenantId, u, null), kind, user, null)) != null
                || (found = match(new QuotaEntity.Client(tenantId, d, c), kind, user, clientId)) != null
                || (found = match(new QuotaEntity.Client(tenantId, d, d), kind, user, clientId)) != null
                || (found = match(new QuotaEntity.Client(tenantId, d, null), kind, user, null)) != null
                || (found = match(new QuotaEntity.Client(tenantId, null, c), kind, null, clientId)) != null) {
            return found;
        }
        return match(new QuotaEntity.Client(tenantId, null, d), kind, null, clientId);
    }

    private Resolution match(QuotaEntity.Client entity, QuotaKind kind, String user, String clientId) {
        QuotaLimits limits = entries.get(entity);
        if (limits == null) {
            return null;
        }
        OptionalDouble bound = limits.get(kind);
        return bound.isPresent() ? new Resolution(bound.getAsDouble(), entity, user, clientId) : null;
    }

    /** The tenant-wide quota on {@code kind}, the sum over all of the tenant's connections. */
    public OptionalDouble tenantLimit(String tenantId, QuotaKind kind) {
        QuotaLimits limits = entries.get(new QuotaEntity.Tenant(tenantId));
        return limits == null ? OptionalDouble.empty() : limits.get(kind);
    }

    /** The quota on {@code kind} of a client address: its own, else the default address's. */
    public OptionalDouble ipLimit(String address, QuotaKind kind) {
        QuotaLimits own = entries.get(new QuotaEntity.Ip(EntityName.of(address)));
        if (own != null && own.get(kind).isPresent()) {
            return own.get(kind);
        }
        QuotaLimits fallback = entries.get(new QuotaEntity.Ip(EntityName.DEFAULT));
        return fallback == null ? OptionalDouble.empty() : fallback.get(kind);
    }
}
