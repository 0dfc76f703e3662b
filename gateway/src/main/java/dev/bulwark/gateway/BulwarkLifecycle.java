package dev.bulwark.gateway;

import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.gateway.config.BulwarkConfig;
import dev.bulwark.gateway.group.ConsumerLag;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.gateway.health.BrokerHealth;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Tracer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.io.IOException;
import java.util.Optional;

/** Starts the broker when Quarkus starts and stops it, flushing the log store, when Quarkus stops (SIGTERM). */
@ApplicationScoped
public class BulwarkLifecycle {

    private volatile BulwarkServer server;

    void onStart(@Observes StartupEvent event, BulwarkConfig config, Vertx vertx, MeterRegistry metrics,
                 Tracer tracer) throws IOException {
        server = BulwarkServer.start(config, vertx, metrics, tracer);
    }

    void onStop(@Observes ShutdownEvent event) throws IOException {
        BulwarkServer running = server;
        server = null;
        if (running != null) {
            running.close();
        }
    }

    /** Consumer lag, once the broker is up. */
    public Optional<ConsumerLag> consumerLag() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.consumerLag());
    }

    /** What each tenant holds against its limits, once the broker is up. */
    public Optional<TenantUsage> tenantUsage() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.tenantUsage());
    }

    /** Tenants, users and token validation, once the broker is up. */
    public Optional<Security> security() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.security());
    }

    /** The quotas, once the broker is up. */
    public Optional<QuotaStore> quotas() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.quotas());
    }

    /** Key rotation and crypto-shredding, once the broker is up. */
    public Optional<AtRestKeyManagement> keys() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.keys());
    }

    /** The audit trail, once the broker is up. */
    public Optional<AuditTrail> audit() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.audit());
    }

    /** Tenant deletion, once the broker is up. */
    public Optional<TenantErasure> erasure() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.erasure());
    }

    /** What readiness checks, once the broker is up. */
    public Optional<BrokerHealth> health() {
        BulwarkServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.health());
    }

    /** Whether the broker is up: storage recovered and every listener bound. */
    public boolean running() {
        return server != null;
    }
}
