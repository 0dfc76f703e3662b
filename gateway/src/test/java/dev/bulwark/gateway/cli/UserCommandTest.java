package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.auth.store.UserStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UserCommandTest {

    @TempDir
    Path path;

    @TempDir
    Path secrets;

    private StoppedDataDir dataDir;
    private String tenantId;

    @BeforeEach
    void stoppedServerWithATenant() throws Exception {
        dataDir = new StoppedDataDir(path);
        assertEquals(0, dataDir.run("tenant", "create", "acme"), dataDir.err());
        tenantId = dataDir.out().split("\t")[0];
    }

    @Test
    void addsListsSetsThePasswordOfAndRemovesAUserAuditingEachChange() throws Exception {
        Path passwordFile = Files.writeString(secrets.resolve("alice.password"), "first-secret\n");
        assertEquals(0, dataDir.run("user", "add", "--tenant", "acme", "--role", "tenant-admin", "--password-file",
                passwordFile.toString(), "alice"), dataDir.err());
        assertEquals(UserStore.PasswordCheck.VALID, dataDir.users().verifyPassword(tenantId, "alice", "first-secret"));

        assertEquals(0, dataDir.run("user", "list", "--tenant", "acme"), dataDir.err());
        assertEquals("alice\ttenant-admin\tSCRAM-SHA-256,SCRAM-SHA-512", dataDir.out().strip());

        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("second-secret\n".getBytes(StandardCharsets.UTF_8)));
            assertEquals(0, dataDir.run("user", "set-password", "--tenant", "acme", "alice"), dataDir.err());
        } finally {
            System.setIn(stdin);
        }
        UserStore users = dataDir.users();
        assertEquals(UserStore.PasswordCheck.VALID, users.verifyPassword(tenantId, "alice", "second-secret"));
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD, users.verifyPassword(tenantId, "alice", "first-secret"));

        assertEquals(0, dataDir.run("user", "remove", "--tenant", "acme", "alice"), dataDir.err());
        assertEquals(0, dataDir.run("user", "list", "--tenant", "acme"), dataDir.err());
        assertEquals("", dataDir.out().strip());

        assertEquals(java.util.List.of("tenant.create", "user.create", "user.set-password", "user.delete"),
                dataDir.audited().stream().map(AuditEvent::action).toList());
        assertTrue(dataDir.audited().stream().noneMatch(event -> event.toString().contains("secret")),
                "no password in the audit trail");
    }

    @Test
    void refusesWhatTheRestApiRefuses() throws Exception {
        Path passwordFile = Files.writeString(secrets.resolve("p"), "a-password\n");
        assertEquals(1, dataDir.run("user", "add", "--tenant", "globex", "--password-file", passwordFile.toString(),
                "alice"));
        assertTrue(dataDir.err().contains("no tenant globex"), dataDir.err());
        assertEquals(2, dataDir.run("user", "add", "--tenant", "acme", "--role", "operator", "--password-file",
                passwordFile.toString(), "alice"));
        assertEquals(1, dataDir.run("user", "set-password", "--tenant", "acme", "--password-file",
                passwordFile.toString(), "nobody"));
        assertEquals(1, dataDir.run("user", "remove", "--tenant", "acme", "nobody"));
        assertEquals(2, dataDir.run("user", "list"), "--tenant is required");

        Path empty = Files.writeString(secrets.resolve("empty"), "");
        assertEquals(2, dataDir.run("user", "add", "--tenant", "acme", "--password-file", empty.toString(),
                "alice"), "no password");
    }
}
