package dev.bulwark.gateway.audit;

import com.nimbusds.jose.jwk.JWKSet;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.audit.journal.CheckpointSigner;
import dev.bulwark.audit.journal.EntryOpener;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.audit.journal.JournalSearch;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.SealedFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The broker's audit trail: the journal in {@code <data-dir>/audit}, sealed under the broker's key and signed by its
 * checkpoint key, and what reads it back. Everything audited goes through {@link #record}, whose future completes once
 * the entry is on disk; auditors' queries go through {@link #search}.
 */
public final class AuditTrail implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);

    private final AuditJournal journal;
    private final EntryOpener opener;
    private final JournalSearch search;
    private final Clock clock;
    private volatile AuditStream stream;

    private AuditTrail(AuditJournal journal, EntryOpener opener, Clock clock) {
        this.journal = journal;
        this.opener = opener;
        this.search = new JournalSearch(journal, opener);
        this.clock = clock;
    }

    public static AuditTrail open(Path dataDir, AtRestKeys keys, SealedFiles sealedFiles,
                                  AuditJournal.Settings settings, Clock clock) throws IOException {
        Path directory = dataDir.resolve("audit");
        CheckpointSigner signer = CheckpointSigner.openOrCreate(directory, sealedFiles);
        AuditJournal journal = AuditJournal.open(directory, keys.keyring(), keys.gcm(), signer, settings, clock);
        return new AuditTrail(journal, new EntryOpener(keys.keyring(), keys.gcm()), clock);
    }

    /** Appends an event; the future completes once it is on disk, and fails when the journal cannot take it. */
    public CompletableFuture<Long> record(AuditEvent event) {
        CompletableFuture<Long> durable = journal.append(event);
        durable.whenComplete((seq, error) -> {
            if (error != null) {
                LOG.error("Audit event {} on {} ({}) was not recorded", event.action(), event.resource(),
                        event.outcome(), error);
                return;
            }
            AuditStream copies = stream;
            if (copies != null) {
                copies.publish(seq, event);
            }
        });
        return durable;
    }

    /** From now on, every durable event is also copied to the audit topics. */
    public void publishTo(AuditStream copies) {
        this.stream = copies;
    }

    /** Records an act of the broker itself (start, stop, recovery, tamper detection). */
    public CompletableFuture<Long> recordSystem(String action, String resource, Outcome outcome, String reason,
                                                Map<String, String> details) {
        return record(new AuditEvent(clock.millis(), null, null, null, null, null, action, resource, outcome, reason,
                details));
    }

    /** Whether events are being written: false once a write failed. */
    public boolean writable() {
        return journal.failure().isEmpty();
    }

    public AuditJournal journal() {
        return journal;
    }

    public JournalReader reader() {
        return new JournalReader(journal.directory(), opener);
    }

    /** Auditors' queries, through the journal's index. */
    public JournalSearch search() {
        return search;
    }

    public EntryOpener opener() {
        return opener;
    }

    /** The public keys the journal's checkpoints are signed with, for auditors (a JWKS). */
    public JWKSet publicKeys() {
        return journal.signer().publicKeys();
    }

    public Clock clock() {
        return clock;
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }
}
