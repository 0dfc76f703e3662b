package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An audit event as the REST API shows it: its sequence number in the journal, its time (ISO-8601, UTC), its tenant's
 * name ({@code tenant}; the id when the tenant no longer exists, null for the broker's own events) and id, the event's
 * fields, {@code outcome} in lower case, and its details.
 */
public record AuditEventView(long seq, String time, String tenant, String tenantId, String principal,
                             String clientAddress, String clientSoftware, String listener, String action,
                             String resource, String outcome, String reason, Map<String, String> details) {

    static final List<String> CSV_COLUMNS = List.of("seq", "time", "tenant", "tenantId", "principal", "clientAddress",
            "clientSoftware", "listener", "action", "resource", "outcome", "reason", "details");

    static AuditEventView of(JournalReader.Stored stored, TenantStore tenants) {
        AuditEvent event = stored.event();
        String tenantId = event.tenantId();
        String tenant = tenantId == null ? null : tenants.byId(tenantId).map(Tenant::name).orElse(tenantId);
        return new AuditEventView(stored.seq(), Instant.ofEpochMilli(event.timeMs()).toString(), tenant, tenantId,
                event.principal(), event.clientAddress(), event.clientSoftware(), event.listener(), event.action(),
                event.resource(), event.outcome().name().toLowerCase(Locale.ROOT), event.reason(), event.details());
    }

    static String csvHeader() {
        return String.join(",", CSV_COLUMNS) + "\r\n";
    }

    /**
     * One CSV record (RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled), the details
     * as a JSON object. A text field that a spreadsheet would take for a formula (it begins with {@code = + - @}, a
     * tab or a carriage return) is prefixed with {@code '} (OWASP's advice against CSV injection), since principals,
     * client software names and reasons come from clients; NDJSON keeps every value exactly.
     */
    String csvLine(ObjectMapper json) throws JsonProcessingException {
        StringBuilder line = new StringBuilder(256);
        line.append(seq).append(',').append(time);
        for (String text : new String[] {tenant, tenantId, principal, clientAddress, clientSoftware, listener, action,
            resource, outcome, reason}) {
            line.append(',').append(csvField(text));
        }
        line.append(',').append(csvField(json.writeValueAsString(details)));
        return line.append("\r\n").toString();
    }

    static String csvField(String text) {
        if (text == null || text.isEmpty()) {
            return "";
        }
        String value = "=+-@\t\r".indexOf(text.charAt(0)) >= 0 ? "'" + text : text;
        if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0
                && value.indexOf('\r') < 0) {
            return value;
        }
        return '"' + value.replace("\"", "\"\"") + '"';
    }
}
