package dev.bulwark.gateway.protocol;

import dev.bulwark.auth.AuthenticatedPrincipal;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;

/**
 * A parsed request and where it came from. Handlers must not keep references into the request's bytes (the records
 * of a produce) after {@link ApiHandler#handle} returns: the frame buffer is released then.
 *
 * @param context   Kafka's request context: header, connection id, client address, listener, principal, client
 *                  software
 * @param body      the parsed request, whose {@code data()} is the generated message
 * @param listener  the listener the request arrived on, for advertised addresses
 * @param principal who sent it, and so which tenant's namespace the request lives in
 */
public record Request(RequestContext context, AbstractRequest body, Listener listener,
                      AuthenticatedPrincipal principal) {

    public ApiKeys apiKey() {
        return context.header.apiKey();
    }

    public short version() {
        return context.header.apiVersion();
    }

    /** The tenant whose topics, groups and transactional ids the request may see. */
    public String tenantId() {
        return principal.tenantId();
    }

    @SuppressWarnings("unchecked")
    public <T extends ApiMessage> T data() {
        return (T) body.data();
    }

    /** The listener a request arrived on, as clients must reach it. */
    public record Listener(String name, String advertisedHost, int advertisedPort) {
    }
}
