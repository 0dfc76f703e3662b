package dev.bulwark.auth;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a tenant may hold at most, beyond what Kafka itself limits: topics, partitions (over all its topics), stored
 * bytes (the size of all its partitions' logs) and live authenticated connections. An absent limit is no limit; zero
 * is a limit (nothing of that kind).
 *
 * @param maxTopics      the most topics the tenant may have
 * @param maxPartitions  the most partitions its topics may have together
 * @param maxStoredBytes the most bytes its partitions' logs may hold together; produce past it is refused
 * @param maxConnections the most connections its principals may hold open at once
 */
public record TenantLimits(OptionalInt maxTopics, OptionalInt maxPartitions, OptionalLong maxStoredBytes,
                           OptionalInt maxConnections) {

    /** No limit of any kind. */
    public static final TenantLimits UNLIMITED = new TenantLimits(OptionalInt.empty(), OptionalInt.empty(),
            OptionalLong.empty(), OptionalInt.empty());

    /** The name a limit goes by in messages and in the REST API. */
    public static final String MAX_TOPICS = "max-topics";
    public static final String MAX_PARTITIONS = "max-partitions";
    public static final String MAX_STORED_BYTES = "max-stored-bytes";
    public static final String MAX_CONNECTIONS = "max-connections";

    /** @throws IllegalArgumentException when a limit is negative */
    public TenantLimits {
        requireNonNegative(MAX_TOPICS, maxTopics);
        requireNonNegative(MAX_PARTITIONS, maxPartitions);
        if (maxStoredBytes.isPresent() && maxStoredBytes.getAsLong() < 0) {
            throw negative(MAX_STORED_BYTES, maxStoredBytes.getAsLong());
        }
        requireNonNegative(MAX_CONNECTIONS, maxConnections);
    }

    /** Limits from nullable numbers, as JSON carries them: null is no limit. */
    public static TenantLimits of(Integer maxTopics, Integer maxPartitions, Long maxStoredBytes,
                                  Integer maxConnections) {
        return new TenantLimits(optional(maxTopics), optional(maxPartitions),
                maxStoredBytes == null ? OptionalLong.empty() : OptionalLong.of(maxStoredBytes),
                optional(maxConnections));
    }

    /** As the log shows limits: {@code max-topics 10, max-partitions none, ...}. */
    @Override
    public String toString() {
        return MAX_TOPICS + " " + text(maxTopics.isPresent() ? maxTopics.getAsInt() : null)
                + ", " + MAX_PARTITIONS + " " + text(maxPartitions.isPresent() ? maxPartitions.getAsInt() : null)
                + ", " + MAX_STORED_BYTES + " " + text(maxStoredBytes.isPresent() ? maxStoredBytes.getAsLong() : null)
                + ", " + MAX_CONNECTIONS + " " + text(maxConnections.isPresent() ? maxConnections.getAsInt() : null);
    }

    private static String text(Number limit) {
        return limit == null ? "none" : limit.toString();
    }

    private static OptionalInt optional(Integer value) {
        return value == null ? OptionalInt.empty() : OptionalInt.of(value);
    }

    private static void requireNonNegative(String name, OptionalInt limit) {
        if (limit.isPresent() && limit.getAsInt() < 0) {
            throw negative(name, limit.getAsInt());
        }
    }

    private static IllegalArgumentException negative(String name, long value) {
        return new IllegalArgumentException(name + " must be 0 or more, or absent for no limit; got " + value);
    }
}
