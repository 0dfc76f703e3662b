package dev.bulwark.gateway.group;

import java.time.Duration;

/**
 * The group coordinator's limits and timings, from Kafka's broker settings of the same names.
 *
 * @param minSessionTimeout      group.min.session.timeout.ms
 * @param maxSessionTimeout      group.max.session.timeout.ms
 * @param initialRebalanceDelay  group.initial.rebalance.delay.ms: how long a new group waits for more members
 * @param maxSize                group.max.size
 * @param offsetsRetention       offsets.retention.minutes: how long an empty group's offsets are kept
 */
public record GroupSettings(Duration minSessionTimeout, Duration maxSessionTimeout, Duration initialRebalanceDelay,
                            int maxSize, Duration offsetsRetention) {
}
