package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;

/**
 * Who may do what to which tenant through the REST API (DESIGN.md, "Roles"):
 *
 * <table>
 *   <tr><th>act</th><th>operator</th><th>tenant-admin</th><th>member</th><th>auditor</th></tr>
 *   <tr><td>create tenants, change their state, limits and no-ACL rule</td><td>yes</td><td>no</td><td>no</td><td>no</td></tr>
 *   <tr><td>read a tenant</td><td>any</td><td>its own</td><td>its own</td><td>its own</td></tr>
 *   <tr><td>list, create and delete users</td><td>any tenant</td><td>its own, but not the default tenant</td>
 *       <td>no</td><td>no</td></tr>
 *   <tr><td>read consumer groups</td><td>any tenant</td><td>its own</td><td>its own</td><td>no</td></tr>
 * </table>
 *
 * <p>The default tenant's users are the operators and the cluster-wide auditors, so only operators manage them, even
 * when a token makes someone a tenant-admin of the default tenant. Nobody deletes their own account through the API:
 * an operator or another tenant-admin does that, so that a script cannot lock its tenant's last admin out by mistake.
 *
 * <p>A non-operator is refused before the named tenant is looked up, with a message that does not name it, so the
 * answer is the same whether or not that tenant exists: only operators learn which tenants exist (an operator asking
 * for a tenant that does not exist gets 404).
 */
final class TenantAccess {

    static final String NOT_OWN_TENANT = "a principal may read only its own tenant";
    static final String NOT_USER_ADMIN = "only an operator, or a tenant-admin of this tenant, may manage its users";
    static final String NOT_GROUP_READER =
            "only an operator, or a tenant-admin or member of this tenant, may read its consumer groups";

    private final TenantStore tenants;

    TenantAccess(TenantStore tenants) {
        this.tenants = tenants;
    }

    /** Acts only operators may do; {@code act} completes "only operators may ...". */
    void requireOperator(Caller caller, String act) {
        if (!caller.isOperator()) {
            throw new ForbiddenException("only operators may " + act);
        }
    }

    /** The tenant named {@code name}, when the caller may read it. */
    Tenant toRead(Caller caller, String name) {
        return caller.isOperator() ? existing(name) : own(caller, name, true, NOT_OWN_TENANT);
    }

    /** The tenant named {@code name}, when the caller may list, create and delete its users. */
    Tenant toManageUsers(Caller caller, String name) {
        if (caller.isOperator()) {
            return existing(name);
        }
        boolean admin = caller.role() == Role.TENANT_ADMIN && !Tenant.DEFAULT_NAME.equals(caller.tenantName());
        return own(caller, name, admin, NOT_USER_ADMIN);
    }

    /** The tenant named {@code name}, when the caller may read its consumer groups. */
    Tenant toReadGroups(Caller caller, String name) {
        if (caller.isOperator()) {
            return existing(name);
        }
        boolean reader = caller.role() == Role.TENANT_ADMIN || caller.role() == Role.MEMBER;
        return own(caller, name, reader, NOT_GROUP_READER);
    }

    /** Refuses deleting the caller's own account (409); the caller may otherwise manage the tenant's users. */
    void checkDeletable(Caller caller, Tenant tenant, String user) {
        if (caller.tenantId().equals(tenant.id()) && caller.user().equals(user)) {
            throw new ClientErrorException("a principal cannot delete its own account; an operator or another "
                    + "tenant-admin can", Response.Status.CONFLICT);
        }
    }

    private Tenant own(Caller caller, String name, boolean allowed, String refusal) {
        if (!allowed || !caller.tenantName().equals(name)) {
            throw new ForbiddenException(refusal);
        }
        return tenants.byId(caller.tenantId()).orElseThrow(() -> new ForbiddenException(refusal));
    }

    private Tenant existing(String name) {
        return tenants.byName(name).orElseThrow(() -> new NotFoundException("no tenant " + name));
    }
}
