package dev.bulwark.acl;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.apache.kafka.common.acl.AclOperation.ALL;
import static org.apache.kafka.common.acl.AclOperation.ALTER;
import static org.apache.kafka.common.acl.AclOperation.ALTER_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DELETE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.acl.AclPermissionType.ALLOW;
import static org.apache.kafka.common.acl.AclPermissionType.DENY;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthorizerTest {

    private static final String ACME = "acme-id";
    private static final String GLOBEX = "globex-id";
    private static final Subject ALICE = new Subject(ACME, "User:alice", "10.0.0.1", false);
    private static final Subject BOB = new Subject(ACME, "User:bob", "10.0.0.2", false);

    private final List<TenantAcl> acls = new ArrayList<>();
    private Set<String> openTenants = Set.of();
    private final Authorizer authorizer = new Authorizer(() -> new AclIndex(acls), id -> openTenants.contains(id));

    private void acl(String tenant, ResourceType type, String name, PatternType pattern, String principal, String host,
                     AclOperation op, AclPermissionType permission) {
        acls.add(new TenantAcl(tenant, new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, host, op, permission))));
    }

    private void allow(String name, String principal, AclOperation op) {
        acl(ACME, TOPIC, name, PatternType.LITERAL, principal, "*", op, ALLOW);
    }

    @Test
    void noAclMeansDenyUnlessTheTenantAllowsEveryone() {
        assertFalse(authorizer.authorize(ALICE, READ, TOPIC, "payments"));
        openTenants = Set.of(ACME);
        assertTrue(authorizer.authorize(ALICE, READ, TOPIC, "payments"));
        allow("payments", "User:bob", READ);
        assertFalse(authorizer.authorize(ALICE, READ, TOPIC, "payments"), "an ACL on the resource ends the open rule");
    }

    @Test
    void superUsersNeedNoAcl() {
        assertTrue(authorizer.authorize(new Subject(ACME, "User:admin", "h", true), DELETE, TOPIC, "payments"));
    }

    @Test
    void literalPrefixedAndWildcardPatternsMatchAsInKafka() {
        allow("payments", "User:alice", WRITE);
        acl(ACME, TOPIC, "audit-", PatternType.PREFIXED, "User:alice", "*", READ, ALLOW);
        acl(ACME, TOPIC, "*", PatternType.LITERAL, "User:bob", "*", READ, ALLOW);
        assertTrue(authorizer.authorize(ALICE, WRITE, TOPIC, "payments"));
        assertFalse(authorizer.authorize(ALICE, WRITE, TOPIC, "payments2"));
        assertTrue(authorizer.authorize(ALICE, READ, TOPIC, "audit-2026"));
        assertFalse(authorizer.authorize(ALICE, READ, TOPIC, "audi"));
        assertTrue(authorizer.authorize(BOB, READ, TOPIC, "anything"));
        assertFalse(authorizer.authorize(BOB, WRITE, TOPIC, "anything"));
    }

    @Test
    void operationsImplyDescribeAndAlterConfigsImpliesDescribeConfigs() {
        for (AclOperation op : List.of(READ, WRITE, DELETE, ALTER)) {
            acls.clear();
            allow("t", "User:alice", op);
            assertTrue(authorizer.authorize(ALICE, DESCRIBE, TOPIC, "t"), op + " implies DESCRIBE");
        }
        acls.clear();
        allow("t", "User:alice", CREATE);
        assertFalse(authorizer.authorize(ALICE, DESCRIBE, TOPIC, "t"), "CREATE does not imply DESCRIBE");
        acls.clear();
        allow("t", "User:alice", ALTER_CONFIGS);
        assertTrue(authorizer.authorize(ALICE, DESCRIBE_CONFIGS, TOPIC, "t"));
        assertFalse(authorizer.authorize(ALICE, DESCRIBE, TOPIC, "t"));
        acls.clear();
        allow("t", "User:alice", ALL);
        assertTrue(authorizer.authorize(ALICE, DELETE, TOPIC, "t"));
    }

    @Test
    void denyWinsOverAllowAndOnlyForItsOperation() {
        allow("payments", "User:*", ALL);
        acl(ACME, TOPIC, "pay", PatternType.PREFIXED, "User:alice", "*", WRITE, DENY);
        assertFalse(authorizer.authorize(ALICE, WRITE, TOPIC, "payments"));
        assertTrue(authorizer.authorize(ALICE, READ, TOPIC, "payments"));
        assertTrue(authorizer.authorize(BOB, WRITE, TOPIC, "payments"));
        acl(ACME, TOPIC, "payments", PatternType.LITERAL, "User:bob", "*", ALL, DENY);
        assertFalse(authorizer.authorize(BOB, READ, TOPIC, "payments"));
    }

    @Test
    void hostsMatchExactlyOrByWildcard() {
        acl(ACME, GROUP, "etl", PatternType.LITERAL, "User:alice", "10.0.0.1", READ, ALLOW);
        assertTrue(authorizer.authorize(ALICE, READ, GROUP, "etl"));
        assertFalse(authorizer.authorize(new Subject(ACME, "User:alice", "10.0.0.9", false), READ, GROUP, "etl"));
    }

    @Test
    void anotherTenantsAclsNeverApply() {
        acl(GLOBEX, TOPIC, "payments", PatternType.LITERAL, "User:alice", "*", ALL, ALLOW);
        assertFalse(authorizer.authorize(ALICE, READ, TOPIC, "payments"));
    }

    @Test
    void anyResourceOfATypeIsAllowedByAnAllowNoDenyCancels() {
        acl(ACME, GROUP, "g", PatternType.LITERAL, "User:alice", "*", READ, ALLOW);
        assertFalse(authorizer.authorizeAny(ALICE, WRITE, TOPIC), "no topic ACL and a closed tenant");
        allow("orders", "User:alice", WRITE);
        assertTrue(authorizer.authorizeAny(ALICE, WRITE, TOPIC));
        acl(ACME, TOPIC, "ord", PatternType.PREFIXED, "User:alice", "*", WRITE, DENY);
        assertFalse(authorizer.authorizeAny(ALICE, WRITE, TOPIC));
        acls.clear();
        allow("orders", "User:alice", WRITE);
        acl(ACME, TOPIC, "*", PatternType.LITERAL, "User:*", "*", ALL, DENY);
        assertFalse(authorizer.authorizeAny(ALICE, WRITE, TOPIC));
    }
}
