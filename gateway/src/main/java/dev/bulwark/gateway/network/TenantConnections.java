package dev.bulwark.gateway.network;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.auth.store.TenantStore;

import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live authenticated connections of each tenant, held to its {@code max-connections}. A connection takes a
 * {@link Slot} once it is someone: at its first SASL authentication on SASL listeners (re-authentication, always as
 * the same principal, keeps it), when it is accepted on the others (the client certificate's principal, or an
 * anonymous client of the default tenant). It gives the slot back when it closes.
 *
 * <p>Thread safety: any thread; a slot is taken by compare-and-set, so concurrent connections cannot all pass on the
 * last free one.
 */
public final class TenantConnections {

    private final TenantStore tenants;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    public TenantConnections(TenantStore tenants) {
        this.tenants = tenants;
    }

    /** A connection's place in its tenant's count, given back once however often {@link #release} is called. */
    public static final class Slot {
        private final AtomicInteger count;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(AtomicInteger count) {
            this.count = count;
        }

        public void release() {
            if (released.compareAndSet(false, true)) {
                count.decrementAndGet();
            }
        }
    }

    /** A connection refused because its tenant is at its max-connections; the message names the limit. */
    public static final class LimitReachedException extends Exception {
        LimitReachedException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Takes a slot of the tenant's connections.
     *
     * @throws LimitReachedException when the tenant already holds its max-connections
     */
    public Slot acquire(String tenantId) throws LimitReachedException {
        AtomicInteger count = counts.computeIfAbsent(tenantId, id -> new AtomicInteger());
        Tenant tenant = tenants.byId(tenantId).orElse(null);
        OptionalInt limit = tenant == null ? OptionalInt.empty() : tenant.limits().maxConnections();
        while (true) {
            int held = count.get();
            if (limit.isPresent() && held >= limit.getAsInt()) {
                throw new LimitReachedException("tenant " + tenant.name() + " may have at most " + limit.getAsInt()
                        + " connections (" + TenantLimits.MAX_CONNECTIONS + "); it has " + held);
            }
            if (count.compareAndSet(held, held + 1)) {
                return new Slot(count);
            }
        }
    }

    /** How many connections the tenant holds now. */
    public int count(String tenantId) {
        AtomicInteger count = counts.get(tenantId);
        return count == null ? 0 : count.get();
    }
}
