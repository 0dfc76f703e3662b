package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.TenantErasure;
import dev.bulwark.gateway.audit.AuditTrail;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MultivaluedMap;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import java.lang.reflect.Method;
import java.net.URI;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records in the audit trail what the REST API did: every call of an {@link Audited} method, whatever its outcome
 * (a success answered only once its entry is on disk), and every authenticated request refused with 403 (a denial).
 * The event's tenant is the tenant acted on (so its auditors see what operators did to it), its principal the caller,
 * its details the answer's top-level fields (the state a change left, never a password: no answer holds one).
 */
public class RestAuditFilter {

    private static final Pattern PARAMETER = Pattern.compile("\\{([a-z]+)}");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    BulwarkLifecycle lifecycle;

    @ServerResponseFilter
    public Uni<Void> record(ContainerRequestContext request, ContainerResponseContext response,
                            ResourceInfo resource, HttpServerRequest http) {
        Optional<AuditTrail> trail = lifecycle.audit();
        if (trail.isEmpty() || !(request.getSecurityContext().getUserPrincipal() instanceof Caller caller)) {
            return Uni.createFrom().voidItem();
        }
        Method method = resource == null ? null : resource.getResourceMethod();
        Audited audited = method == null ? null : method.getAnnotation(Audited.class);
        int status = response.getStatus();
        if (audited == null && status != 403) {
            return Uni.createFrom().voidItem();
        }
        Outcome outcome = status / 100 == 2 ? Outcome.SUCCESS : status == 403 ? Outcome.DENIED : Outcome.FAILURE;
        MultivaluedMap<String, String> parameters = request.getUriInfo().getPathParameters();
        String action = audited != null ? audited.action()
                : "http." + request.getMethod().toLowerCase(Locale.ROOT);
        String target = audited != null ? resource(audited.resource(), parameters, response)
                : "path:" + request.getUriInfo().getPath();
        String reason = outcome == Outcome.SUCCESS ? null
                : response.getEntity() instanceof ApiError error ? status + " " + error.error() : "HTTP " + status;
        Map<String, String> details = outcome == Outcome.SUCCESS ? details(response.getEntity()) : Map.of();
        String address = http.remoteAddress() == null ? null : http.remoteAddress().hostAddress();
        AuditEvent event = new AuditEvent(trail.get().clock().millis(), tenantId(caller, parameters, response),
                caller.getName(), address, request.getHeaderString(HttpHeaders.USER_AGENT),
                http.isSSL() ? "https" : "http", action, target, outcome, reason, details);
        if (outcome != Outcome.SUCCESS) {
            trail.get().record(event);
            return Uni.createFrom().voidItem();
        }
        // The change is made; its answer waits until the entry is durable (a failed entry is logged by the trail).
        return Uni.createFrom().completionStage(trail.get().record(event)).onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    private static String resource(String template, MultivaluedMap<String, String> parameters,
                                   ContainerResponseContext response) {
        Matcher matcher = PARAMETER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            String value = name.equals("location") ? locationName(response) : parameters.getFirst(name);
            matcher.appendReplacement(out, Matcher.quoteReplacement(value == null ? "?" : value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private static String locationName(ContainerResponseContext response) {
        URI location = response.getLocation();
        if (location == null || location.getPath() == null) {
            return null;
        }
        String path = location.getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The tenant acted on: the one the answer names, else the one the path names, else the caller's. */
    private String tenantId(Caller caller, MultivaluedMap<String, String> parameters,
                            ContainerResponseContext response) {
        Object entity = response.getEntity();
        if (entity instanceof TenantsResource.TenantView view) {
            return view.id();
        }
        if (entity instanceof TenantErasure.Erasure erasure) {
            return erasure.tenantId();
        }
        String named = parameters.getFirst("tenant") != null ? parameters.getFirst("tenant")
                : parameters.getFirst("name");
        if (named != null) {
            Optional<String> id = lifecycle.security().flatMap(s -> s.tenants().byName(named)).map(Tenant::id);
            if (id.isPresent()) {
                return id.get();
            }
        }
        return caller.tenantId();
    }

    /** The answer's top-level fields, nested ones as JSON. */
    private static Map<String, String> details(Object entity) {
        if (entity == null) {
            return Map.of();
        }
        JsonNode tree = JSON.valueToTree(entity);
        Map<String, String> details = new LinkedHashMap<>();
        if (tree.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = tree.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                details.put(field.getKey(), field.getValue().isValueNode() ? field.getValue().asText()
                        : field.getValue().toString());
            }
        }
        return details;
    }
}
