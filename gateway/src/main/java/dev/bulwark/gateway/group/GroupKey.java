package dev.bulwark.gateway.group;

/**
 * A consumer group as the coordinator knows it: the tenant it belongs to and the group id its clients chose. The
 * same group id in two tenants is two groups.
 */
public record GroupKey(String tenantId, String groupId) {

    @Override
    public String toString() {
        return groupId + " (tenant " + tenantId + ")";
    }
}
