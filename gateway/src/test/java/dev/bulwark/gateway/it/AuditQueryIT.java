package dev.bulwark.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.audit.journal.CheckpointSigner;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Auditors query the packaged server's audit trail over REST: page by page with each filter, exported as NDJSON and
 * CSV; a tenant's auditor sees its tenant's events only; nobody else reads any of it; the journal verifies intact and
 * its signing keys are served.
 *
 * <p>Besides what the server records itself (its starts and stops, the test's REST changes, authentications and
 * refusals), the trail is seeded while the server is stopped: events of the test's tenants appended through the
 * journal itself, with principals, actions and resources of their own and in a time window long past, so that the
 * filters checked exactly match seeded events only, whatever else the server records.
 */
@Timeout(300)
class AuditQueryIT {

    private static final String OPERATOR = "ops";
    private static final String PASSWORD = "secret-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final Instant WINDOW = Instant.parse("2025-03-01T00:00:00Z");
    private static final int SEEDED = 240;

    @TempDir
    static Path dir;
    static BulwarkProcess server;
    static String acmeId;
    static String globexId;
    /** The seeded events by their sequence numbers. */
    static final Map<Long, AuditEvent> seeded = new java.util.TreeMap<>();

    @BeforeAll
    static void start() throws Exception {
        server = BulwarkProcess.startForTenants(dir.resolve("data"), OPERATOR, PASSWORD);
        OperatorRest ops = new OperatorRest(server, OPERATOR, PASSWORD);
        acmeId = ops.post("/api/v1/tenants", Map.of("name", "acme")).get("id").asText();
        globexId = ops.post("/api/v1/tenants", Map.of("name", "globex")).get("id").asText();
        ops.post("/api/v1/tenants/default/users", Map.of("name", "inspector", "password", PASSWORD,
                "role", "auditor"));
        ops.post("/api/v1/tenants/acme/users", Map.of("name", "auditor", "password", PASSWORD, "role", "auditor"));
        ops.post("/api/v1/tenants/acme/users", Map.of("name", "app", "password", PASSWORD, "role", "member"));
        ops.post("/api/v1/tenants/acme/users", Map.of("name", "admin", "password", PASSWORD,
                "role", "tenant-admin"));
        assertEquals(0, server.stop());
        seed(server.dataDir());
        server.restart();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** Appends the seeded events to the stopped server's journal, under its keys, where it goes on from. */
    private static void seed(Path dataDir) throws Exception {
        AesGcm gcm = new AesGcm();
        Keyring keyring = Keyring.open(dataDir, MasterKeySource.devKey(dataDir, gcm).kms(), gcm);
        Path directory = dataDir.resolve("audit");
        CheckpointSigner signer = CheckpointSigner.openOrCreate(directory,
                new SealedFiles(new AtRestKeys(keyring, gcm)));
        String[] principals = {"alice", "bob", "carol"};
        String[] actions = {"topic.create", "acl.add", "authenticate"};
        try (AuditJournal journal = AuditJournal.open(directory, keyring, gcm, signer,
                AuditJournal.Settings.defaults(), Clock.systemUTC())) {
            for (int i = 0; i < SEEDED; i++) {
                AuditEvent event = new AuditEvent(WINDOW.plusSeconds(60L * i).toEpochMilli(),
                        i % 2 == 0 ? acmeId : globexId, principals[i % 3], "10.1.2.3:4" + i, "apache-kafka-java/4.1",
                        "SASL_PLAINTEXT", actions[(i / 2) % 3], i % 5 == 0 ? "topic:payments" : "topic:orders",
                        i % 7 == 0 ? Outcome.DENIED : i % 11 == 0 ? Outcome.FAILURE : Outcome.SUCCESS,
                        i % 7 == 0 ? "no ACL allows it" : null, Map.of("i", Integer.toString(i)));
                seeded.put(journal.append(event).get(), event);
            }
        }
    }

    private static String basic(String user) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> get(String user, String path, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.http() + path))
                .header("Authorization", basic(user)).timeout(Duration.ofSeconds(60)).GET();
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(HttpResponse<String> response) throws IOException {
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static String query(String... keyValues) {
        StringBuilder query = new StringBuilder();
        for (int i = 0; i < keyValues.length; i += 2) {
            query.append(i == 0 ? "?" : "&").append(keyValues[i]).append('=')
                    .append(URLEncoder.encode(keyValues[i + 1], StandardCharsets.UTF_8));
        }
        return query.toString();
    }

    /** Every page of {@code query} (limit 7), followed by its cursors; the events in order. */
    private static List<JsonNode> pages(String user, String query) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = ok(get(user, "/api/v1/audit/events" + query + "&limit=7"
                    + (cursor == null ? "" : "&cursor=" + cursor), null));
            page.get("events").forEach(events::add);
            assertTrue(page.get("events").size() == 7 || page.get("next").isNull(), "only the last page is short");
            cursor = page.get("next").isNull() ? null : page.get("next").asText();
        } while (cursor != null);
        return events;
    }

    private static List<Long> seqs(List<JsonNode> events) {
        return events.stream().map(e -> e.get("seq").asLong()).toList();
    }

    private static List<Long> seeded(Predicate<AuditEvent> filter) {
        return seeded.entrySet().stream().filter(e -> filter.test(e.getValue())).map(Map.Entry::getKey).toList();
    }

    private static String window() {
        return "from=" + WINDOW + "&to=" + WINDOW.plus(Duration.ofDays(1));
    }

    @Test
    void anAuditorPagesThroughEventsWithEachFilter() throws Exception {
        List<JsonNode> alice = pages("inspector", query("principal", "alice"));
        assertEquals(seeded(e -> e.principal().equals("alice")), seqs(alice));
        JsonNode first = alice.get(0);
        AuditEvent event = seeded.get(first.get("seq").asLong());
        assertEquals(Instant.ofEpochMilli(event.timeMs()).toString(), first.get("time").asText());
        assertEquals("acme", first.get("tenant").asText());
        assertEquals(acmeId, first.get("tenantId").asText());
        assertEquals(event.clientAddress(), first.get("clientAddress").asText());
        assertEquals("apache-kafka-java/4.1", first.get("clientSoftware").asText());
        assertEquals("SASL_PLAINTEXT", first.get("listener").asText());
        assertEquals(event.action(), first.get("action").asText());
        assertEquals(event.resource(), first.get("resource").asText());
        assertEquals(event.outcome().name().toLowerCase(), first.get("outcome").asText());
        assertEquals(event.details().get("i"), first.get("details").get("i").asText());

        assertEquals(seeded(e -> e.tenantId().equals(globexId)),
                seqs(pages("inspector", "?tenant=globex&" + window())));
        assertEquals(seeded(e -> e.tenantId().equals(acmeId)),
                seqs(pages("inspector", "?tenantId=" + acmeId + "&" + window())));
        assertEquals(seeded(e -> e.action().equals("acl.add") && e.outcome() == Outcome.DENIED),
                seqs(pages("inspector", query("action", "acl.add", "outcome", "denied"))));
        assertEquals(seeded(e -> e.resource().equals("topic:payments")),
                seqs(pages("inspector", query("resource", "topic:payments"))));
        assertEquals(seeded(e -> e.outcome() == Outcome.FAILURE),
                seqs(pages("inspector", "?outcome=failure&" + window())));
        Instant from = WINDOW.plus(Duration.ofMinutes(30));
        Instant to = WINDOW.plus(Duration.ofMinutes(90));
        assertEquals(seeded(e -> e.timeMs() >= from.toEpochMilli() && e.timeMs() < to.toEpochMilli()),
                seqs(pages("inspector", query("from", from.toString(), "to", to.toString()))));

        List<JsonNode> starts = pages("inspector", query("action", "server.start"));
        assertTrue(starts.size() >= 2, "this server's two starts: " + starts);
        for (JsonNode start : starts) {
            assertTrue(start.get("tenant").isNull() && start.get("principal").isNull(), start.toString());
            assertEquals("node:1", start.get("resource").asText());
        }
        assertEquals(List.of(), pages("inspector", query("principal", "nobody")));
    }

    @Test
    void anAuditorExportsEveryMatchAsNdjsonAndCsv() throws Exception {
        List<Long> expected = seeded(e -> e.principal().equals("bob"));
        HttpResponse<String> ndjson = get("inspector", "/api/v1/audit/events?principal=bob", "application/x-ndjson");
        assertEquals(200, ndjson.statusCode(), ndjson.body());
        assertTrue(ndjson.headers().firstValue("Content-Type").orElse("").startsWith("application/x-ndjson"));
        List<Long> lines = new ArrayList<>();
        for (String line : ndjson.body().split("\n")) {
            JsonNode event = JSON.readTree(line);
            assertEquals("bob", event.get("principal").asText());
            lines.add(event.get("seq").asLong());
        }
        assertEquals(expected, lines, "every match, not a page");

        HttpResponse<String> csv = get("inspector", "/api/v1/audit/events?principal=bob&format=csv", null);
        assertEquals(200, csv.statusCode(), csv.body());
        assertTrue(csv.headers().firstValue("Content-Type").orElse("").startsWith("text/csv"));
        String[] rows = csv.body().split("\r\n");
        assertEquals("seq,time,tenant,tenantId,principal,clientAddress,clientSoftware,listener,action,resource,"
                + "outcome,reason,details", rows[0]);
        assertEquals(expected.size() + 1, rows.length);
        for (int i = 1; i < rows.length; i++) {
            assertTrue(rows[i].startsWith(expected.get(i - 1) + ","), rows[i]);
            assertTrue(rows[i].contains(",bob,"), rows[i]);
        }

        HttpResponse<String> paged = get("inspector", "/api/v1/audit/events?principal=bob&format=csv&limit=5", null);
        assertEquals(400, paged.statusCode());
        assertTrue(JSON.readTree(paged.body()).get("error").asText().contains("every match"), paged.body());
    }

    @Test
    void aTenantsAuditorSeesOnlyItsTenantsEvents() throws Exception {
        List<JsonNode> everything = pages("auditor@acme", "?outcome=success");
        assertTrue(everything.size() >= seeded(e -> e.tenantId().equals(acmeId) && e.outcome() == Outcome.SUCCESS)
                .size());
        for (JsonNode event : everything) {
            assertEquals(acmeId, event.get("tenantId").asText(), event.toString());
        }
        assertEquals(seeded(e -> e.tenantId().equals(acmeId) && e.principal().equals("bob")),
                seqs(pages("auditor@acme", query("principal", "bob"))));
        assertEquals(List.of(), pages("auditor@acme", query("action", "server.start")), "not the broker's own");
        HttpResponse<String> export = get("auditor@acme", "/api/v1/audit/events?format=ndjson&" + window(), null);
        assertEquals(200, export.statusCode());
        assertEquals(seeded(e -> e.tenantId().equals(acmeId)).size(), export.body().split("\n").length);
        assertFalse(export.body().contains(globexId));

        for (String path : List.of("?tenant=globex", "?tenantId=" + globexId, "?tenant=nowhere")) {
            HttpResponse<String> refused = get("auditor@acme", "/api/v1/audit/events" + path, null);
            assertEquals(403, refused.statusCode(), path);
            assertEquals("a tenant's auditor reads only its own tenant's events",
                    JSON.readTree(refused.body()).get("error").asText());
        }
    }

    @Test
    void nobodyButAuditorsReadsTheTrail() throws Exception {
        for (String user : List.of(OPERATOR, "app@acme", "admin@acme")) {
            for (String path : List.of("/api/v1/audit/events", "/api/v1/audit/events?format=csv",
                    "/api/v1/audit/verify", "/api/v1/audit/keys")) {
                HttpResponse<String> refused = get(user, path, null);
                assertEquals(403, refused.statusCode(), user + " " + path + ": " + refused.body());
                assertEquals("only auditors may read the audit trail",
                        JSON.readTree(refused.body()).get("error").asText());
            }
        }
        HttpResponse<String> misspelt = get("inspector", "/api/v1/audit/events?princpal=alice", null);
        assertEquals(400, misspelt.statusCode());
        assertTrue(JSON.readTree(misspelt.body()).get("error").asText().startsWith("unknown parameter 'princpal'"));
    }

    @Test
    void theJournalVerifiesIntactAndItsSigningKeysAreServed() throws Exception {
        JsonNode report = ok(get("inspector", "/api/v1/audit/verify", null));
        assertTrue(report.get("intact").asBoolean(), report.toString());
        assertTrue(report.get("problem").isNull());
        assertTrue(report.get("entries").asLong() >= SEEDED + 3, report.toString());
        assertTrue(report.get("summary").asText().startsWith("intact: "), report.toString());
        long firstSeeded = seeded.keySet().iterator().next();
        JsonNode range = ok(get("auditor@acme", "/api/v1/audit/verify?fromSeq=" + firstSeeded + "&toSeq="
                + (firstSeeded + 9), null));
        assertTrue(range.get("intact").asBoolean(), range.toString());
        assertEquals(10, range.get("entries").asLong());
        assertEquals(400, get("inspector", "/api/v1/audit/verify?fromSeq=0", null).statusCode());

        JsonNode keys = ok(get("inspector", "/api/v1/audit/keys", null));
        JsonNode key = keys.get("keys").get(0);
        assertEquals("EC", key.get("kty").asText());
        assertEquals("P-256", key.get("crv").asText());
        assertFalse(key.has("d"), "no private part");
        JsonNode published = JSON.readTree(Files.readString(server.dataDir().resolve("audit")
                .resolve(CheckpointSigner.PUBLIC_KEYS_FILE)));
        assertEquals(published.get("keys").get(0).get("kid"), key.get("kid"));
    }
}
