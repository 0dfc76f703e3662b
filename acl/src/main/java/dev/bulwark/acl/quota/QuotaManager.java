package dev.bulwark.acl.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Measures what each entity uses against its quota and says how long a client must be throttled, as Kafka's quota
 * managers do: the usage is recorded first, then compared with the limit, and a client over it is throttled for
 * {@link Throttle#timeMs the time that brings its rate back to the limit}.
 *
 * <p>A user / client-id quota ({@link QuotaSnapshot#resolve}) and the tenant-wide quota are both measured; the longer
 * throttle wins. Byte-rate throttles last at most the whole window ({@link QuotaWindow#spanMs()}); request-time and
 * connection-rate throttles at most one sample, as in Kafka.
 *
 * <p>Thread safety: any thread; lock-free apart from each meter's short critical section. When no quota is set
 * anywhere nothing is measured at all.
 */
public final class QuotaManager {

    /** Meters idle this long are dropped (Kafka expires idle quota sensors after an hour too). */
    public static final Duration IDLE_EXPIRY = Duration.ofHours(1);

    /** Whose usage one meter measures; parts a quota leaves shared are null. */
    private record MeterKey(QuotaKind kind, String tenantId, String user, String clientId, String address) {
    }

    /** A connection's identity for the resolution cache. */
    private record ClientKey(String tenantId, String user, String clientId) {
    }

    /** The resolutions of one client for each kind, valid for one store generation. */
    private record Resolved(long generation, QuotaSnapshot.Resolution[] byKind) {
    }

    private final QuotaStore store;
    private final QuotaWindow window;
    private final Clock clock;
    private final ConcurrentHashMap<MeterKey, RateMeter> meters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<ClientKey, Resolved> resolutions = new ConcurrentHashMap<>();

    public QuotaManager(QuotaStore store, QuotaWindow window, Clock clock) {
        this.store = store;
        this.window = window;
        this.clock = clock;
    }

    public QuotaStore store() {
        return store;
    }

    /** Whether any quota is set; when none is, callers may skip measuring altogether. */
    public boolean anyQuota() {
        return !store.snapshot().isEmpty();
    }

    /**
     * Records {@code value} (bytes, or a percentage of a request thread's second) used by a client and returns how
     * long it must be throttled, 0 when it stays within its quotas.
     */
    public int record(QuotaKind kind, String tenantId, String user, String clientId, double value) {
        QuotaSnapshot snapshot = store.snapshot();
        if (snapshot.isEmpty()) {
            return 0;
        }
        long now = clock.millis();
        long maxMs = kind == QuotaKind.REQUEST_PERCENTAGE ? window.sampleMs() : window.spanMs();
        int throttle = 0;
        QuotaSnapshot.Resolution resolution = resolution(snapshot, tenantId, user, clientId, kind);
        if (resolution != null) {
            throttle = recordOn(new MeterKey(kind, tenantId, resolution.user(), resolution.clientId(), null),
                    resolution.bound(), value, now, maxMs);
        }
        OptionalDouble tenantBound = snapshot.tenantLimit(tenantId, kind);
        if (tenantBound.isPresent()) {
            throttle = Math.max(throttle, recordOn(new MeterKey(kind, tenantId, null, null, null),
                    tenantBound.getAsDouble(), value, now, maxMs));
        }
        return throttle;
    }

    /**
     * A connection from {@code address} is being accepted: returns 0 to let it in, or, when the address's
     * connection_creation_rate is exceeded, the time after which it is closed instead. A refused connection is not
     * counted, as in Kafka.
     */
    public int recordConnection(String address) {
        QuotaSnapshot snapshot = store.snapshot();
        if (snapshot.isEmpty()) {
            return 0;
        }
        OptionalDouble bound = snapshot.ipLimit(address, QuotaKind.CONNECTION_CREATION_RATE);
        if (bound.isEmpty()) {
            return 0;
        }
        long now = clock.millis();
        RateMeter meter = meter(new MeterKey(QuotaKind.CONNECTION_CREATION_RATE, null, null, null, address), now);
        int throttle;
        synchronized (meter) {
            double rate = meter.record(1, now);
            throttle = Throttle.timeMs(rate, bound.getAsDouble(), meter.windowMs(now), window.sampleMs());
            if (throttle > 0) {
                meter.unrecord(1, now);
            }
        }
        return throttle;
    }

    /**
     * A connection of {@code tenantId} has authenticated: returns how long to hold it back so that the tenant's
     * connections stay within its tenant-wide connection_creation_rate, 0 when they do.
     */
    public int recordTenantConnection(String tenantId) {
        QuotaSnapshot snapshot = store.snapshot();
        OptionalDouble bound = snapshot.tenantLimit(tenantId, QuotaKind.CONNECTION_CREATION_RATE);
        if (bound.isEmpty()) {
            return 0;
        }
        return recordOn(new MeterKey(QuotaKind.CONNECTION_CREATION_RATE, tenantId, null, null, null),
                bound.getAsDouble(), 1, clock.millis(), window.sampleMs());
    }

    /** Drops meters unused for {@link #IDLE_EXPIRY} and the cached resolutions, so that both stay bounded. */
    public void expireIdle() {
        long cutoff = clock.millis() - IDLE_EXPIRY.toMillis();
        meters.values().removeIf(meter -> meter.lastRecordMs() < cutoff);
        resolutions.clear();
    }

    private int recordOn(MeterKey key, double bound, double value, long now, long maxMs) {
        RateMeter meter = meter(key, now);
        double rate = meter.record(value, now);
        return Throttle.timeMs(rate, bound, meter.windowMs(now), maxMs);
    }

    private RateMeter meter(MeterKey key, long now) {
        RateMeter meter = meters.get(key);
        return meter != null ? meter : meters.computeIfAbsent(key, k -> new RateMeter(window, now));
    }

    private QuotaSnapshot.Resolution resolution(QuotaSnapshot snapshot, String tenantId, String user, String clientId,
                                                QuotaKind kind) {
        ClientKey key = new ClientKey(tenantId, user, clientId == null ? "" : clientId);
        Resolved resolved = resolutions.get(key);
        if (resolved == null || resolved.generation() != snapshot.generation()) {
            QuotaSnapshot.Resolution[] byKind = new QuotaSnapshot.Resolution[QuotaKind.values().length];
            for (QuotaKind k : QuotaKind.values()) {
                byKind[k.ordinal()] = snapshot.resolve(tenantId, user, key.clientId(), k);
            }
            resolved = new Resolved(snapshot.generation(), byKind);
            resolutions.put(key, resolved);
        }
        return resolved.byKind()[kind.ordinal()];
    }
}
