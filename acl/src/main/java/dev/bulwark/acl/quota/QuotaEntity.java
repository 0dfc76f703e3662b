package dev.bulwark.acl.quota;

import java.util.Objects;

/**
 * What a quota is set on.
 *
 * <ul>
 *   <li>{@link Client}: Kafka's user / client-id entities, inside one tenant: a user, a client id, or both, each
 *       specific or {@code <default>}; the quotas of producers, consumers and request time.</li>
 *   <li>{@link Ip}: a client address, or the default address: connection creation rate, across all tenants (only
 *       operators set these).</li>
 *   <li>{@link Tenant}: one quota for the sum over all of a tenant's connections, whoever they are.</li>
 * </ul>
 */
public sealed interface QuotaEntity {

    /**
     * A user / client-id entity of a tenant; at least one of the two parts is present.
     *
     * @param tenantId the tenant whose user and client id these are
     * @param user     the user (its name inside the tenant), the default user, or null when the entity has no user part
     * @param clientId the client id, the default client id, or null when the entity has no client part
     */
    record Client(String tenantId, EntityName user, EntityName clientId) implements QuotaEntity {
        public Client {
            Objects.requireNonNull(tenantId, "tenantId");
            if (user == null && clientId == null) {
                throw new IllegalArgumentException("a quota entity names a user, a client id or both");
            }
        }
    }

    /** @param address a client address (as written, e.g. {@code 10.0.0.7}), or the default address */
    record Ip(EntityName address) implements QuotaEntity {
        public Ip {
            Objects.requireNonNull(address, "address");
        }
    }

    /** @param tenantId the tenant all of whose connections share this quota */
    record Tenant(String tenantId) implements QuotaEntity {
        public Tenant {
            Objects.requireNonNull(tenantId, "tenantId");
        }
    }
}
