package dev.bulwark.gateway.cluster;

import dev.bulwark.auth.TenantLimits;
import org.apache.kafka.common.errors.PolicyViolationException;

import java.util.OptionalInt;

/**
 * What one request may still create within its tenant's {@link TenantLimits#maxTopics() max-topics} and
 * {@link TenantLimits#maxPartitions() max-partitions}: it counts the tenant's topics and partitions when the request
 * takes the tenant's creation lock ({@link Topics#creating}) and every topic and partition the request was allowed
 * since, created or only validated, so several topics of one request are counted together and two requests cannot
 * both slip past a limit.
 */
public final class TopicAllowance {

    private final String tenantName;
    private final TenantLimits limits;
    private final int topicsHeld;
    private final int partitionsHeld;
    private int topicsAdded;
    private int partitionsAdded;

    TopicAllowance(String tenantName, TenantLimits limits, int topicsHeld, int partitionsHeld) {
        this.tenantName = tenantName;
        this.limits = limits;
        this.topicsHeld = topicsHeld;
        this.partitionsHeld = partitionsHeld;
    }

    /**
     * Counts a new topic of {@code partitions} partitions.
     *
     * @throws PolicyViolationException when it would take the tenant past a limit; nothing is counted then
     */
    public void admitTopic(int partitions) {
        check(limits.maxTopics(), "topics", TenantLimits.MAX_TOPICS, topicsHeld, topicsAdded + 1);
        check(limits.maxPartitions(), "partitions", TenantLimits.MAX_PARTITIONS, partitionsHeld,
                partitionsAdded + partitions);
        topicsAdded++;
        partitionsAdded += partitions;
    }

    /**
     * Counts {@code added} new partitions of an existing topic.
     *
     * @throws PolicyViolationException when they would take the tenant past max-partitions; nothing is counted then
     */
    public void admitPartitions(int added) {
        check(limits.maxPartitions(), "partitions", TenantLimits.MAX_PARTITIONS, partitionsHeld,
                partitionsAdded + added);
        partitionsAdded += added;
    }

    private void check(OptionalInt limit, String what, String limitName, int held, int adding) {
        if (limit.isPresent() && (long) held + adding > limit.getAsInt()) {
            throw new PolicyViolationException("tenant " + tenantName + " may have at most " + limit.getAsInt() + " "
                    + what + " (" + limitName + "); it has " + held + " and this request adds " + adding);
        }
    }
}
