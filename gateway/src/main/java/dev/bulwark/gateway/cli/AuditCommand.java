package dev.bulwark.gateway.cli;

import dev.bulwark.audit.journal.CheckpointSigner;
import dev.bulwark.audit.journal.JournalVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The auditor's offline verification: a copy of the journal and the signing public keys, nothing else. It reads only,
 * and only what is in the clear, so it takes no lock and no master key, and runs beside a live server too.
 */
@Command(name = "audit", description = "verify the audit trail offline")
final class AuditCommand extends CommandGroup {

    @Command(name = "verify", description = "check the hash chain and the signed checkpoints; exit 0 intact, 1 not")
    int verify(@Option(names = "--journal", defaultValue = "${env:BULWARK_DATA_DIR:-./data}/audit", paramLabel = "DIR",
                       description = "the journal, or a copy (default <data-dir>/audit: ${DEFAULT-VALUE})")
               Path journal,
               @Option(names = "--public-keys", required = true, paramLabel = "JWKS",
                       description = "the signing public keys, from a copy you trust (the journal keeps them in"
                               + " signing-keys.jwks; GET /api/v1/audit/keys serves them)") Path publicKeys,
               @Option(names = "--from", defaultValue = "1", description = "first entry to verify (default 1)")
               long from,
               @Option(names = "--to", defaultValue = "" + Long.MAX_VALUE, description = "last entry (default: all)")
               long to) throws Exception {
        if (!Files.isDirectory(journal)) {
            throw usage("no journal directory " + journal);
        }
        if (from < 1 || to < from) {
            throw usage("a range of entries is 1 <= --from <= --to");
        }
        JournalVerifier.Report report = JournalVerifier.verifyOffline(journal,
                CheckpointSigner.readPublicKeys(publicKeys), from, to);
        out().println(report.summary());
        report.problem().ifPresent(p -> out().println("  in " + p.file() + " at byte " + p.position()));
        return report.intact() ? 0 : 1;
    }
}
