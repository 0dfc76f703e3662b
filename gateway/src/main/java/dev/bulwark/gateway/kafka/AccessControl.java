package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.Authorizer;
import dev.bulwark.acl.Subject;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.utils.Utils;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The handlers' questions to the authorizer, asked for the principal a request came from, inside its tenant: may it do
 * this operation on this topic, group, transactional id or the cluster. Operators, tenant admins in their own tenant
 * (every request lives in its sender's tenant) and the principals {@code super.users} names are super users; everyone
 * else has what the tenant's ACLs grant.
 */
public final class AccessControl {

    /** Kafka's name of the one cluster resource. */
    public static final String CLUSTER_NAME = "kafka-cluster";

    private static final String USER_PREFIX = KafkaPrincipal.USER_TYPE + ":";

    /** Kafka's value for authorized operations that were not requested. */
    static final int OMITTED = Integer.MIN_VALUE;

    private static final List<AclOperation> TOPIC_OPERATIONS = List.of(AclOperation.READ, AclOperation.WRITE,
            AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);
    private static final List<AclOperation> GROUP_OPERATIONS = List.of(AclOperation.READ, AclOperation.DESCRIBE,
            AclOperation.DELETE);
    private static final List<AclOperation> CLUSTER_OPERATIONS = List.of(AclOperation.CREATE, AclOperation.ALTER,
            AclOperation.DESCRIBE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.CREATE_TOKENS,
            AclOperation.DESCRIBE_TOKENS);

    private final Authorizer authorizer;
    private final Set<String> superUsers;
    private final TenantStore tenants;

    /**
     * @param superUsers Kafka's {@code super.users}: {@code User:name} (default tenant) or {@code User:name@tenant},
     *                   separated by ';'
     */
    public AccessControl(Authorizer authorizer, String superUsers, TenantStore tenants) {
        this.authorizer = authorizer;
        this.tenants = tenants;
        Set<String> names = new HashSet<>();
        for (String entry : superUsers.split(";")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            if (!trimmed.startsWith(USER_PREFIX) || trimmed.length() == USER_PREFIX.length()) {
                throw new IllegalArgumentException("super.users names principals as User:name or User:name@tenant, "
                        + "not '" + trimmed + "'");
            }
            UserName name = UserName.parse(trimmed.substring(USER_PREFIX.length()));
            names.add(name.user() + "@" + name.tenantName());
        }
        this.superUsers = Set.copyOf(names);
    }

    /** The request's sender as the authorizer knows it. */
    public Subject subject(Request request) {
        AuthenticatedPrincipal principal = request.principal();
        boolean superUser = principal.role() == Role.OPERATOR || principal.role() == Role.TENANT_ADMIN
                || (!superUsers.isEmpty() && tenants.byId(principal.tenantId())
                .map(t -> superUsers.contains(principal.user() + "@" + t.name())).orElse(false));
        return new Subject(principal.tenantId(), USER_PREFIX + principal.user(),
                request.context().clientAddress.getHostAddress(), superUser, principal.role() == Role.AUDITOR);
    }

    public boolean topic(Request request, AclOperation operation, String topic) {
        return topic(subject(request), operation, topic);
    }

    /**
     * For a request that asks about many topics (Produce, Fetch): the sender's subject, built once.
     *
     * <p>The audit trail's topic ({@link Topics#AUDIT_TOPIC}) is read-only and for auditors alone: only an auditor may
     * read or describe it, and only as the tenant's ACLs grant; nobody, super users included, writes, deletes or
     * alters it. An auditor may touch no other topic.
     */
    public boolean topic(Subject subject, AclOperation operation, String topic) {
        if (Topics.AUDIT_TOPIC.equals(topic)) {
            return subject.auditor() && (operation == AclOperation.READ || operation == AclOperation.DESCRIBE)
                    && authorizer.authorize(subject, operation, ResourceType.TOPIC, topic);
        }
        return !subject.auditor() && authorizer.authorize(subject, operation, ResourceType.TOPIC, topic);
    }

    public boolean group(Request request, AclOperation operation, String group) {
        return authorizer.authorize(subject(request), operation, ResourceType.GROUP, group);
    }

    /**
     * Fails the whole request with GROUP_AUTHORIZATION_FAILED unless the sender may do {@code operation} on the group:
     * what Kafka answers for the group APIs that name one group.
     */
    public void requireGroup(Request request, AclOperation operation, String group) {
        if (!group(request, operation, group)) {
            throw new GroupAuthorizationException("not authorized to " + operation + " group " + group, group);
        }
    }

    public boolean transactionalId(Request request, AclOperation operation, String transactionalId) {
        return transactionalId(subject(request), operation, transactionalId);
    }

    /** For a request that asks about many transactional ids (ListTransactions): the sender's subject, built once. */
    public boolean transactionalId(Subject subject, AclOperation operation, String transactionalId) {
        return authorizer.authorize(subject, operation, ResourceType.TRANSACTIONAL_ID, transactionalId);
    }

    public boolean cluster(Request request, AclOperation operation) {
        return authorizer.authorize(subject(request), operation, ResourceType.CLUSTER, CLUSTER_NAME);
    }

    /** Whether the sender may do {@code operation} on some topic (what an idempotent producer needs, KIP-679). */
    public boolean anyTopic(Request request, AclOperation operation) {
        return authorizer.authorizeAny(subject(request), operation, ResourceType.TOPIC);
    }

    /** The authorized-operations bit field of Metadata and DescribeTopicPartitions for one topic. */
    int topicOperations(Request request, String topic) {
        // Through topic(...), so the bits show the audit topic's rules as every topic decision applies them.
        Subject subject = subject(request);
        return operations(TOPIC_OPERATIONS, operation -> topic(subject, operation, topic));
    }

    /** The authorized-operations bit field of DescribeGroups. */
    int groupOperations(Request request, String group) {
        Subject subject = subject(request);
        return operations(GROUP_OPERATIONS,
                operation -> authorizer.authorize(subject, operation, ResourceType.GROUP, group));
    }

    /** The authorized-operations bit field of DescribeCluster and old Metadata versions. */
    int clusterOperations(Request request) {
        Subject subject = subject(request);
        return operations(CLUSTER_OPERATIONS,
                operation -> authorizer.authorize(subject, operation, ResourceType.CLUSTER, CLUSTER_NAME));
    }

    private static int operations(List<AclOperation> candidates, Predicate<AclOperation> allowed) {
        Set<Byte> codes = new HashSet<>();
        for (AclOperation operation : candidates) {
            if (allowed.test(operation)) {
                codes.add(operation.code());
            }
        }
        return Utils.to32BitField(codes);
    }
}
