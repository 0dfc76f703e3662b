package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;

/**
 * What an auditor's query selects: events whose fields equal every value given (null: any), with a time in
 * {@code [fromMs, toMs)}. The broker's own events (no tenant, no principal) match only filters that name neither.
 *
 * @param tenantId  the tenant's id, exactly
 * @param principal the principal, exactly
 * @param action    the action, exactly ({@code topic.create})
 * @param resource  the resource, exactly ({@code topic:payments})
 * @param outcome   the outcome
 * @param fromMs    the earliest time, inclusive, epoch milliseconds
 * @param toMs      the time before which events are, exclusive
 */
public record EventFilter(String tenantId, String principal, String action, String resource, Outcome outcome,
                          Long fromMs, Long toMs) {

    /** Every event. */
    public static final EventFilter ALL = new EventFilter(null, null, null, null, null, null, null);

    public boolean matches(AuditEvent event) {
        return (tenantId == null || tenantId.equals(event.tenantId()))
                && (principal == null || principal.equals(event.principal()))
                && (action == null || action.equals(event.action()))
                && (resource == null || resource.equals(event.resource()))
                && (outcome == null || outcome == event.outcome())
                && inTime(event.timeMs());
    }

    boolean inTime(long timeMs) {
        return (fromMs == null || timeMs >= fromMs) && (toMs == null || timeMs < toMs);
    }

    /** Whether any time in {@code [minMs, maxMs]} is in the filter's range. */
    boolean overlaps(long minMs, long maxMs) {
        return (fromMs == null || maxMs >= fromMs) && (toMs == null || minMs < toMs);
    }
}
