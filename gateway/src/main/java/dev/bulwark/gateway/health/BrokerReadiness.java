package dev.bulwark.gateway.health;

import dev.bulwark.gateway.BulwarkLifecycle;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.Map;
import java.util.Optional;

/**
 * Ready when the broker serves everything: storage recovered and listeners bound (it runs), the data directory
 * writable, keys loaded, the audit journal writable ({@link BrokerHealth}). Each part is in the response's data.
 */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {

    @Inject
    BulwarkLifecycle lifecycle;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("broker");
        Optional<BrokerHealth> health = lifecycle.health();
        if (health.isEmpty()) {
            return response.down().withData("listeners", "not bound: starting or stopping").build();
        }
        boolean up = true;
        for (Map.Entry<String, BrokerHealth.Part> part : health.get().readiness().entrySet()) {
            up &= part.getValue().up();
            response.withData(part.getKey(), part.getValue().detail());
        }
        return response.status(up).build();
    }
}
