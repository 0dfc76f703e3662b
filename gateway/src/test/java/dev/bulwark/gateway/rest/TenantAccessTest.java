package dev.bulwark.gateway.rest;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.testing.TestLogs;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotFoundException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TenantAccessTest {

    @TempDir
    Path dir;
    TenantStore tenants;
    TenantAccess access;
    Tenant acme;
    Tenant globex;
    Tenant defaultTenant;

    @BeforeEach
    void tenants() throws Exception {
        tenants = TenantStore.open(dir, TestLogs.sealedFiles(dir), Clock.systemUTC());
        access = new TenantAccess(tenants);
        acme = tenants.create("acme");
        globex = tenants.create("globex");
        defaultTenant = tenants.byId(Tenant.DEFAULT_ID).orElseThrow();
    }

    private static Caller caller(String user, Tenant tenant, Role role) {
        return new Caller(new AuthenticatedPrincipal(user, tenant.id(), role, "PLAIN", -1), tenant.name());
    }

    private static void forbidden(String message, Executable act) {
        assertEquals(message, assertThrows(ForbiddenException.class, act).getMessage());
    }

    @Test
    void anOperatorMayDoAnythingToAnyTenantAndLearnsWhichDoNotExist() {
        Caller root = caller("root", defaultTenant, Role.OPERATOR);
        assertDoesNotThrow(() -> access.requireOperator(root, "create tenants"));
        for (Tenant tenant : List.of(acme, globex, defaultTenant)) {
            assertEquals(tenant, access.toRead(root, tenant.name()));
            assertEquals(tenant, access.toManageUsers(root, tenant.name()));
            assertEquals(tenant, access.toReadGroups(root, tenant.name()));
        }
        assertThrows(NotFoundException.class, () -> access.toRead(root, "nowhere"));
        assertThrows(NotFoundException.class, () -> access.toManageUsers(root, "nowhere"));
        assertThrows(NotFoundException.class, () -> access.toReadGroups(root, "nowhere"));
    }

    @Test
    void onlyOperatorsMayDoOperatorActs() {
        for (Role role : List.of(Role.TENANT_ADMIN, Role.MEMBER, Role.AUDITOR)) {
            forbidden("only operators may create tenants",
                    () -> access.requireOperator(caller("someone", acme, role), "create tenants"));
        }
    }

    @Test
    void aTenantAdminManagesItsOwnTenantOnly() {
        Caller bob = caller("bob", acme, Role.TENANT_ADMIN);
        assertEquals(acme, access.toManageUsers(bob, "acme"));
        assertEquals(acme, access.toReadGroups(bob, "acme"));
        assertEquals(acme, access.toRead(bob, "acme"));
        forbidden(TenantAccess.NOT_USER_ADMIN, () -> access.toManageUsers(bob, "globex"));
        forbidden(TenantAccess.NOT_GROUP_READER, () -> access.toReadGroups(bob, "globex"));
        forbidden(TenantAccess.NOT_OWN_TENANT, () -> access.toRead(bob, "globex"));
    }

    @Test
    void aNonOperatorGetsTheSameRefusalWhetherOrNotTheOtherTenantExists() {
        for (Role role : List.of(Role.TENANT_ADMIN, Role.MEMBER, Role.AUDITOR)) {
            Caller caller = caller("someone", acme, role);
            for (String other : List.of("globex", "nowhere", "default")) {
                forbidden(TenantAccess.NOT_USER_ADMIN, () -> access.toManageUsers(caller, other));
                forbidden(TenantAccess.NOT_OWN_TENANT, () -> access.toRead(caller, other));
                forbidden(TenantAccess.NOT_GROUP_READER, () -> access.toReadGroups(caller, other));
            }
        }
    }

    @Test
    void membersAndAuditorsReadTheirTenantButManageNoUsers() {
        Caller alice = caller("alice", acme, Role.MEMBER);
        assertEquals(acme, access.toRead(alice, "acme"));
        assertEquals(acme, access.toReadGroups(alice, "acme"));
        forbidden(TenantAccess.NOT_USER_ADMIN, () -> access.toManageUsers(alice, "acme"));

        Caller audrey = caller("audrey", acme, Role.AUDITOR);
        assertEquals(acme, access.toRead(audrey, "acme"));
        forbidden(TenantAccess.NOT_GROUP_READER, () -> access.toReadGroups(audrey, "acme"));
        forbidden(TenantAccess.NOT_USER_ADMIN, () -> access.toManageUsers(audrey, "acme"));
    }

    @Test
    void theDefaultTenantsUsersAreManagedByOperatorsOnly() {
        Caller defaultAdmin = caller("admin", defaultTenant, Role.TENANT_ADMIN);
        forbidden(TenantAccess.NOT_USER_ADMIN, () -> access.toManageUsers(defaultAdmin, Tenant.DEFAULT_NAME));
        assertEquals(defaultTenant, access.toReadGroups(defaultAdmin, Tenant.DEFAULT_NAME));
    }

    @Test
    void nobodyDeletesTheirOwnAccount() {
        Caller bob = caller("bob", acme, Role.TENANT_ADMIN);
        ClientErrorException e = assertThrows(ClientErrorException.class,
                () -> access.checkDeletable(bob, acme, "bob"));
        assertEquals(409, e.getResponse().getStatus());
        assertDoesNotThrow(() -> access.checkDeletable(bob, acme, "alice"));

        Caller root = caller("root", defaultTenant, Role.OPERATOR);
        assertThrows(ClientErrorException.class, () -> access.checkDeletable(root, defaultTenant, "root"));
        assertDoesNotThrow(() -> access.checkDeletable(root, acme, "root"), "root of acme is someone else");
    }
}
