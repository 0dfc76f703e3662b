import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.audit.journal.CheckpointSigner;
import dev.bulwark.audit.journal.EntryOpener;
import dev.bulwark.audit.journal.EventFilter;
import dev.bulwark.audit.journal.JournalSearch;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The audit query benchmark's Java half (bench/audit-query.sh compiles it against the packaged server's jars, so it
 * runs the server's own audit code):
 *
 * <pre>
 *   generate DATA_DIR EVENTS TENANTS_TSV   appends EVENTS events to DATA_DIR/audit (the server stopped), sealed under
 *                                          its keyring's dev key, as the server's journal writes them
 *   queries TENANTS_TSV                    prints the benchmark's queries, "name TAB REST query string"
 *   query DATA_DIR TENANTS_TSV REPEATS     opens the journal as the server does and times the first page (100 events)
 *                                          of each query through JournalSearch, which the REST API calls
 * </pre>
 *
 * TENANTS_TSV holds "name TAB id" per tenant, as the server created them. The events (seeded, so every run writes the
 * same) spread over a year: 20 tenants, most events in a few of them; 5000 service principals, and one principal,
 * auditee-7, in one event of 70,000; data access, authentications and admin operations, with acl.delete rare;
 * 95% successes.
 */
public final class AuditQueryBench {

    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    private static final long SPACING_MS = 3153;
    private static final int PAGE = 100;

