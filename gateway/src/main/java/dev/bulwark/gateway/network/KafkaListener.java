package dev.bulwark.gateway.network;

import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.tls.CertificatePrincipals;
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
import java.util.function.Consumer;

/**
 * A Kafka listener: a Vert.x TCP server whose connections speak the Kafka protocol, secured as its security
 * protocol says: TLS on SSL and SASL_SSL, SASL authentication on SASL_PLAINTEXT and SASL_SSL. A connection from an
 * address over its connection_creation_rate is closed without being read, after the throttle time, as Kafka closes
 * it (KIP-612), so the client backs off and reconnects.
 */
public final class KafkaListener {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaListener.class);
    private static final AtomicLong CONNECTION_IDS = new AtomicLong();

    /** What a listener's connections need to know. */
    public record Settings(int maxRequestBytes, Duration idleTimeout) {
    }

    private final ListenerSpec spec;
    private final String advertisedHost;
    private final Settings settings;
    private final ApiRegistry apis;
    private final RequestPipeline pipeline;
    private final Executor requestPool;
    private final TlsTermination tls;
    private final SaslSessions sasl;
    private final TenantConnections connections;
    private final QuotaManager quotas;
    private final Consumer<AuthenticationAttempt> attempts;
    private NetServer server;
    private volatile Request.Listener advertised;

    /**
     * @param tls  TLS termination; required by SSL and SASL_SSL listeners, ignored by the others
     * @param sasl        the SASL mechanisms and failure policy; required by SASL listeners, ignored by the others
     * @param connections each tenant's connections, which a connection joins when accepted, unless it uses SASL
     *                    (then when it authenticates)
     * @param quotas      the connection_creation_rate quotas of addresses and tenants
     * @param attempts    where client-certificate authentications and refusals are reported (the audit trail)
     */
    public KafkaListener(ListenerSpec spec, String advertisedHost, Settings settings, ApiRegistry apis,
                         RequestPipeline pipeline, Executor requestPool, TlsTermination tls,
                         SaslSessions sasl, TenantConnections connections, QuotaManager quotas,
                         Consumer<AuthenticationAttempt> attempts) {
        SecurityProtocol protocol = spec.securityProtocol();
        boolean usesTls = protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
        boolean usesSasl = protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
        if (usesTls && tls == null || usesSasl && sasl == null) {
            throw new IllegalArgumentException("Listener " + spec + " needs " + (usesTls && tls == null ? "TLS" : "SASL")
                    + " settings");
        }
        this.tls = usesTls ? tls : null;
        this.sasl = usesSasl ? sasl : null;
        this.spec = spec;
        this.advertisedHost = advertisedHost;
        this.settings = settings;
        this.apis = apis;
        this.pipeline = pipeline;
        this.requestPool = requestPool;
        this.connections = connections;
        this.quotas = quotas;
        this.attempts = attempts;
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
        if (tls != null) {
            tls.secure(options);
        }
        server = vertx.createNetServer(options);
        server.connectHandler(socket -> {
            String id = spec.name() + "-" + CONNECTION_IDS.incrementAndGet();
            String address = socket.remoteAddress() == null ? null : socket.remoteAddress().hostAddress();
            int throttleMs = address == null ? 0 : quotas.recordConnection(address);
            if (throttleMs > 0) {
                LOG.debug("closing connection {} from {} in {} ms: over its connection_creation_rate", id, address,
                        throttleMs);
                socket.pause();
                vertx.setTimer(throttleMs, ignored -> socket.close());
                return;
            }
            AuthenticatedPrincipal principal;
            try {
                principal = tls != null ? tls.principalOf(socket)
                        : AuthenticatedPrincipal.anonymous(spec.securityProtocol().name);
            } catch (TlsTermination.RefusedCertificateException e) {
                LOG.warn("refusing connection {} from {}: {}", id, socket.remoteAddress(), e.getMessage());
                attempts.accept(AuthenticationAttempt.failed(spec.name(), address, CertificatePrincipals.MECHANISM,
                        null, e.getMessage()));
                socket.close();
                return;
            }
            if (tls != null && !AuthenticatedPrincipal.ANONYMOUS_USER.equals(principal.user())) {
                attempts.accept(AuthenticationAttempt.succeeded(spec.name(), address, CertificatePrincipals.MECHANISM,
                        principal, false));
            }
            TenantConnections.Slot slot = null;
            if (sasl == null) {
                try {
                    slot = connections.acquire(principal.tenantId());
                } catch (TenantConnections.LimitReachedException e) {
                    LOG.warn("refusing connection {} from {} of {}: {}", id, socket.remoteAddress(), principal.user(),
                            e.getMessage());
                    socket.close();
                    return;
                }
            }
            String host = socket.remoteAddress() == null ? "unknown" : socket.remoteAddress().host();
            new KafkaConnection((NetSocketInternal) socket, vertx.getOrCreateContext(), id, advertised,
                    spec.securityProtocol(), settings, apis, pipeline, requestPool, principal,
                    sasl == null ? null : sasl.open(host, id, spec.name()), slot, quotas).start();
        });
        server.exceptionHandler(error -> LOG.info("{} listener: a connection failed before it was established "
                + "(a TLS handshake, say): {}", spec.name(), error.toString()));
        server.listen().toCompletionStage().toCompletableFuture().join();
        if (tls != null) {
            tls.serving(server);
        }
        advertised = new Request.Listener(spec.name(), advertisedHost, server.actualPort());
        LOG.info("Listening for Kafka clients on {}://{}:{} (advertised as {}:{})", spec.name(), spec.host(),
                server.actualPort(), advertisedHost, server.actualPort());
    }

    public Request.Listener advertised() {
        return advertised;
    }

    public void stop() {
        if (server != null) {
            if (tls != null) {
                tls.stopped(server);
            }
            server.close().toCompletionStage().toCompletableFuture().join();
        }
    }
}
