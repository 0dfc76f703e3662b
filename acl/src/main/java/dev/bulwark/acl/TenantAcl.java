package dev.bulwark.acl;

import org.apache.kafka.common.acl.AclBinding;

import java.util.Objects;

/**
 * An ACL of one tenant: Kafka's binding (resource pattern, principal, host, operation, permission) read inside that
 * tenant's namespace. Its resource names are the tenant's topic, group and transactional id names, and its principal
 * {@code User:alice} is user alice of that tenant ({@code User:*} is every principal of the tenant).
 */
public record TenantAcl(String tenantId, AclBinding binding) {

    public TenantAcl {
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(binding, "binding");
    }
}
