package dev.bulwark.auth;

import dev.bulwark.storage.TopicMetadata;

import java.util.Objects;

/**
 * A tenant: an opaque, stable id (what storage and the audit trail record), a unique name (what people and SASL
 * usernames use), a state, its limits, and its no-ACL rule.
 *
 * @param allowEveryoneIfNoAcl Kafka's {@code allow.everyone.if.no.acl.found}, per tenant: whether a resource of the
 *                             tenant that no ACL names is open to all its principals (true) or to none but its
 *                             super users (false)
 */
public record Tenant(String id, String name, State state, long createdMs, TenantLimits limits,
                     boolean allowEveryoneIfNoAcl) {

    /** The tenant of anonymous connections and of principals whose username names no tenant. */
    public static final String DEFAULT_ID = TopicMetadata.DEFAULT_TENANT_ID;
    public static final String DEFAULT_NAME = "default";

    /**
     * {@code DELETING}: its keys are being destroyed and its data removed ({@code TenantStore#markDeleting}); nobody
     * authenticates into it and its connections' requests are refused, until the deletion finishes and the tenant is
     * gone.
     */
    public enum State { ACTIVE, SUSPENDED, DELETING }

    public Tenant {
        Objects.requireNonNull(limits, "limits");
    }

    public boolean isDefault() {
        return DEFAULT_ID.equals(id);
    }

    /** This tenant with other limits. */
    public Tenant withLimits(TenantLimits newLimits) {
        return new Tenant(id, name, state, createdMs, newLimits, allowEveryoneIfNoAcl);
    }

    /** This tenant in another state. */
    public Tenant withState(State newState) {
        return new Tenant(id, name, newState, createdMs, limits, allowEveryoneIfNoAcl);
    }

    /** This tenant with another no-ACL rule. */
    public Tenant withAllowEveryoneIfNoAcl(boolean allow) {
        return new Tenant(id, name, state, createdMs, limits, allow);
    }
}
