package dev.bulwark.audit;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One audited act: who (tenant id, principal, client address and software, listener), did what (action) to what
 * (resource), when, and how it ended (outcome, reason), with details that depend on the action (for a data-access
 * summary: records and bytes, offset range, first and last time).
 *
 * <p>Only {@code action} and {@code outcome} are always present; the others are null where they do not apply (a
 * server start has no principal). Names are the principal's and the resource's own, not ids, because auditors query by
 * them; the journal is sealed, so they are never on disk in the clear.
 *
 * @param timeMs         when it happened, epoch milliseconds
 * @param tenantId       the tenant it happened in (its opaque id), or null for the broker itself
 * @param principal      who did it: the SASL username or certificate principal; null for the broker itself
 * @param clientAddress  the client's IP address and port
 * @param clientSoftware the client's software name and version, as it announced them (ApiVersions)
 * @param listener       the listener it came through
 * @param action         what was done, e.g. {@code authenticate}, {@code topic.create}, {@code acl.add}
 * @param resource       what it was done to, as {@code <type>:<name>}, e.g. {@code topic:payments}
 * @param reason         why it ended so, for auditors (a refusal's or failure's reason)
 * @param details        what else the action records, ordered by key
 */
public record AuditEvent(long timeMs, String tenantId, String principal, String clientAddress, String clientSoftware,
                         String listener, String action, String resource, Outcome outcome, String reason,
                         Map<String, String> details) {

    public AuditEvent {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        details = details == null || details.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new TreeMap<>(details));
    }
}
