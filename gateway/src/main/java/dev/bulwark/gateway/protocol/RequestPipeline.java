package dev.bulwark.gateway.protocol;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.audit.AuditStage;
import dev.bulwark.gateway.quota.QuotaStage;
import dev.bulwark.gateway.telemetry.RequestTelemetry;
import io.opentelemetry.api.trace.Span;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The path every parsed request takes, in one place. Authorization fails closed: an (API, version) that {@link
 * AuthorizationCoverage} does not know is refused before its handler runs; the handlers check each resource. The
 * quota stage records what the request uses and sets its throttle time ({@link QuotaStage}) around the handler; the
 * audit stage ({@link AuditStage}) records what the answer shows, and holds the answer to an administrative change
 * until its entries are on disk. A failure anywhere becomes the API's own error response with Kafka's error code,
 * never a dropped request.
 */
public final class RequestPipeline {

    private static final Logger LOG = LoggerFactory.getLogger(RequestPipeline.class);

    private final ApiRegistry apis;
    private final QuotaStage quota;
    private final TenantStore tenants;
    private final AuditStage audit;
    private final RequestTelemetry telemetry;

    public RequestPipeline(ApiRegistry apis, QuotaStage quota, TenantStore tenants, AuditStage audit,
                           RequestTelemetry telemetry) {
        this.apis = apis;
        this.quota = quota;
        this.tenants = tenants;
        this.audit = audit;
        this.telemetry = telemetry;
    }

    /** Handles {@code request}; its latency, throttle and span are observed to the answer ({@link RequestTelemetry}). */
    public CompletionStage<Reply> process(Request request) {
        long started = System.nanoTime();
        Span span = telemetry.start(request);
        return telemetry.observe(request, started, span, handle(request, started));
    }

    private CompletionStage<Reply> handle(Request request, long started) {
        ApiRegistry.Registration api = apis.lookup(request.apiKey())
                .orElseThrow(() -> new IllegalStateException(request.apiKey() + " reached the pipeline unregistered"));
        if (!AuthorizationCoverage.covers(request.apiKey(), request.version())) {
            LOG.warn("denied {} v{} from {}: its authorization is not known to this broker (fails closed)",
                    request.apiKey(), request.version(), request.context().clientId());
            return CompletableFuture.completedFuture(errorReply(request, new ClusterAuthorizationException(
                    request.apiKey() + " v" + request.version() + " is not authorized on this broker")));
        }
        if (!served(request.tenantId())) {
            // Its connections authenticated before the deletion began; the tenant's data is going or gone.
            return CompletableFuture.completedFuture(errorReply(request, new SaslAuthenticationException(
                    "the tenant of " + request.principal().user() + " is being deleted or was deleted")));
        }
        Optional<ApiException> unaudited = audit.refusal(request);
        if (unaudited.isPresent()) {
            return CompletableFuture.completedFuture(errorReply(request, unaudited.get()));
        }
        Optional<AuditStage.Produced> produced = audit.before(request);
        int throttleMs = quota.beforeHandling(request);
        CompletionStage<Reply> reply;
        try {
            reply = api.handler().handle(request).exceptionally(error -> errorReply(request, error));
        } catch (RuntimeException e) {
            reply = CompletableFuture.completedFuture(errorReply(request, e));
        }
        reply = audit.after(request, produced, reply);
        return quota.afterHandling(request, reply, throttleMs, System.nanoTime() - started);
    }

    /** A connection closed: what it produced and fetched is summarized in the audit trail. */
    public void connectionClosed(String connectionId) {
        audit.connectionClosed(connectionId);
    }

    /** Whether requests of the tenant are served: it exists and is not being deleted. */
    private boolean served(String tenantId) {
        Optional<Tenant> tenant = tenants.byId(tenantId);
        return tenant.isPresent() && tenant.get().state() != Tenant.State.DELETING;
    }

    /** The API's error response for {@code error}: its Kafka error code, or UNKNOWN_SERVER_ERROR for a fault of ours. */
    static Reply errorReply(Request request, Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (!(cause instanceof ApiException)) {
            LOG.error("{} v{} from {} failed", request.apiKey(), request.version(), request.context().clientId(), cause);
        }
        return Reply.of(request.body().getErrorResponse(0, cause).data());
    }
}