    private record Query(String name, String rest, EventFilter filter) {
    }

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "generate" -> generate(Path.of(args[1]), Long.parseLong(args[2]), tenants(Path.of(args[3])));
            case "queries" -> {
                for (Query query : queries(tenants(Path.of(args[1])))) {
                    System.out.println(query.name() + "\t" + query.rest());
                }
            }
            case "query" -> query(Path.of(args[1]), tenants(Path.of(args[2])), Integer.parseInt(args[3]));
            default -> {
                System.err.println("usage: AuditQueryBench generate DATA_DIR EVENTS TENANTS_TSV | queries TENANTS_TSV"
                        + " | query DATA_DIR TENANTS_TSV REPEATS");
                System.exit(2);
            }
        }
    }

    /** Tenant name to id, in the file's order. */
    private static List<String[]> tenants(Path file) throws Exception {
        List<String[]> tenants = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                tenants.add(line.split("\t"));
            }
        }
        if (tenants.size() < 20) {
            throw new IllegalArgumentException(file + " names " + tenants.size() + " tenants; the benchmark needs 20");
        }
        return tenants;
    }

    private static List<Query> queries(List<String[]> tenants) {
        Instant from = T0.plus(Duration.ofDays(180)).plus(Duration.ofHours(13));
        Instant to = from.plus(Duration.ofHours(1));
        String[] fifth = tenants.get(5);
        String[] first = tenants.get(0);
        return List.of(
                new Query("principal (1 in 70,000)", "principal=auditee-7",
                        new EventFilter(null, "auditee-7", null, null, null, null, null)),
                new Query("action+outcome (acl.delete denied)", "action=acl.delete&outcome=denied",
                        new EventFilter(null, null, "acl.delete", null, Outcome.DENIED, null, null)),
                new Query("time range (1 hour)", "from=" + from + "&to=" + to,
                        new EventFilter(null, null, null, null, null, from.toEpochMilli(), to.toEpochMilli())),
                new Query("tenant (" + fifth[0] + ")", "tenant=" + fifth[0],
                        new EventFilter(fifth[1], null, null, null, null, null, null)),
                new Query("tenant+action+outcome", "tenant=" + first[0] + "&action=authenticate&outcome=failure",
                        new EventFilter(first[1], null, "authenticate", null, Outcome.FAILURE, null, null)),
                new Query("principal+resource (none match)", "principal=svc-17&resource=topic:t-4242",
                        new EventFilter(null, "svc-17", null, "topic:t-4242", null, null, null)),
                new Query("no filter", "", EventFilter.ALL));
    }

    /** The journal of a stopped server's data directory, opened as the server opens it, and what opens entries. */
    private record Opened(AuditJournal journal, EntryOpener opener) {
    }

    private static Opened open(Path dataDir) throws Exception {
        AesGcm gcm = new AesGcm();
        Keyring keyring = Keyring.open(dataDir, MasterKeySource.devKey(dataDir, gcm).kms(), gcm);
        Path directory = dataDir.resolve("audit");
        CheckpointSigner signer = CheckpointSigner.openOrCreate(directory,
                new SealedFiles(new AtRestKeys(keyring, gcm)));
        return new Opened(AuditJournal.open(directory, keyring, gcm, signer, AuditJournal.Settings.defaults(),
                Clock.systemUTC()), new EntryOpener(keyring, gcm));
    }

    private static void generate(Path dataDir, long events, List<String[]> tenants) throws Exception {
        String[] actions = {"data.fetch", "data.produce", "authenticate", "group.join", "topic.create",
            "acl.add", "config.alter", "topic.delete", "quota.set", "acl.delete"};
        double[] shares = {0.35, 0.30, 0.25, 0.0345, 0.02, 0.02, 0.01, 0.01, 0.005, 0.0005};
        Random random = new Random(8);
        long started = System.nanoTime();
        try (AuditJournal journal = open(dataDir).journal()) {
            List<CompletableFuture<Long>> inFlight = new ArrayList<>();
            for (long i = 0; i < events; i++) {
                long time = T0.toEpochMilli() + i * SPACING_MS + random.nextInt(2000);
                String action = pick(actions, shares, random.nextDouble());
                boolean broker = random.nextInt(1000) == 0;
                String tenant = broker ? null : tenants.get((int) (20 * Math.pow(random.nextDouble(), 2)))[1];
                String principal = broker ? null : random.nextInt(70_000) == 0 ? "auditee-7"
                        : "svc-" + random.nextInt(5000);
                Outcome outcome = action.equals("authenticate")
                        ? (random.nextInt(100) < 3 ? Outcome.FAILURE : Outcome.SUCCESS)
                        : random.nextInt(1000) < 40 ? Outcome.DENIED
                        : random.nextInt(1000) < 5 ? Outcome.FAILURE : Outcome.SUCCESS;
                String resource = switch (action) {
                    case "authenticate" -> null;
                    case "group.join" -> "group:g-" + random.nextInt(2000);
                    case "quota.set" -> "user:svc-" + random.nextInt(5000);
                    case "config.alter" -> "broker:1";
                    default -> "topic:t-" + random.nextInt(10_000);
                };
                Map<String, String> details = action.startsWith("data.")
                        ? Map.of("records", Integer.toString(random.nextInt(5000)),
                                "bytes", Integer.toString(random.nextInt(5_000_000)))
                        : Map.of();
                AuditEvent event = broker
                        ? new AuditEvent(time, null, null, null, null, null, "server.recovery", "node:1",
                                Outcome.SUCCESS, null, Map.of())
                        : new AuditEvent(time, tenant, principal, "10." + random.nextInt(256) + "." + random.nextInt(256)
                                + "." + random.nextInt(256) + ":" + (32768 + random.nextInt(28000)),
                                random.nextBoolean() ? "apache-kafka-java/4.1.0" : "librdkafka/2.6.1", "SASL_SSL",
                                action, resource, outcome, outcome == Outcome.SUCCESS ? null : "no ACL allows it",
                                details);
                inFlight.add(journal.append(event));
                if (inFlight.size() == 8192) {
                    for (CompletableFuture<Long> future : inFlight) {
                        future.get();
                    }
                    inFlight.clear();
                }
                if ((i + 1) % 1_000_000 == 0) {
                    System.out.printf("  %,d events, %.0f s%n", i + 1, (System.nanoTime() - started) / 1e9);
                }
            }
            for (CompletableFuture<Long> future : inFlight) {
                future.get();
            }
            System.out.printf("generated %,d events in %.0f s; the journal ends at entry %,d%n", events,
                    (System.nanoTime() - started) / 1e9, journal.lastDurableSeq());
        }
    }

    private static String pick(String[] values, double[] shares, double r) {
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            sum += shares[i];
            if (r < sum) {
                return values[i];
            }
        }
        return values[0];
    }

    private static void query(Path dataDir, List<String[]> tenants, int repeats) throws Exception {
        long opening = System.nanoTime();
        Opened opened = open(dataDir);
        try (AuditJournal journal = opened.journal()) {
            JournalSearch search = new JournalSearch(journal, opened.opener());
            System.out.printf("journal of %,d entries opened in %.0f ms (its indexes load in the background)%n",
                    journal.lastDurableSeq(), (System.nanoTime() - opening) / 1e6);
            System.out.printf("%-40s %8s %10s %10s %10s%n", "query (first page of " + PAGE + ")", "events",
                    "first ms", "median ms", "max ms");
            for (Query query : queries(tenants)) {
                double[] ms = new double[repeats + 1];
                int found = 0;
                for (int r = 0; r <= repeats; r++) {
                    long start = System.nanoTime();
                    found = search.page(query.filter(), 1, PAGE).events().size();
                    ms[r] = (System.nanoTime() - start) / 1e6;
                }
                double[] warm = Arrays.copyOfRange(ms, 1, ms.length);
                Arrays.sort(warm);
                System.out.printf("%-40s %8d %10.1f %10.1f %10.1f%n", query.name(), found, ms[0],
                        warm[warm.length / 2], warm[warm.length - 1]);
            }
        }
    }
}
