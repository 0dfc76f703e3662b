package dev.bulwark.acl.quota;

import java.util.Objects;

/**
 * The name part of a quota entity: a specific user, client id or address, or {@code <default>}, which matches every
 * one that has no quota of its own. Kept apart from the strings themselves so that a client id that happens to read
 * {@code <default>} is never mistaken for the default.
 *
 * @param value the name; null for the default
 */
public record EntityName(String value) {

    public static final EntityName DEFAULT = new EntityName(null);

    public static EntityName of(String value) {
        return new EntityName(Objects.requireNonNull(value, "value"));
    }

    public boolean isDefault() {
        return value == null;
    }

    @Override
    public String toString() {
        return value == null ? "<default>" : value;
    }
}
