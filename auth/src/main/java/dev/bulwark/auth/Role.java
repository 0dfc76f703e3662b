package dev.bulwark.auth;

/** What a principal is, in Bulwark's role model (DESIGN.md, "Roles"). */
public enum Role {
    /** Super user across tenants: creates tenants, rotates keys, sees everything. */
    OPERATOR,
    /** Super user inside its own tenant: its topics, groups, transactional ids, users, ACLs and quotas. */
    TENANT_ADMIN,
    /** Only what the tenant's ACLs grant. */
    MEMBER,
    /** Reads the audit trail of its scope, nothing else. */
    AUDITOR
}
