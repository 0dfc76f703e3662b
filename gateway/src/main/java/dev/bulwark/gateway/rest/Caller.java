package dev.bulwark.gateway.rest;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;
import jakarta.ws.rs.core.SecurityContext;

import java.security.Principal;

/**
 * Who sent a REST request: the authenticated principal and its tenant's name. {@link AuthenticationFilter} makes it
 * the request's {@link SecurityContext#getUserPrincipal() user principal}; resources take it with {@link #of}.
 *
 * @param principal  the principal (user, tenant id, role, how it authenticated)
 * @param tenantName the name of its tenant
 */
public record Caller(AuthenticatedPrincipal principal, String tenantName) implements Principal {

    /**
     * The caller of the request whose security context this is.
     *
     * @throws IllegalStateException when the request was not authenticated, which the filter never lets happen: a
     *                               resource fails rather than serve an unknown caller
     */
    public static Caller of(SecurityContext security) {
        if (security != null && security.getUserPrincipal() instanceof Caller caller) {
            return caller;
        }
        throw new IllegalStateException("a REST request reached a resource without an authenticated caller");
    }

    /** The SASL username: {@code alice@acme}, or {@code alice} in the default tenant. */
    @Override
    public String getName() {
        return new UserName(principal.user(), tenantName).saslUsername();
    }

    public String user() {
        return principal.user();
    }

    public String tenantId() {
        return principal.tenantId();
    }

    public Role role() {
        return principal.role();
    }

    public boolean isOperator() {
        return principal.isOperator();
    }
}
