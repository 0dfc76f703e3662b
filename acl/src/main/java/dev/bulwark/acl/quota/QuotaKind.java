package dev.bulwark.acl.quota;

import java.util.Optional;

/**
 * The quotas Bulwark enforces, named as Kafka's quota configs are ({@code kafka-configs --add-config
 * producer_byte_rate=...}).
 */
public enum QuotaKind {
    /** Bytes per second of produce requests. */
    PRODUCER_BYTE_RATE("producer_byte_rate", 1),
    /** Bytes per second of fetch responses. */
    CONSUMER_BYTE_RATE("consumer_byte_rate", 2),
    /** Percent of one request thread's time spent handling the entity's requests (100 is one whole thread). */
    REQUEST_PERCENTAGE("request_percentage", 3),
    /** New connections per second. */
    CONNECTION_CREATION_RATE("connection_creation_rate", 4);

    private final String configName;
    private final int code;

    QuotaKind(String configName, int code) {
        this.configName = configName;
        this.code = code;
    }

    /** The name Kafka's quota APIs and {@code kafka-configs} use. */
    public String configName() {
        return configName;
    }

    /** The kind's code in the quota file; never reused. */
    int code() {
        return code;
    }

    public static Optional<QuotaKind> fromConfigName(String name) {
        for (QuotaKind kind : values()) {
            if (kind.configName.equals(name)) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }

    static Optional<QuotaKind> fromCode(int code) {
        for (QuotaKind kind : values()) {
            if (kind.code == code) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }
}
