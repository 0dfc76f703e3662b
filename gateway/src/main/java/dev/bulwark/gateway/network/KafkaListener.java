package dev.bulwark.gateway.network;

import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.protocol.RequestPipeline;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.impl.NetSocketInternal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A Kafka listener: a Vert.x TCP server whose connections speak the Kafka protocol. */
public final class KafkaListener {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaListener.class);
    private static final AtomicLong CONNECTION_IDS = new AtomicLong();

    /** What a listener's connections need to know. */
    public record Settings(SecurityProtocol securityProtocol, int maxRequestBytes, Duration idleTimeout) {
    }

    private final ListenerSpec spec;
    private final String advertisedHost;
    private final Settings settings;
    private final ApiRegistry apis;
    private final RequestPipeline pipeline;
    private final Executor requestPool;
    private NetServer server;
    private volatile Request.Listener advertised;

    public KafkaListener(ListenerSpec spec, String advertisedHost, Settings settings, ApiRegistry apis,
                         RequestPipeline pipeline, Executor requestPool) {
        this.spec = spec;
        this.advertisedHost = advertisedHost;
        this.settings = settings;
        this.apis = apis;
        this.pipeline = pipeline;
        this.requestPool = requestPool;
    }

    /** Binds the listener; blocks until bound. */
    public void start(Vertx vertx) {
        NetServerOptions options = new NetServerOptions()
                .setHost(spec.host())
                .setPort(spec.port())
                .setTcpNoDelay(true)
                .setReuseAddress(true)
                .setIdleTimeout((int) settings.idleTimeout().toMillis())
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        server = vertx.createNetServer(options);
        server.connectHandler(socket -> {
            String id = spec.name() + "-" + CONNECTION_IDS.incrementAndGet();
            new KafkaConnection((NetSocketInternal) socket, vertx.getOrCreateContext(), id, advertised, settings, apis,
                    pipeline, requestPool).start();
        });
        server.listen().toCompletionStage().toCompletableFuture().join();
        advertised = new Request.Listener(spec.name(), advertisedHost, server.actualPort());
        LOG.info("Listening for Kafka clients on {}://{}:{} (advertised as {}:{})", spec.name(), spec.host(),
                server.actualPort(), advertisedHost, server.actualPort());
    }

    public Request.Listener advertised() {
        return advertised;
    }

    public void stop() {
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().join();
        }
    }
}
