package dev.bulwark.storage.crypto;

import java.util.regex.Pattern;

/**
 * Whose keys: a tenant, by its id (an opaque Kafka Uuid string, or {@code default}), or the broker itself
 * ({@link #SYSTEM}) for its internal data: committed offsets, transaction state, ACLs and credentials.
 *
 * <p>A tenant id is 1 to {@value #MAX_LENGTH} characters of {@code [A-Za-z0-9_-]}; the system owner's id,
 * {@value #SYSTEM_ID}, is outside that alphabet, so no tenant can be given the broker's keys.
 */
public record KeyOwner(String id) implements Comparable<KeyOwner> {

    public static final int MAX_LENGTH = 64;
    public static final String SYSTEM_ID = "$system";
    public static final KeyOwner SYSTEM = new KeyOwner(SYSTEM_ID);

    private static final Pattern TENANT_ID = Pattern.compile("[A-Za-z0-9_-]{1," + MAX_LENGTH + "}");

    /**
     * @throws IllegalArgumentException when {@code id} is neither a valid tenant id nor {@value #SYSTEM_ID}
     */
    public KeyOwner {
        if (!SYSTEM_ID.equals(id) && !TENANT_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("a key owner is a tenant id of 1 to " + MAX_LENGTH
                    + " characters [A-Za-z0-9_-] or " + SYSTEM_ID + ", not '" + id + "'");
        }
    }

    /**
     * The tenant with this id.
     *
     * @throws IllegalArgumentException when {@code tenantId} is not 1 to {@value #MAX_LENGTH} characters
     *                                  {@code [A-Za-z0-9_-]}
     */
    public static KeyOwner tenant(String tenantId) {
        if (SYSTEM_ID.equals(tenantId)) {
            throw new IllegalArgumentException(SYSTEM_ID + " is the broker's own key owner, not a tenant");
        }
        return new KeyOwner(tenantId);
    }

    @Override
    public int compareTo(KeyOwner other) {
        return id.compareTo(other.id);
    }

    @Override
    public String toString() {
        return id;
    }
}
