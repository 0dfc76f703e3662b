package dev.bulwark.gateway.telemetry;

import dev.bulwark.auth.store.TenantStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records and bytes in (produced and appended) and out (sent to consumers) per tenant and topic, as counters:
 * {@code bulwark_topic_bytes_in_total{tenant,topic}} and its siblings. The tenant is labelled by its name, as its
 * users know it.
 */
public final class TrafficMetrics {

    private record Key(String tenantId, String topic) {
    }

    private record Meters(Counter recordsIn, Counter bytesIn, Counter recordsOut, Counter bytesOut) {
    }

    private final MeterRegistry registry;
    private final TenantStore tenants;
    private final Map<Key, Meters> meters = new ConcurrentHashMap<>();

    public TrafficMetrics(MeterRegistry registry, TenantStore tenants) {
        this.registry = registry;
        this.tenants = tenants;
    }

    /** A producer's records were appended. */
    public void produced(String tenantId, String topic, long records, long bytes) {
        Meters m = meters(tenantId, topic);
        m.recordsIn().increment(records);
        m.bytesIn().increment(bytes);
    }

    /** A fetch response carries these records to a consumer (or a follower tool). */
    public void fetched(String tenantId, String topic, long records, long bytes) {
        Meters m = meters(tenantId, topic);
        m.recordsOut().increment(records);
        m.bytesOut().increment(bytes);
    }

    private Meters meters(String tenantId, String topic) {
        Key key = new Key(tenantId, topic);
        Meters found = meters.get(key);
        return found != null ? found : meters.computeIfAbsent(key, this::register);
    }

    private Meters register(Key key) {
        Tags tags = Tags.of("tenant", TenantLabel.of(tenants, key.tenantId()), "topic", key.topic());
        return new Meters(
                Counter.builder("bulwark.topic.records.in").description("Records produced").tags(tags)
                        .register(registry),
                Counter.builder("bulwark.topic.bytes.in").description("Bytes produced (record batches as stored)")
                        .tags(tags).register(registry),
                Counter.builder("bulwark.topic.records.out").description("Records sent to consumers").tags(tags)
                        .register(registry),
                Counter.builder("bulwark.topic.bytes.out").description("Bytes sent to consumers").tags(tags)
                        .register(registry));
    }
}
