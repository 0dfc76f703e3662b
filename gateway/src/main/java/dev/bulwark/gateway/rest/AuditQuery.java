package dev.bulwark.gateway.rest;

import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.EventFilter;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code GET /api/v1/audit/events} as the caller asked for it: the filter, within what the caller may see, where the
 * page starts, how long it is, and in which format. Every parameter is checked: an unknown or repeated one is refused
 * (400) rather than ignored, since a misspelt filter would otherwise widen the answer unnoticed.
 *
 * <p>Who sees what: only auditors read the trail. An auditor of the default tenant sees every tenant's events and the
 * broker's own; an auditor of another tenant only events of its tenant, whatever the filter names.
 *
 * @param fromSeq where the page starts (the cursor's entry), 1 without a cursor
 * @param limit   the most events a page holds; exports hold every match
 */
record AuditQuery(EventFilter filter, long fromSeq, int limit, Format format) {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    static final String NDJSON = "application/x-ndjson";
    static final String CSV = "text/csv";
    static final String NOT_AUDITOR = "only auditors may read the audit trail";
    static final String NOT_OWN_TENANT = "a tenant's auditor reads only its own tenant's events";

    private static final Set<String> PARAMETERS = new TreeSet<>(List.of("tenant", "tenantId", "principal", "action",
            "resource", "outcome", "from", "to", "limit", "cursor", "format"));
    private static final byte CURSOR_VERSION = 1;

    /** A page of JSON, or every match as NDJSON or CSV. */
    enum Format {
        JSON(MediaType.APPLICATION_JSON), NDJSON(AuditQuery.NDJSON), CSV(AuditQuery.CSV);

        final String mediaType;

        Format(String mediaType) {
            this.mediaType = mediaType;
        }

        boolean export() {
            return this != JSON;
        }
    }

    /**
     * The tenant whose events the caller may read (empty: every tenant's, and the broker's).
     *
     * @throws ForbiddenException when the caller is no auditor
     */
    static Optional<String> scope(Caller caller) {
        if (caller.role() != Role.AUDITOR) {
            throw new ForbiddenException(NOT_AUDITOR);
        }
        return Tenant.DEFAULT_ID.equals(caller.tenantId()) ? Optional.empty() : Optional.of(caller.tenantId());
    }

    /**
     * Reads the query parameters of a request of {@code caller}, which accepts {@code acceptable} (most preferred
     * first).
     *
     * @throws ForbiddenException  when the caller is no auditor, or a tenant's auditor names another tenant
     * @throws BadRequestException when a parameter is unknown, repeated or malformed
     * @throws NotFoundException   when an auditor of every tenant names a tenant that does not exist
     */
    static AuditQuery parse(Map<String, List<String>> parameters, List<MediaType> acceptable, Caller caller,
                            TenantStore tenants) {
        Optional<String> scope = scope(caller);
        for (Map.Entry<String, List<String>> parameter : parameters.entrySet()) {
            if (!PARAMETERS.contains(parameter.getKey())) {
                throw new BadRequestException("unknown parameter '" + parameter.getKey() + "'; this endpoint takes "
                        + String.join(", ", PARAMETERS));
            }
            if (parameter.getValue().size() != 1) {
                throw new BadRequestException("parameter '" + parameter.getKey() + "' is given more than once");
            }
        }
        String tenantId = tenantId(one(parameters, "tenant"), one(parameters, "tenantId"), scope, caller, tenants);
        Long from = time(one(parameters, "from"), "from");
        Long to = time(one(parameters, "to"), "to");
        if (from != null && to != null && from >= to) {
            throw new BadRequestException("from must be before to");
        }
        EventFilter filter = new EventFilter(tenantId, one(parameters, "principal"), one(parameters, "action"),
                one(parameters, "resource"), outcome(one(parameters, "outcome")), from, to);
        Format format = format(one(parameters, "format"), acceptable);
        String limit = one(parameters, "limit");
        String cursor = one(parameters, "cursor");
        if (format.export() && (limit != null || cursor != null)) {
            throw new BadRequestException("an export holds every match: limit and cursor are for pages");
        }
        return new AuditQuery(filter, cursor == null ? 1 : seqOf(cursor), limit(limit), format);
    }

    /** The cursor of a page that starts at entry {@code seq}: opaque to clients. */
    static String cursor(long seq) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(ByteBuffer.allocate(9).put(CURSOR_VERSION)
                .putLong(seq).array());
    }

    static long seqOf(String cursor) {
        try {
            byte[] bytes = Base64.getUrlDecoder().decode(cursor);
            ByteBuffer in = ByteBuffer.wrap(bytes);
            if (bytes.length == 9 && in.get() == CURSOR_VERSION) {
                long seq = in.getLong();
                if (seq >= 1) {
                    return seq;
                }
            }
        } catch (IllegalArgumentException e) {
            // Not base64: refused below, as any other cursor this API did not give.
        }
        throw new BadRequestException("cursor is not one this API gave: pass the 'next' of a page as it is");
    }

    private static String one(Map<String, List<String>> parameters, String name) {
        List<String> values = parameters.get(name);
        return values == null ? null : values.get(0);
    }

    /** The tenant id to filter by: the scope's, or the one named (by name or id) when the scope allows it. */
    private static String tenantId(String name, String id, Optional<String> scope, Caller caller,
                                   TenantStore tenants) {
        if (name != null && id != null) {
            throw new BadRequestException("give tenant (a name) or tenantId, not both");
        }
        if (scope.isPresent()) {
            if ((name != null && !name.equals(caller.tenantName())) || (id != null && !id.equals(scope.get()))) {
                throw new ForbiddenException(NOT_OWN_TENANT);
            }
            return scope.get();
        }
        if (name != null) {
            // A deleted tenant's events keep its id, which the events show in place of its name: filter by tenantId.
            return tenants.byName(name).map(Tenant::id).orElseThrow(() -> new NotFoundException("no tenant " + name
                    + "; the events of a deleted tenant are found by its tenantId"));
        }
        return id;
    }

    private static Long time(String value, String name) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new BadRequestException(name + " must be an ISO-8601 time such as 2025-05-01T00:00:00Z, not "
                    + value);
        }
    }

    private static Outcome outcome(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Outcome.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadRequestException("outcome must be success, denied or failure, not " + value);
        }
    }

    private static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // Refused below with the range.
        }
        throw new BadRequestException("limit must be a number from 1 to " + MAX_LIMIT + ", not " + value);
    }

    /** The format the parameter names, else the first acceptable media type that is one of ours, else JSON. */
    private static Format format(String value, List<MediaType> acceptable) {
        if (value != null) {
            try {
                return Format.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new BadRequestException("format must be json, ndjson or csv, not " + value);
            }
        }
        for (MediaType type : acceptable) {
            for (Format format : Format.values()) {
                if (type.isCompatible(MediaType.valueOf(format.mediaType)) && !type.isWildcardType()
                        && !type.isWildcardSubtype()) {
                    return format;
                }
            }
        }
        return Format.JSON;
    }
}
