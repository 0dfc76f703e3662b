package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.TenantAcl;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

import java.util.Optional;

/**
 * Which tenant's ACLs an ACL request means, and how ACLs are shown to the principal asking. ACLs are kept per tenant,
 * with principals named inside it ({@code User:alice}). A principal names another tenant with the SASL suffix
 * ({@code User:alice@acme}, {@code User:*@acme}); without a suffix it is of the caller's own tenant. Operators manage
 * and see every tenant's ACLs, which they are shown with the suffix when not of their own tenant; everyone else only
 * ever sees and touches its own tenant's ACLs, shown without one, and naming another tenant finds nothing (an ACL
 * cannot be created there), whether that tenant exists or not.
 */
final class AclScope {

    private static final String USER_PREFIX = KafkaPrincipal.USER_TYPE + ":";

    private final TenantStore tenants;

    AclScope(TenantStore tenants) {
        this.tenants = tenants;
    }

    /** A principal string resolved: the tenant it belongs to and its name inside it. */
    record Resolved(String tenantId, String principal) {
    }

    /**
     * The tenant and in-tenant principal {@code principal} (as a client wrote it) names for {@code caller}; empty when
     * it names a tenant the caller may not manage or that does not exist.
     *
     * @throws IllegalArgumentException when it is not a {@code User:} principal
     */
    Optional<Resolved> resolve(AuthenticatedPrincipal caller, String principal) {
        if (principal == null || !principal.startsWith(USER_PREFIX) || principal.length() == USER_PREFIX.length()) {
            throw new IllegalArgumentException("Bulwark's ACLs name principals as User:<name>, not '" + principal + "'");
        }
        String name = principal.substring(USER_PREFIX.length());
        int at = name.lastIndexOf('@');
        if (at < 0) {
            return Optional.of(new Resolved(caller.tenantId(), principal));
        }
        Optional<Tenant> tenant = tenants.byName(name.substring(at + 1));
        if (tenant.isEmpty() || (!caller.isOperator() && !tenant.get().id().equals(caller.tenantId()))) {
            return Optional.empty();
        }
        return Optional.of(new Resolved(tenant.get().id(), USER_PREFIX + name.substring(0, at)));
    }

    /** Whether the caller may see and manage ACLs of {@code tenantId}. */
    boolean manages(AuthenticatedPrincipal caller, String tenantId) {
        return caller.isOperator() || caller.tenantId().equals(tenantId);
    }

    /** The ACL as {@code caller} is shown it: its principal with the tenant's suffix when of another tenant. */
    AclBinding display(AuthenticatedPrincipal caller, TenantAcl acl) {
        if (acl.tenantId().equals(caller.tenantId())) {
            return acl.binding();
        }
        AccessControlEntry entry = acl.binding().entry();
        String tenantName = tenants.byId(acl.tenantId()).map(Tenant::name).orElse(acl.tenantId());
        return new AclBinding(acl.binding().pattern(), new AccessControlEntry(entry.principal() + "@" + tenantName,
                entry.host(), entry.operation(), entry.permissionType()));
    }

    /**
     * Whether {@code filter}, as the caller wrote it, selects {@code acl}: matched against the ACL as the caller is
     * shown it, with a principal the caller wrote with its own tenant's suffix read without it.
     */
    boolean selects(AuthenticatedPrincipal caller, AclBindingFilter filter, TenantAcl acl) {
        if (!manages(caller, acl.tenantId())) {
            return false;
        }
        return normalized(caller, filter).matches(display(caller, acl));
    }

    private AclBindingFilter normalized(AuthenticatedPrincipal caller, AclBindingFilter filter) {
        AccessControlEntryFilter entry = filter.entryFilter();
        String principal = entry.principal();
        String ownSuffix = "@" + tenants.byId(caller.tenantId()).map(Tenant::name).orElse(caller.tenantId());
        if (principal == null || !principal.endsWith(ownSuffix)) {
            return filter;
        }
        return new AclBindingFilter(filter.patternFilter(), new AccessControlEntryFilter(
                principal.substring(0, principal.length() - ownSuffix.length()), entry.host(), entry.operation(),
                entry.permissionType()));
    }
}
