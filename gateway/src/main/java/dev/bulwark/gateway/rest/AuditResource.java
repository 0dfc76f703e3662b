package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.journal.JournalDamageException;
import dev.bulwark.audit.journal.JournalSearch;
import dev.bulwark.audit.journal.JournalVerifier;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.audit.AuditTrail;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.InternalServerErrorException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.core.UriInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /api/v1/audit}: auditors read the audit trail. {@code GET events} pages through the events a filter selects
 * ({@link AuditQuery} says which parameters and who sees what) or exports them all as NDJSON or CSV, streamed;
 * {@code GET verify} proves the journal, or a range of it, intact or names its first bad entry; {@code GET keys} gives
 * the public keys its checkpoints are signed with. Only auditors may call any of it.
 */
@Path("/api/v1/audit")
public class AuditResource {

    private static final Logger LOG = LoggerFactory.getLogger(AuditResource.class);

    @Inject
    BulwarkLifecycle lifecycle;

    @Inject
    ObjectMapper json;

    /**
     * A page of events and the cursor of the next one: null when no match follows (yet). Registered for reflection,
     * with its events: answered inside a plain {@code Response}, which the native image cannot see through.
     */
    @RegisterForReflection(targets = {Page.class, AuditEventView.class})
    public record Page(List<AuditEventView> events, String next) {
    }

    /** Verification's answer: intact, or the first bad entry and why (see {@link JournalVerifier}). */
    public record VerifyView(boolean intact, String summary, long entries, long firstSeq, long lastSeq,
                             int checkpoints, long lastSignedSeq, ProblemView problem) {

        static VerifyView of(JournalVerifier.Report report) {
            return new VerifyView(report.intact(), report.summary(), report.entries(), report.firstSeq(),
                    report.lastSeq(), report.checkpoints(), report.lastSignedSeq(),
                    report.problem().map(ProblemView::of).orElse(null));
        }
    }

    /**
     * The first bad entry: {@code kind} as {@code hash-mismatch}, {@code out-of-sequence}, ..., {@code file} the
     * journal file's name (or {@code checkpoints}) and {@code position} the byte offset in it (the line number in
     * {@code checkpoints}).
     */
    public record ProblemView(long seq, String kind, String file, long position, String message) {
        static ProblemView of(JournalVerifier.Problem problem) {
            return new ProblemView(problem.seq(), problem.kind().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                    problem.file().getFileName().toString(), problem.position(), problem.message());
        }
    }

    @GET
    @Path("/events")
    @Produces({MediaType.APPLICATION_JSON, AuditQuery.NDJSON, AuditQuery.CSV})
    public Response events(@Context UriInfo uri, @Context HttpHeaders headers, @Context SecurityContext auth)
            throws IOException {
        TenantStore tenants = tenants();
        AuditQuery query = AuditQuery.parse(uri.getQueryParameters(), headers.getAcceptableMediaTypes(),
                Caller.of(auth), tenants);
        JournalSearch search = trail().search();
        if (query.format().export()) {
            String extension = query.format().name().toLowerCase(Locale.ROOT);
            return Response.ok(export(search, query, tenants), query.format().mediaType)
                    .header("Content-Disposition", "attachment; filename=\"audit-events." + extension + "\"")
                    .build();
        }
        JournalSearch.Page page;
        try {
            page = search.page(query.filter(), query.fromSeq(), query.limit());
        } catch (JournalDamageException e) {
            throw damaged(e);
        }
        List<AuditEventView> events = new ArrayList<>(page.events().size());
        page.events().forEach(stored -> events.add(AuditEventView.of(stored, tenants)));
        String next = page.next().isPresent() ? AuditQuery.cursor(page.next().getAsLong()) : null;
        return Response.ok(new Page(events, next), MediaType.APPLICATION_JSON_TYPE).build();
    }

    /**
     * Every match, written as it is found. The status is sent before the first event: a journal found damaged on
     * the way ends the response early, and the client sees an incomplete transfer, never a short answer that looks
     * whole.
     */
    private StreamingOutput export(JournalSearch search, AuditQuery query, TenantStore tenants) {
        return output -> {
            OutputStream out = new BufferedOutputStream(output, 1 << 16);
            if (query.format() == AuditQuery.Format.CSV) {
                out.write(AuditEventView.csvHeader().getBytes(StandardCharsets.UTF_8));
            }
            try {
                search.scan(query.filter(), 1, stored -> {
                    AuditEventView view = AuditEventView.of(stored, tenants);
                    if (query.format() == AuditQuery.Format.CSV) {
                        out.write(view.csvLine(json).getBytes(StandardCharsets.UTF_8));
                    } else {
                        out.write(json.writeValueAsBytes(view));
                        out.write('\n');
                    }
                    return true;
                });
            } catch (JournalDamageException e) {
                LOG.error("Audit export stopped: the journal is damaged: {}", e.getMessage());
                throw e;
            }
            out.flush();
        };
    }

    /**
     * Checks the entries {@code fromSeq} (the first kept, when absent) to {@code toSeq} (the last on disk, when
     * absent) with every seal opened, and on to the checkpoint that signs the last of them. Slow over a long
     * journal: every entry of the range is opened.
     */
    @GET
    @Path("/verify")
    @Produces(MediaType.APPLICATION_JSON)
    public VerifyView verify(@Context UriInfo uri, @Context SecurityContext auth) throws IOException {
        AuditQuery.scope(Caller.of(auth));
        Map<String, List<String>> parameters = uri.getQueryParameters();
        for (String name : parameters.keySet()) {
            if (!name.equals("fromSeq") && !name.equals("toSeq")) {
                throw new BadRequestException("unknown parameter '" + name + "'; this endpoint takes fromSeq, toSeq");
            }
        }
        AuditTrail trail = trail();
        long last = trail.journal().lastDurableSeq();
        long from = seq(parameters, "fromSeq", 1);
        long to = seq(parameters, "toSeq", last);
        if (to < from) {
            throw new BadRequestException("toSeq must not be before fromSeq");
        }
        if (from > last) {
            throw new BadRequestException("the journal's last entry is " + last);
        }
        return VerifyView.of(JournalVerifier.verifyOnline(trail.journal().directory(), trail.publicKeys(),
                trail.opener(), from, Math.min(to, last)));
    }

    /** The public keys that verify the journal's signed checkpoints, as a JWK Set. */
    @GET
    @Path("/keys")
    @Produces(MediaType.APPLICATION_JSON)
    public String keys(@Context SecurityContext auth) {
        AuditQuery.scope(Caller.of(auth));
        return trail().publicKeys().toString(true);
    }

    private static long seq(Map<String, List<String>> parameters, String name, long absent) {
        List<String> values = parameters.get(name);
        if (values == null) {
            return absent;
        }
        try {
            long seq = values.size() == 1 ? Long.parseLong(values.get(0)) : 0;
            if (seq >= 1) {
                return seq;
            }
        } catch (NumberFormatException e) {
            // Refused below.
        }
        throw new BadRequestException(name + " must be one entry number, 1 or more");
    }

    private static InternalServerErrorException damaged(JournalDamageException e) {
        LOG.error("An audit query stopped: the journal is damaged: {}", e.getMessage());
        return new InternalServerErrorException("the audit journal is damaged where this query reads it ("
                + e.getMessage() + "); GET /api/v1/audit/verify names the first bad entry");
    }

    private AuditTrail trail() {
        return lifecycle.audit().orElseThrow(() -> new ServiceUnavailableException("starting"));
    }

    private TenantStore tenants() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting")).tenants();
    }
}
