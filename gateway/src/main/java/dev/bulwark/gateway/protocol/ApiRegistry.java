package dev.bulwark.gateway.protocol;

import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The APIs this broker serves, with their version ranges and handlers. ApiVersions advertises exactly this table,
 * and a request for anything outside it is refused before it is parsed.
 */
public final class ApiRegistry {

    /** One served API. */
    public record Registration(ApiKeys key, short minVersion, short maxVersion, ApiHandler handler) {
        public boolean supports(short version) {
            return version >= minVersion && version <= maxVersion;
        }
    }

    private final Map<ApiKeys, Registration> apis = new EnumMap<>(ApiKeys.class);

    /**
     * Serves every stable version of {@code key} that kafka-clients can parse. A version kafka-clients marks unstable
     * (its schema may still change; Kafka advertises it only with unstable.api.versions.enable) is not served.
     */
    public ApiRegistry register(ApiKeys key, ApiHandler handler) {
        return register(key, key.oldestVersion(), key.latestVersion(false), handler);
    }

    public ApiRegistry register(ApiKeys key, short minVersion, short maxVersion, ApiHandler handler) {
        if (minVersion < key.oldestVersion() || maxVersion > key.latestVersion(true) || minVersion > maxVersion) {
            throw new IllegalArgumentException(key + " versions " + minVersion + "-" + maxVersion
                    + " are outside what kafka-clients supports");
        }
        if (apis.putIfAbsent(key, new Registration(key, minVersion, maxVersion, handler)) != null) {
            throw new IllegalStateException(key + " registered twice");
        }
        return this;
    }

    public Optional<Registration> lookup(ApiKeys key) {
        return Optional.ofNullable(apis.get(key));
    }

    public Map<ApiKeys, Registration> registrations() {
        return Collections.unmodifiableMap(apis);
    }

    /** The ApiVersions table. */
    public ApiVersionCollection versions() {
        ApiVersionCollection versions = new ApiVersionCollection(apis.size());
        for (Registration r : apis.values()) {
            // librdkafka refuses a broker whose Produce range does not start at 0 (KAFKA-18659); like Kafka 4 we
            // advertise 0 and still refuse versions below the served minimum.
            short min = r.key() == ApiKeys.PRODUCE ? ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION : r.minVersion();
            versions.add(new ApiVersion().setApiKey(r.key().id).setMinVersion(min).setMaxVersion(r.maxVersion()));
        }
        return versions;
    }
}
