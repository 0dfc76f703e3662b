package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.EventFilter;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.testing.TestLogs;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Who may query the audit trail, and what each query parameter means; the CSV form of an event. */
class AuditQueryTest {

    @TempDir
    Path dir;
    TenantStore tenants;
    Tenant acme;
    Tenant globex;
    Caller auditor;
    Caller acmeAuditor;

    @BeforeEach
    void tenants() throws Exception {
        tenants = TenantStore.open(dir, TestLogs.sealedFiles(dir), Clock.systemUTC());
        acme = tenants.create("acme");
        globex = tenants.create("globex");
        auditor = caller("audit", tenants.byId(Tenant.DEFAULT_ID).orElseThrow(), Role.AUDITOR);
        acmeAuditor = caller("audit", acme, Role.AUDITOR);
    }

    private static Caller caller(String user, Tenant tenant, Role role) {
        return new Caller(new AuthenticatedPrincipal(user, tenant.id(), role, "PLAIN", -1), tenant.name());
    }

    private AuditQuery parse(Caller caller, String... keyValues) {
        return parse(caller, List.of(), keyValues);
    }

    private AuditQuery parse(Caller caller, List<MediaType> accept, String... keyValues) {
        Map<String, List<String>> parameters = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            parameters.computeIfAbsent(keyValues[i], k -> new java.util.ArrayList<>()).add(keyValues[i + 1]);
        }
        return AuditQuery.parse(parameters, accept, caller, tenants);
    }

    @Test
    void onlyAuditorsReadTheTrail() {
        for (Role role : List.of(Role.OPERATOR, Role.TENANT_ADMIN, Role.MEMBER)) {
            Caller caller = caller("someone", tenants.byId(Tenant.DEFAULT_ID).orElseThrow(), role);
            assertEquals(AuditQuery.NOT_AUDITOR, assertThrows(ForbiddenException.class, () -> parse(caller))
                    .getMessage());
            assertThrows(ForbiddenException.class, () -> parse(caller("someone", acme, role), "tenant", "acme"));
        }
    }

    @Test
    void theDefaultTenantsAuditorSeesEveryTenantAndFiltersByNameOrId() {
        assertEquals(EventFilter.ALL, parse(auditor).filter());
        assertEquals(acme.id(), parse(auditor, "tenant", "acme").filter().tenantId());
        assertEquals("gone-id", parse(auditor, "tenantId", "gone-id").filter().tenantId(), "a deleted tenant's id");
        assertThrows(NotFoundException.class, () -> parse(auditor, "tenant", "nowhere"));
        assertThrows(BadRequestException.class, () -> parse(auditor, "tenant", "acme", "tenantId", acme.id()));
    }

    @Test
    void aTenantsAuditorSeesItsTenantOnlyWhateverItNames() {
        assertEquals(acme.id(), parse(acmeAuditor).filter().tenantId(), "scoped without asking");
        assertEquals(acme.id(), parse(acmeAuditor, "tenant", "acme").filter().tenantId());
        assertEquals(acme.id(), parse(acmeAuditor, "tenantId", acme.id()).filter().tenantId());
        for (String[] other : new String[][] {{"tenant", "globex"}, {"tenantId", globex.id()},
            {"tenant", "default"}, {"tenant", "nowhere"}}) {
            assertEquals(AuditQuery.NOT_OWN_TENANT, assertThrows(ForbiddenException.class,
                    () -> parse(acmeAuditor, other)).getMessage(), "the same answer whether or not it exists");
        }
    }

    @Test
    void everyParameterIsChecked() {
        AuditQuery query = parse(auditor, "principal", "alice", "action", "acl.add", "resource", "topic:t",
                "outcome", "Denied", "from", "2025-05-01T00:00:00Z", "to", "2025-05-02T02:00:00+02:00", "limit", "7");
        assertEquals(new EventFilter(null, "alice", "acl.add", "topic:t", Outcome.DENIED,
                Instant.parse("2025-05-01T00:00:00Z").toEpochMilli(),
                Instant.parse("2025-05-02T00:00:00Z").toEpochMilli()), query.filter());
        assertEquals(7, query.limit());
        assertEquals(AuditQuery.DEFAULT_LIMIT, parse(auditor).limit());
        for (String[] bad : new String[][] {{"princpal", "alice"}, {"outcome", "maybe"}, {"from", "yesterday"},
            {"limit", "0"}, {"limit", "1001"}, {"limit", "many"}, {"cursor", "bm9wZQ"}, {"format", "xml"},
            {"principal", "a", "principal", "b"}, {"from", "2025-05-02T00:00:00Z", "to", "2025-05-01T00:00:00Z"},
            {"format", "csv", "limit", "5"}}) {
            assertThrows(BadRequestException.class, () -> parse(auditor, bad), String.join(" ", bad));
        }
    }

    @Test
    void aCursorIsWhereTheNextPageStarts() {
        assertEquals(12345, parse(auditor, "cursor", AuditQuery.cursor(12345)).fromSeq());
        assertEquals(1, parse(auditor).fromSeq());
    }

    @Test
    void theFormatIsTheParametersElseTheAcceptedOne() {
        assertEquals(AuditQuery.Format.JSON, parse(auditor, List.of(MediaType.WILDCARD_TYPE)).format());
        assertEquals(AuditQuery.Format.NDJSON, parse(auditor, List.of(MediaType.valueOf("application/x-ndjson")))
                .format());
        assertEquals(AuditQuery.Format.CSV, parse(auditor, List.of(MediaType.valueOf("text/csv"),
                MediaType.APPLICATION_JSON_TYPE)).format());
        assertEquals(AuditQuery.Format.CSV, parse(auditor, List.of(MediaType.APPLICATION_JSON_TYPE), "format", "csv")
                .format());
    }

    @Test
    void csvQuotesWhatItMustAndDisarmsFormulas() throws Exception {
        AuditEvent event = new AuditEvent(Instant.parse("2025-05-01T12:00:00Z").toEpochMilli(), acme.id(),
                "=HYPERLINK(\"x\")", "10.0.0.1:5000", "librdkafka, 2.6", null, "acl.add", "topic:a\"b", Outcome.DENIED,
                "line\nbreak", Map.of("k", "v"));
        AuditEventView view = AuditEventView.of(new JournalReader.Stored(9, event), tenants);
        assertEquals("acme", view.tenant());
        assertEquals("9,2025-05-01T12:00:00Z,acme," + acme.id() + ",\"'=HYPERLINK(\"\"x\"\")\",10.0.0.1:5000,"
                + "\"librdkafka, 2.6\",,acl.add,\"topic:a\"\"b\",denied,\"line\nbreak\",\"{\"\"k\"\":\"\"v\"\"}\"\r\n",
                view.csvLine(new ObjectMapper()));
        assertEquals(String.join(",", AuditEventView.CSV_COLUMNS) + "\r\n", AuditEventView.csvHeader());
        assertEquals("gone", AuditEventView.of(new JournalReader.Stored(1, new AuditEvent(0, "gone", null, null, null,
                null, "x", null, Outcome.SUCCESS, null, Map.of())), tenants).tenant(), "a deleted tenant by its id");
    }
}
