package dev.bulwark.gateway.telemetry;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.network.AuthenticationAttempt;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.Consumer;

/**
 * Failed authentications, counted per listener, mechanism and tenant
 * ({@code bulwark_authentication_failures_total}). The tenant is the one the username tried names when it exists,
 * else "unknown": a client trying made-up tenant names must not make a label of each.
 */
public final class AuthenticationMetrics implements Consumer<AuthenticationAttempt> {

    static final String UNKNOWN_TENANT = "unknown";

    private final MeterRegistry registry;
    private final TenantStore tenants;

    public AuthenticationMetrics(MeterRegistry registry, TenantStore tenants) {
        this.registry = registry;
        this.tenants = tenants;
    }

    @Override
    public void accept(AuthenticationAttempt attempt) {
        if (attempt.failure() == null) {
            return;
        }
        // Micrometer returns the meter already registered under the same name and tags.
        Counter.builder("bulwark.authentication.failures")
                .description("Failed authentications (SASL, client certificates, REST)")
                .tag("listener", attempt.listener())
                .tag("mechanism", attempt.mechanism())
                .tag("tenant", tenantOf(attempt.attemptedUsername()))
                .register(registry)
                .increment();
    }

    private String tenantOf(String username) {
        if (username == null) {
            return UNKNOWN_TENANT;
        }
        try {
            return tenants.byName(UserName.parse(username).tenantName()).map(Tenant::name).orElse(UNKNOWN_TENANT);
        } catch (IllegalArgumentException e) {
            return UNKNOWN_TENANT;
        }
    }
}
