package dev.bulwark.acl;

import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable set of ACLs, indexed for the question the authorizer asks on every request: which ACLs of this tenant
 * apply to this resource. Literal names are looked up by name; prefixed patterns and the {@code *} wildcard are
 * scanned, which is cheap for the few of them a tenant has.
 */
public final class AclIndex {

    private final List<TenantAcl> all;
    private final Map<Key, List<AclBinding>> literal = new HashMap<>();
    private final Map<Key, List<AclBinding>> wildcard = new HashMap<>();
    private final Map<Key, List<AclBinding>> prefixed = new HashMap<>();
    private final Map<Key, List<AclBinding>> byType = new HashMap<>();

    private record Key(String tenantId, ResourceType type, String name) {
    }

    AclIndex(List<TenantAcl> acls) {
        this.all = List.copyOf(acls);
        for (TenantAcl acl : all) {
            ResourcePattern pattern = acl.binding().pattern();
            Key typeKey = new Key(acl.tenantId(), pattern.resourceType(), null);
            byType.computeIfAbsent(typeKey, k -> new ArrayList<>()).add(acl.binding());
            if (pattern.patternType() == PatternType.PREFIXED) {
                prefixed.computeIfAbsent(typeKey, k -> new ArrayList<>()).add(acl.binding());
            } else if (ResourcePattern.WILDCARD_RESOURCE.equals(pattern.name())) {
                wildcard.computeIfAbsent(typeKey, k -> new ArrayList<>()).add(acl.binding());
            } else {
                literal.computeIfAbsent(new Key(acl.tenantId(), pattern.resourceType(), pattern.name()),
                        k -> new ArrayList<>()).add(acl.binding());
            }
        }
    }

    /** Every ACL of every tenant, in creation order. */
    public List<TenantAcl> all() {
        return all;
    }

    /** The ACLs of {@code tenantId} whose pattern matches the resource: literal name, {@code *}, or a prefix of it. */
    List<AclBinding> matching(String tenantId, ResourceType type, String name) {
        Key typeKey = new Key(tenantId, type, null);
        List<AclBinding> exact = literal.getOrDefault(new Key(tenantId, type, name), List.of());
        List<AclBinding> any = wildcard.getOrDefault(typeKey, List.of());
        List<AclBinding> prefixes = prefixed.getOrDefault(typeKey, List.of());
        if (any.isEmpty() && prefixes.isEmpty()) {
            return exact;
        }
        List<AclBinding> found = new ArrayList<>(exact.size() + any.size() + prefixes.size());
        found.addAll(exact);
        found.addAll(any);
        for (AclBinding binding : prefixes) {
            if (name.startsWith(binding.pattern().name())) {
                found.add(binding);
            }
        }
        return found;
    }

    /** Every ACL of {@code tenantId} on resources of {@code type}. */
    List<AclBinding> ofType(String tenantId, ResourceType type) {
        return byType.getOrDefault(new Key(tenantId, type, null), List.of());
    }
}
