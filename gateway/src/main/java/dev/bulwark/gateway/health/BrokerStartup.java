package dev.bulwark.gateway.health;

import dev.bulwark.gateway.BulwarkLifecycle;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

/**
 * Started once the log store is recovered and the listeners are bound. Recovery after an unclean stop can take a
 * while on a large store; until this is UP, Kubernetes holds the liveness probe back rather than restarting the pod.
 */
@Startup
@ApplicationScoped
public class BrokerStartup implements HealthCheck {

    @Inject
    BulwarkLifecycle lifecycle;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("broker-started").status(lifecycle.running()).build();
    }
}
