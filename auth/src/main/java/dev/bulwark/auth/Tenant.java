package dev.bulwark.auth;

import dev.bulwark.storage.TopicMetadata;

/**
 * A tenant: an opaque, stable id (what storage and the audit trail record), a unique name (what people and SASL
 * usernames use) and a state.
 */
public record Tenant(String id, String name, State state, long createdMs) {

    /** The tenant of anonymous connections and of principals whose username names no tenant. */
    public static final String DEFAULT_ID = TopicMetadata.DEFAULT_TENANT_ID;
    public static final String DEFAULT_NAME = "default";

    public enum State { ACTIVE, SUSPENDED }

    public boolean isDefault() {
        return DEFAULT_ID.equals(id);
    }
}
