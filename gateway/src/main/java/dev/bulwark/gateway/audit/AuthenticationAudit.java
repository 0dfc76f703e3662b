package dev.bulwark.gateway.audit;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.network.AuthenticationAttempt;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Records every authentication, successful or not, of the Kafka listeners (SASL, client certificates) and of the REST
 * API. A failure is recorded under the tenant its username names, when that tenant exists, so that the tenant's
 * auditors see attempts on its users; the event never holds the password or token tried.
 */
public final class AuthenticationAudit implements Consumer<AuthenticationAttempt> {

    static final String ACTION = "authenticate";

    private final AuditTrail trail;
    private final TenantStore tenants;
    private final Clock clock;

    public AuthenticationAudit(AuditTrail trail, TenantStore tenants, Clock clock) {
        this.trail = trail;
        this.tenants = tenants;
        this.clock = clock;
    }

    @Override
    public void accept(AuthenticationAttempt attempt) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("mechanism", attempt.mechanism());
        if (attempt.reauthentication()) {
            details.put("reauthentication", "true");
        }
        String tenantId;
        String principal;
        AuthenticatedPrincipal authenticated = attempt.principal();
        if (authenticated != null) {
            tenantId = authenticated.tenantId();
            principal = new UserName(authenticated.user(), tenants.byId(tenantId).map(Tenant::name).orElse(tenantId))
                    .saslUsername();
        } else {
            principal = attempt.attemptedUsername();
            tenantId = tenantOf(principal);
        }
        trail.record(new AuditEvent(clock.millis(), tenantId, principal, attempt.clientAddress(), null,
                attempt.listener(), ACTION, "listener:" + attempt.listener(),
                authenticated != null ? Outcome.SUCCESS : Outcome.FAILURE, attempt.failure(), details));
    }

    private String tenantOf(String username) {
        if (username == null) {
            return null;
        }
        try {
            return tenants.byName(UserName.parse(username).tenantName()).map(Tenant::id).orElse(null);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
