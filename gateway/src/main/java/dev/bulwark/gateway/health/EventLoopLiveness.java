package dev.bulwark.gateway.health;

import dev.bulwark.gateway.config.BulwarkConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import java.util.List;
import java.util.concurrent.Executors;

/** Alive while every event loop runs what is queued to it ({@link EventLoopHeartbeat}); a stalled one needs a restart. */
@Liveness
@ApplicationScoped
public class EventLoopLiveness implements HealthCheck {

    private volatile EventLoopHeartbeat heartbeat;

    void onStart(@Observes StartupEvent event, Vertx vertx, BulwarkConfig config) {
        heartbeat = new EventLoopHeartbeat(vertx.nettyEventLoopGroup(), config.telemetry().eventLoopStallTimeout(),
                Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "bulwark-event-loop-heartbeat");
                    t.setDaemon(true);
                    return t;
                }));
    }

    void onStop(@Observes ShutdownEvent event) {
        EventLoopHeartbeat running = heartbeat;
        if (running != null) {
            running.close();
        }
    }

    @Override
    public HealthCheckResponse call() {
        EventLoopHeartbeat running = heartbeat;
        if (running == null) {
            return HealthCheckResponse.named("event-loops").up().withData("heartbeat", "starting").build();
        }
        List<String> stalled = running.stalled();
        return HealthCheckResponse.named("event-loops").status(stalled.isEmpty())
                .withData("loops", running.loops())
                .withData("stalled", stalled.isEmpty() ? "none" : String.join("; ", stalled))
                .build();
    }
}
