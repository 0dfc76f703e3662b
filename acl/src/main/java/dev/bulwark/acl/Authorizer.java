package dev.bulwark.acl;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Kafka's authorization rules (those of its StandardAuthorizer), applied inside one tenant's ACLs:
 * <ul>
 *   <li>super users may do everything;</li>
 *   <li>an ACL applies when its pattern matches the resource (the literal name, the {@code *} wildcard, or a prefix),
 *       its principal is the subject's or {@code User:*}, and its host is the subject's or {@code *};</li>
 *   <li>a DENY for the operation (or for ALL) wins over any ALLOW;</li>
 *   <li>an ALLOW for the operation or ALL allows it, and so does one for an operation that implies it: READ, WRITE,
 *       DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS;</li>
 *   <li>when no ACL at all names the resource, the tenant's no-ACL rule decides (Kafka's
 *       {@code allow.everyone.if.no.acl.found}); otherwise the answer is deny.</li>
 * </ul>
 */
public final class Authorizer {

    private static final Set<AclOperation> IMPLY_DESCRIBE = Set.of(AclOperation.DESCRIBE, AclOperation.READ,
            AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);
    private static final Set<AclOperation> IMPLY_DESCRIBE_CONFIGS = Set.of(AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS);
    private static final String WILDCARD_HOST = "*";
    private static final String WILDCARD_USER = KafkaPrincipal.USER_TYPE + ":" + ResourcePattern.WILDCARD_RESOURCE;

    private final Supplier<AclIndex> acls;
    private final Predicate<String> allowEveryoneIfNoAcl;

    /**
     * @param acls                 the current ACLs (read on every decision, so changes apply at once)
     * @param allowEveryoneIfNoAcl per tenant id: whether a resource no ACL names is open to everyone
     */
    public Authorizer(Supplier<AclIndex> acls, Predicate<String> allowEveryoneIfNoAcl) {
        this.acls = acls;
        this.allowEveryoneIfNoAcl = allowEveryoneIfNoAcl;
    }

    public boolean authorize(Subject subject, AclOperation operation, ResourceType type, String name) {
        if (subject.superUser()) {
            return true;
        }
        List<AclBinding> matching = acls.get().matching(subject.tenantId(), type, name);
        if (matching.isEmpty()) {
            return allowEveryoneIfNoAcl.test(subject.tenantId());
        }
        boolean allowed = false;
        for (AclBinding binding : matching) {
            AccessControlEntry entry = binding.entry();
            if (!appliesTo(entry, subject)) {
                continue;
            }
            if (entry.permissionType() == AclPermissionType.DENY) {
                if (entry.operation() == AclOperation.ALL || entry.operation() == operation) {
                    return false;
                }
            } else if (!allowed && allows(entry.operation(), operation)) {
                allowed = true;
            }
        }
        return allowed;
    }

    /**
     * Whether the subject may do {@code operation} on some resource of {@code type}, as Kafka's
     * {@code authorizeByResourceType} decides (an idempotent producer needs WRITE on any topic): some ALLOW applies
     * that no DENY cancels; a DENY on the {@code *} wildcard, or on a prefix or literal name equal to that ALLOW's,
     * cancels it. With no ACL of the type at all, the tenant's no-ACL rule decides.
     */
    public boolean authorizeAny(Subject subject, AclOperation operation, ResourceType type) {
        if (subject.superUser()) {
            return true;
        }
        List<AclBinding> ofType = acls.get().ofType(subject.tenantId(), type);
        if (ofType.isEmpty()) {
            return allowEveryoneIfNoAcl.test(subject.tenantId());
        }
        for (AclBinding binding : ofType) {
            AccessControlEntry entry = binding.entry();
            if (entry.permissionType() == AclPermissionType.ALLOW && appliesTo(entry, subject)
                    && allows(entry.operation(), operation) && !denied(ofType, subject, operation, binding.pattern())) {
                return true;
            }
        }
        return false;
    }

    private static boolean denied(List<AclBinding> ofType, Subject subject, AclOperation operation,
                                  ResourcePattern allowed) {
        for (AclBinding binding : ofType) {
            AccessControlEntry entry = binding.entry();
            if (entry.permissionType() != AclPermissionType.DENY || !appliesTo(entry, subject)
                    || (entry.operation() != AclOperation.ALL && entry.operation() != operation)) {
                continue;
            }
            ResourcePattern deny = binding.pattern();
            if (ResourcePattern.WILDCARD_RESOURCE.equals(deny.name()) && deny.patternType() == PatternType.LITERAL) {
                return true;
            }
            if (deny.patternType() == PatternType.PREFIXED && allowed.name().startsWith(deny.name())) {
                return true;
            }
            if (deny.equals(allowed)) {
                return true;
            }
        }
        return false;
    }

    private static boolean appliesTo(AccessControlEntry entry, Subject subject) {
        boolean principal = entry.principal().equals(subject.principal()) || WILDCARD_USER.equals(entry.principal());
        boolean host = WILDCARD_HOST.equals(entry.host()) || entry.host().equals(subject.host());
        return principal && host;
    }

    private static boolean allows(AclOperation granted, AclOperation requested) {
        if (granted == AclOperation.ALL || granted == requested) {
            return true;
        }
        if (requested == AclOperation.DESCRIBE) {
            return IMPLY_DESCRIBE.contains(granted);
        }
        return requested == AclOperation.DESCRIBE_CONFIGS && IMPLY_DESCRIBE_CONFIGS.contains(granted);
    }
}
