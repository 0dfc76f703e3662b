package dev.bulwark.gateway.cli;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.storage.LogManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TenantCommandTest {

    @TempDir
    Path path;

    private StoppedDataDir dataDir;

    @BeforeEach
    void stoppedServer() throws Exception {
        dataDir = new StoppedDataDir(path);
    }

    @Test
    void createsAndListsTenantsAndAuditsTheCreationUnderTheOsUser() throws Exception {
        assertEquals(0, dataDir.run("tenant", "create", "acme"), dataDir.err());
        assertTrue(dataDir.out().contains("\tacme\tACTIVE"), dataDir.out());

        assertEquals(0, dataDir.run("tenant", "list"), dataDir.err());
        assertTrue(dataDir.out().contains("\tacme\tACTIVE"), dataDir.out());

        List<AuditEvent> audited = dataDir.audited();
        assertEquals(1, audited.size());
        assertEquals("tenant.create", audited.get(0).action());
        assertEquals("tenant:acme", audited.get(0).resource());
        assertEquals("os:" + System.getProperty("user.name"), audited.get(0).principal());
        assertEquals(Outcome.SUCCESS, audited.get(0).outcome());
    }

    @Test
    void theStoreRefusesADuplicateOrABadNameAndTheRefusalIsAudited() throws Exception {
        assertEquals(0, dataDir.run("tenant", "create", "acme"), dataDir.err());
        assertEquals(1, dataDir.run("tenant", "create", "acme"));
        assertTrue(dataDir.err().startsWith("failed: "), dataDir.err());
        assertEquals(1, dataDir.run("tenant", "create", "no spaces"));

        List<AuditEvent> audited = dataDir.audited();
        assertEquals(List.of(Outcome.SUCCESS, Outcome.FAILURE, Outcome.FAILURE),
                audited.stream().map(AuditEvent::outcome).toList());
    }

    @Test
    void refusesWhileAServerHoldsTheDirectoryAndMisuse() throws Exception {
        try (LogManager running = dataDir.openLogs()) {
            assertEquals(1, dataDir.run("tenant", "list"));
        }
        assertTrue(dataDir.err().contains("in use by a running server"), dataDir.err());
        assertFalse(dataDir.err().contains("\tat "), "no stack trace");

        assertEquals(2, dataDir.run("tenant"));
        assertEquals(2, dataDir.run("tenant", "create"));
        assertEquals(2, dataDir.run("tenant", "rename", "acme"));
    }
}
