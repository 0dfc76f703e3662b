package dev.bulwark.gateway.kafka;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.ResourceNotFoundException;

import java.util.Optional;

/**
 * Which user a name in a SCRAM credentials request means, for the principal asking, and who may ask. An operator
 * manages every tenant's users and names them as they log in ({@code alice@acme}, or {@code admin} in the default
 * tenant); a tenant-admin manages its own tenant's users, by their plain names, and never an operator; anyone else
 * manages none (CLUSTER_AUTHORIZATION_FAILED, as Kafka answers a principal without ALTER on the cluster).
 */
public final class ScramUserNames {

    /** A user in the user store. */
    record Target(String tenantId, String name) {
    }

    private final TenantStore tenants;
    private final UserStore users;

    public ScramUserNames(TenantStore tenants, UserStore users) {
        this.tenants = tenants;
        this.users = users;
    }

    static boolean mayManageUsers(AuthenticatedPrincipal caller) {
        return caller.role() == Role.OPERATOR || caller.role() == Role.TENANT_ADMIN;
    }

    /**
     * The user {@code requested} names for {@code caller}.
     *
     * @throws ClusterAuthorizationException when the caller may not manage that user
     * @throws ResourceNotFoundException     when an operator names a tenant that does not exist
     */
    Target resolve(AuthenticatedPrincipal caller, String requested) {
        if (!mayManageUsers(caller)) {
            throw notAuthorized();
        }
        UserName name = UserName.parse(requested);
        if (caller.role() == Role.OPERATOR) {
            Tenant tenant = tenants.byName(name.tenantName()).orElseThrow(() ->
                    new ResourceNotFoundException("No tenant named '" + name.tenantName() + "'"));
            return new Target(tenant.id(), name.user());
        }
        boolean ownTenant = requested.indexOf('@') < 0 || tenants.byName(name.tenantName())
                .map(t -> t.id().equals(caller.tenantId())).orElse(false);
        if (!ownTenant) {
            throw notAuthorized();
        }
        Target target = new Target(caller.tenantId(), name.user());
        Optional<User> existing = users.get(target.tenantId(), target.name());
        if (existing.isPresent() && existing.get().role() == Role.OPERATOR) {
            throw notAuthorized();
        }
        return target;
    }

    /** How {@code user} is named to {@code caller}: its SASL username for operators, its plain name in a tenant. */
    String display(AuthenticatedPrincipal caller, User user) {
        if (caller.role() != Role.OPERATOR) {
            return user.name();
        }
        String tenantName = tenants.byId(user.tenantId()).map(Tenant::name).orElse(user.tenantId());
        return new UserName(user.name(), tenantName).saslUsername();
    }

    private static ClusterAuthorizationException notAuthorized() {
        return new ClusterAuthorizationException("Not authorized to manage the credentials of this user");
    }
}
