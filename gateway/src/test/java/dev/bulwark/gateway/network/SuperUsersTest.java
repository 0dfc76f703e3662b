package dev.bulwark.gateway.network;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.Authorizer;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.kafka.AccessControl;
import dev.bulwark.gateway.testing.TestLogs;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code super.users}, as Kafka reads it, with a tenant suffix for principals outside the default tenant. */
class SuperUsersTest {

    @TempDir
    Path dir;

    @Test
    void theNamedPrincipalsAreSuperUsersInTheirOwnTenantOnly() throws IOException {
        try (BrokerParts broker = new BrokerParts(dir)) {
            String acme = broker.security.tenants().create("acme").id();
            String globex = broker.security.tenants().create("globex").id();
            AccessControl access = new AccessControl(new Authorizer(AclStore.open(dir.resolve("acls"), TestLogs.sealedFiles(dir))::index,
                    tenant -> false), " User:bot@acme ; User:root", broker.security.tenants());

            assertTrue(may(broker, access, member("bot", acme)));
            assertFalse(may(broker, access, member("bot", globex)));
            assertTrue(may(broker, access, member("root", Tenant.DEFAULT_ID)));
            assertFalse(may(broker, access, member("root", acme)));
            assertFalse(may(broker, access, member("alice", acme)));
        }
    }

    @Test
    void anEntryThatIsNotAUserPrincipalStopsTheStart() throws IOException {
        try (BrokerParts broker = new BrokerParts(dir)) {
            assertThrows(IllegalArgumentException.class, () -> new AccessControl(new Authorizer(
                    AclStore.open(dir.resolve("acls"), TestLogs.sealedFiles(dir))::index, tenant -> false), "Group:ops",
                    broker.security.tenants()));
        }
    }

    private static AuthenticatedPrincipal member(String user, String tenantId) {
        return new AuthenticatedPrincipal(user, tenantId, Role.MEMBER, "SSL", -1);
    }

    private static boolean may(BrokerParts broker, AccessControl access, AuthenticatedPrincipal who) {
        return access.topic(broker.request(ApiKeys.METADATA, (short) 12, new MetadataRequestData(), who),
                AclOperation.DELETE, "orders");
    }
}
