package dev.bulwark.gateway.rest;

import dev.bulwark.auth.AuthenticationFailures;
import dev.bulwark.auth.jwt.ValidatedToken;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.Security;
import dev.bulwark.gateway.config.BulwarkConfig;
import dev.bulwark.gateway.network.AuthenticationAttempt;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.Principal;
import java.time.Duration;

/**
 * Authenticates every request the REST API serves, before it is matched to a resource, so that an unknown path, a
 * wrong method and an encoded path are refused as a known one is. Health ({@code /q/health/*}) is served by its own
 * routes ahead of the REST API's and never gets here.
 *
 * <p>With {@code bulwark.rest.require-client-certificate}, a request that did not come over HTTPS with a verified
 * client certificate is refused (403) before its credentials are looked at.
 *
 * <p>A request with good credentials ({@link RestAuthenticator}) goes on with its {@link Caller} as the security
 * context's user principal. Any other gets 401 with {@code WWW-Authenticate} challenges and {@code {"error": ...}}.
 * A failed attempt is counted by source address and claimed username in the failure counts the SASL listeners use
 * too, logged with its reason, and answered after the delay those counts earn; a request without credentials is
 * answered at once and not counted, as it guesses nothing.
 *
 * <p>Threads: the filter runs on the event loop; the password derivation or token validation runs on a worker
 * thread; a delayed answer waits on Mutiny's timer, never on a thread.
 */
public class AuthenticationFilter {

    private static final Logger LOG = LoggerFactory.getLogger(AuthenticationFilter.class);
    private static final String REALM = "realm=\"bulwark\"";
    private static final String CLIENT_CERTIFICATE_REQUIRED =
            "this API requires HTTPS with a client certificate (mutual TLS)";

    @Inject
    BulwarkLifecycle lifecycle;

    @Inject
    BulwarkConfig config;

    @ServerRequestFilter(preMatching = true, priority = Priorities.AUTHENTICATION)
    public Uni<Response> authenticate(ContainerRequestContext request, HttpServerRequest http) {
        Security security = lifecycle.security().orElse(null);
        if (security == null) {
            return Uni.createFrom().item(RestErrors.response(Response.Status.SERVICE_UNAVAILABLE, "starting"));
        }
        if (config.rest().requireClientCertificate() && !presentedCertificate(http)) {
            return Uni.createFrom().item(RestErrors.response(Response.Status.FORBIDDEN, CLIENT_CERTIFICATE_REQUIRED));
        }
        boolean bearerAccepted = security.jwt().isPresent();
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null) {
            return Uni.createFrom().item(unauthorized("authentication required", bearerAccepted));
        }
        RestAuthenticator authenticator = new RestAuthenticator(security.tenants(), security.users(),
                security.jwt());
        String source = http.remoteAddress() == null ? "unknown" : http.remoteAddress().hostAddress();
        return Uni.createFrom().item(() -> authenticator.authenticate(header))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .onItem().transformToUni(result -> {
                    if (result instanceof RestAuthenticator.Authenticated authenticated) {
                        if (authenticated.claimedUsername() != null) {
                            security.failures().recordSuccess(authenticated.claimedUsername());
                        }
                        request.setSecurityContext(new CallerContext(authenticated.caller(), http.isSSL()));
                        return Uni.createFrom().nullItem();
                    }
                    RestAuthenticator.Refused refused = (RestAuthenticator.Refused) result;
                    security.attempts().accept(AuthenticationAttempt.failed(http.isSSL() ? "https" : "http", source,
                            header.regionMatches(true, 0, "Bearer ", 0, 7) ? "Bearer" : "Basic",
                            refused.claimedUsername(), refused.reason()));
                    return refuse(refused, security.failures(), source, bearerAccepted);
                });
    }

    private static Uni<Response> refuse(RestAuthenticator.Refused refused, AuthenticationFailures failures,
                                        String source, boolean bearerAccepted) {
        Duration delay = failures.recordFailure(source, refused.claimedUsername());
        LOG.warn("REST authentication failed for {} from {}: {}; answered after {} ms",
                refused.claimedUsername() == null ? "a client" : printable(refused.claimedUsername()), source,
                printable(refused.reason()), delay.toMillis());
        Uni<Response> answer = Uni.createFrom().item(unauthorized(refused.clientMessage(), bearerAccepted));
        return delay.isZero() ? answer : answer.onItem().delayIt().by(delay);
    }

    private static Response unauthorized(String message, boolean bearerAccepted) {
        Response.ResponseBuilder response = Response.status(Response.Status.UNAUTHORIZED)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(message))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Basic " + REALM);
        if (bearerAccepted) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer " + REALM);
        }
        return response.build();
    }

    /**
     * Whether the client presented a certificate in the TLS handshake, which verified it against the HTTP server's
     * trust store ({@code quarkus.http.ssl.client-auth=request} asks for one).
     */
    private static boolean presentedCertificate(HttpServerRequest http) {
        if (!http.isSSL()) {
            return false;
        }
        try {
            return !http.connection().peerCertificates().isEmpty();
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    /** A client's text with control characters replaced, so that it cannot forge log lines. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.toString();
    }

    /** The security context of an authenticated request. */
    private record CallerContext(Caller caller, boolean secure) implements SecurityContext {

        @Override
        public Principal getUserPrincipal() {
            return caller;
        }

        /** Role names as the REST API spells them: {@code operator}, {@code tenant-admin}, ... */
        @Override
        public boolean isUserInRole(String role) {
            return RoleNames.of(caller.role()).equals(role);
        }

        @Override
        public boolean isSecure() {
            return secure;
        }

        @Override
        public String getAuthenticationScheme() {
            return ValidatedToken.MECHANISM.equals(caller.principal().mechanism()) ? "Bearer" : BASIC_AUTH;
        }
    }
}
