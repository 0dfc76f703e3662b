package dev.bulwark.gateway.telemetry;

import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.quota.ThrottleTimeField;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What every Kafka request costs and how it ended: its latency per API as a histogram
 * ({@code bulwark_request_latency_seconds{api}}), the throttle time a tenant's answers carried
 * ({@code bulwark_throttle_time_seconds{tenant}}), and a span per request (API, version, tenant, topics, outcome)
 * exported over OTLP when tracing is on. With tracing off (the default) the tracer is a no-op and the span's
 * attributes, which take a walk of the response, are not computed.
 */
public final class RequestTelemetry {

    private static final Logger LOG = LoggerFactory.getLogger(RequestTelemetry.class);

    static final AttributeKey<String> API = AttributeKey.stringKey("kafka.api");
    static final AttributeKey<Long> API_VERSION = AttributeKey.longKey("kafka.api.version");
    static final AttributeKey<String> TENANT = AttributeKey.stringKey("bulwark.tenant");
    static final AttributeKey<List<String>> TOPICS = AttributeKey.stringArrayKey("bulwark.topics");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("bulwark.outcome");
    static final AttributeKey<String> CLIENT_ID = AttributeKey.stringKey("kafka.client.id");
    static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");
    static final AttributeKey<String> LISTENER = AttributeKey.stringKey("bulwark.listener");

    /** Latency buckets, 0.5 ms to 30 s: produce with acks=all waits for an fsync, fetch long-polls up to its max wait. */
    private static final Duration[] LATENCY_BUCKETS = {
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(30)};

    private final Tracer tracer;
    private final MeterRegistry registry;
    private final TenantStore tenants;
    private final TopicCatalog topics;
    private final Timer[] latencyByApi = new Timer[ApiKeys.values().length];
    private final Map<String, Timer> throttleByTenant = new ConcurrentHashMap<>();

    public RequestTelemetry(Tracer tracer, MeterRegistry registry, TenantStore tenants, TopicCatalog topics) {
        this.tracer = tracer;
        this.registry = registry;
        this.tenants = tenants;
        this.topics = topics;
    }

    /** Starts the span of {@code request}, as it enters the pipeline; a no-op one unless tracing is on. */
    public Span start(Request request) {
        return tracer.spanBuilder("kafka " + request.apiKey().name)
                .setParent(Context.root())
                .setSpanKind(SpanKind.SERVER)
                .startSpan();
    }

    /**
     * Observes {@code request} until {@code reply} completes: its latency, the throttle its answer carries, its span.
     *
     * @param startedNanos when the request entered the pipeline ({@link System#nanoTime})
     * @param span         what {@link #start} returned for it
     */
    public CompletionStage<Reply> observe(Request request, long startedNanos, Span span, CompletionStage<Reply> reply) {
        return reply.whenComplete((answer, error) -> {
            latency(request.apiKey()).record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
            if (answer instanceof Reply.Respond respond) {
                int throttleMs = ThrottleTimeField.get(respond.body());
                if (throttleMs > 0) {
                    throttle(request.tenantId()).record(throttleMs, TimeUnit.MILLISECONDS);
                }
            }
            if (span.isRecording()) {
                try {
                    describe(span, request, answer, error);
                } catch (RuntimeException e) {
                    // A span must never cost the client its answer: this stage's failure would close the connection.
                    LOG.warn("describing the span of {} v{} failed", request.apiKey(), request.version(), e);
                }
            }
            span.end();
        });
    }

    /** Registered on an API's first request, so the scrape lists only APIs in use; a race registers it once. */
    private Timer latency(ApiKeys api) {
        Timer timer = latencyByApi[api.ordinal()];
        if (timer == null) {
            timer = Timer.builder("bulwark.request.latency")
                    .description("Time from a request's arrival in the pipeline to its answer")
                    .tag("api", api.name)
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry);
            latencyByApi[api.ordinal()] = timer;
        }
        return timer;
    }

    private Timer throttle(String tenantId) {
        Timer found = throttleByTenant.get(tenantId);
        return found != null ? found : throttleByTenant.computeIfAbsent(tenantId, id ->
                Timer.builder("bulwark.throttle.time")
                        .description("Throttle time the broker's answers asked of a tenant's clients (quotas)")
                        .tag("tenant", TenantLabel.of(tenants, id))
                        .register(registry));
    }

    private void describe(Span span, Request request, Reply answer, Throwable error) {
        span.setAttribute(API, request.apiKey().name);
        span.setAttribute(API_VERSION, (long) request.version());
        span.setAttribute(TENANT, TenantLabel.of(tenants, request.tenantId()));
        span.setAttribute(CLIENT_ID, request.context().clientId());
        span.setAttribute(CLIENT_ADDRESS, request.context().clientAddress.getHostAddress());
        span.setAttribute(LISTENER, request.listener().name());
        List<String> named = RequestTopics.of(request, topics.forTenant(request.tenantId()));
        if (!named.isEmpty()) {
            span.setAttribute(TOPICS, named);
        }
        String outcome = error != null ? "failed: " + error
                : answer instanceof Reply.Respond respond ? ResponseOutcome.of(request, respond.body())
                : answer instanceof Reply.RespondAndClose closing ? ResponseOutcome.of(request, closing.body())
                : answer instanceof Reply.Close close ? "closed: " + close.reason()
                : "ok";
        span.setAttribute(OUTCOME, outcome);
        if (!"ok".equals(outcome)) {
            span.setStatus(StatusCode.ERROR, outcome);
        }
    }
}
