package dev.bulwark.gateway.cli;

import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.audit.journal.CheckpointSigner;
import dev.bulwark.audit.journal.JournalVerifier;
import dev.bulwark.auth.Tenant;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * What a stopped server's data directory holds, without a secret or a record: tenants, topics and their partitions,
 * key versions, the audit journal and how batches are sealed. Tenants and topics are sealed metadata: the master key
 * is needed to name them, as it is to start the server.
 */
@Command(name = "inspect", description = "what a data directory holds, no secrets (server stopped; needs the master"
        + " key to open the sealed tenant and topic metadata)")
final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DataDirOptions dataDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (OfflineDataDir dir = OfflineDataDir.open(dataDir)) {
            Keyring keyring = dir.keys.keyring();
            out.println("data directory " + dir.path);
            out.println("master key " + keyring.masterKeyId());
            out.println("record batches " + (LogManager.sealsBatches(dir.path.resolve(OfflineDataDir.LOG_DIR))
                    ? "sealed (whole batches encrypted)" : "not sealed (records encrypted inside clear batches)"));

            Set<String> owners = new LinkedHashSet<>();
            owners.add(KeyOwner.SYSTEM_ID);
            out.println("tenants:");
            for (Tenant tenant : dir.tenants.list()) {
                out.println("  " + tenant.id() + "\t" + tenant.name() + "\t" + tenant.state());
                owners.add(tenant.id());
            }
            out.println("topics:");
            for (TopicMetadata topic : dir.logs.topics().stream().sorted(Comparator.comparing(TopicMetadata::tenantId)
                    .thenComparing(TopicMetadata::name)).toList()) {
                owners.add(topic.tenantId());
                out.println("  " + topic.tenantId() + "/" + topic.name() + "\t" + topic.id() + "\t"
                        + topic.partitions() + " partition(s)");
                for (int p = 0; p < topic.partitions(); p++) {
                    int partition = p;
                    dir.logs.log(topic.id(), p).ifPresent(log -> out.println(describe(partition, log)));
                }
            }
            out.println("keys (live versions; versions below the mark destroyed):");
            for (String owner : owners) {
                keyring.versions(new KeyOwner(owner)).ifPresent(versions -> out.println("  " + owner + "\t"
                        + versions.live() + "\tdestroyed below " + versions.destroyedBelow()
                        + (versions.shredded() ? "\tshredded" : "")));
            }
            printAudit(out, dir.audit.journal().directory());
            return 0;
        }
    }

    private static String describe(int partition, PartitionLog log) {
        return "    " + partition + "\t" + log.segmentCount() + " segment(s)\t" + log.sizeInBytes() + " bytes\toffsets "
                + log.logStartOffset() + " to " + log.logEndOffset() + (log.isOffline() ? "\tOFFLINE" : "");
    }

    /** Counted and checked with the journal's own public keys: the chain is in the clear, so no seal is opened. */
    private static void printAudit(PrintWriter out, Path journal) throws IOException {
        out.println("audit journal " + journal + ": " + AuditJournal.files(journal).size() + " file(s)");
        JournalVerifier.Report report = JournalVerifier.verifyOffline(journal,
                CheckpointSigner.readPublicKeys(journal.resolve(CheckpointSigner.PUBLIC_KEYS_FILE)));
        out.println("  " + report.summary());
    }
}
