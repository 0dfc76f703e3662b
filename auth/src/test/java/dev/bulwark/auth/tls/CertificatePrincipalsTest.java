package dev.bulwark.auth.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import javax.security.auth.x500.X500Principal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.tls.CertificatePrincipals.CertificatePrincipalException;

class CertificatePrincipalsTest {

    private static final String CN_AT_OU = "RULE:^CN=([^,]+),OU=([^,]+).*$/$1@$2/";

    @Test
    void defaultKeepsTheWholeDnInTheDefaultTenant() {
        CertificatePrincipals principals = new CertificatePrincipals(null);
        assertEquals(new UserName("CN=alice,OU=acme,O=Example", Tenant.DEFAULT_NAME),
                principals.userName("CN=alice,OU=acme,O=Example"));
        assertEquals(principals.userName("CN=x"), new CertificatePrincipals(" ").userName("CN=x"));
        assertEquals(principals.userName("CN=x"), new CertificatePrincipals("DEFAULT").userName("CN=x"));
    }

    @Test
    void aRuleMapsCnAndOuToUserAtTenant() {
        CertificatePrincipals principals = new CertificatePrincipals(CN_AT_OU);
        assertEquals(new UserName("alice", "acme"), principals.userName("CN=alice,OU=acme"));
        assertEquals(new UserName("alice", "acme"), principals.userName("CN=alice,OU=acme,O=Example,C=DE"));
    }

    @Test
    void rulesApplyInOrderWithCaseConversionAndFallBackToDefault() {
        CertificatePrincipals principals = new CertificatePrincipals(
                CN_AT_OU + ",RULE:^CN=([^,]+),O=Ops$/$1/L,DEFAULT");
        assertEquals(new UserName("bob", "payments"), principals.userName("CN=bob,OU=payments"));
        assertEquals(new UserName("carol", Tenant.DEFAULT_NAME), principals.userName("CN=CAROL,O=Ops"));
        assertEquals(new UserName("O=Other,CN=dave", Tenant.DEFAULT_NAME), principals.userName("O=Other,CN=dave"));
    }

    @Test
    void aDnNoRuleMatchesDoesNotAuthenticate() {
        CertificatePrincipals principals = new CertificatePrincipals(CN_AT_OU);
        CertificatePrincipalException e = assertThrows(CertificatePrincipalException.class,
                () -> principals.userName("O=Example,CN=mallory"));
        assertTrue(e.getMessage().contains("no ssl.principal.mapping.rules rule applies")
                && e.getMessage().contains("O=Example,CN=mallory"), e.getMessage());
    }

    @Test
    void namesThatAreNotUserOrUserAtTenantAreRefused() {
        CertificatePrincipals emptyResult = new CertificatePrincipals("RULE:^CN=([^,]*),.*$/$1/");
        assertThrows(CertificatePrincipalException.class, () -> emptyResult.userName("CN=,O=x"));

        CertificatePrincipals emptyTenant = new CertificatePrincipals("RULE:^CN=([^,]+),OU=([^,]*).*$/$1@$2/");
        assertThrows(CertificatePrincipalException.class, () -> emptyTenant.userName("CN=alice,OU="));

        CertificatePrincipalException email = assertThrows(CertificatePrincipalException.class,
                () -> new CertificatePrincipals(null).userName("EMAILADDRESS=alice@acme.example,CN=alice"));
        assertTrue(email.getMessage().contains("is not a tenant name"), email.getMessage());
    }

    @Test
    void badRulesAreRefusedWhenConfigured() {
        IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class,
                () -> new CertificatePrincipals("garbage"));
        assertTrue(garbage.getMessage().startsWith("ssl.principal.mapping.rules cannot be parsed"));
        assertThrows(IllegalArgumentException.class, () -> new CertificatePrincipals("RULE:^CN=(.*$/$1/"));
    }

    @Test
    void fromARealCertificateToAPrincipal(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.openOrCreate(dir, Clock.systemUTC());
        IssuedCertificate issued = ca.issueClientCertificate(new X500Principal("CN=alice,OU=acme,O=Example"),
                Duration.ofDays(1));
        UserName name = new CertificatePrincipals(CN_AT_OU).userName(issued.certificate());
        assertEquals(new UserName("alice", "acme"), name);
        assertEquals("alice@acme", name.saslUsername());
        AuthenticatedPrincipal principal = CertificatePrincipals.principal(name, "t-42");
        assertEquals(new AuthenticatedPrincipal("alice", "t-42", Role.MEMBER, "SSL", -1), principal);
    }
}
