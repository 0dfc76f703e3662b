package dev.bulwark.acl;

/**
 * Who asks, as the authorizer sees it.
 *
 * @param tenantId  the tenant whose ACLs apply (and whose names the request uses)
 * @param principal Kafka's principal string inside that tenant, {@code User:alice}
 * @param host      the client's address as ACL hosts are written ({@code 10.0.0.7}, {@code ::1})
 * @param superUser allowed everything in the tenant without ACLs: operators, and the tenant's own admins
 * @param auditor   an auditor: reads the audit trail of its tenant, as its ACLs grant, and nothing else
 */
public record Subject(String tenantId, String principal, String host, boolean superUser, boolean auditor) {

    /** Anyone but an auditor. */
    public Subject(String tenantId, String principal, String host, boolean superUser) {
        this(tenantId, principal, host, superUser, false);
    }
}
