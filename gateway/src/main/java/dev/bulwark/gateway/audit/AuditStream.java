package dev.bulwark.gateway.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.storage.LogSlice;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The audit trail as a Kafka topic: each event, once durable in the journal, is appended as a JSON record to the
 * {@link Topics#AUDIT_TOPIC} of its tenant, and every event to the default tenant's (the platform's auditors see all).
 * The topics are read-only for clients and readable by auditors only, as their tenant's ACLs grant
 * ({@code AccessControl}). The journal stays the evidence: the topics are a copy, for tools that consume Kafka.
 *
 * <p>Record: key the action, value the event as JSON, timestamp the event's time, header {@code seq} the event's
 * sequence number in the journal. One thread copies events in journal order: an event published out of turn (the
 * first after a start, or after a failed copy) first makes it copy the entries in between from the journal. The
 * default tenant's copy of an event is appended after its tenant's, so at start the default topic's last {@code seq}
 * says where copying stopped; a tenant topic that got an event whose default copy was lost does not get it twice.
 *
 * <p>A tenant being deleted, or gone, gets no copies (its topic is deleted with it); the journal keeps its events.
 */
public final class AuditStream implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditStream.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SEQ_HEADER = "seq";

    private final TopicCatalog topics;
    private final TenantStore tenants;
    private final JournalReader journal;
    private final long retentionMs;
    private final ExecutorService copier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bulwark-audit-stream");
        t.setDaemon(true);
        return t;
    });
    /** Per tenant, the last sequence number its topic held at start; written and read by the copier thread only. */
    private final Map<String, Long> copiedAtStart = new HashMap<>();
    /** The next sequence number to copy; copier thread only. */
    private long next;

    /**
     * Reads where each tenant's topic stopped; the first published event makes the copier catch up from there.
     */
    public AuditStream(TopicCatalog topics, TenantStore tenants, JournalReader journal, long retentionMs) {
        this.topics = topics;
        this.tenants = tenants;
        this.journal = journal;
        this.retentionMs = retentionMs;
        for (Tenant tenant : tenants.list()) {
            Topics owned = topics.forTenant(tenant.id());
            owned.byName(Topics.AUDIT_TOPIC).flatMap(topic -> lastSeq(owned, topic))
                    .ifPresent(seq -> copiedAtStart.put(tenant.id(), seq));
        }
        this.next = copiedAtStart.getOrDefault(Tenant.DEFAULT_ID, 0L) + 1;
    }

    /** Copies a durable event (and any the copier has not copied before it) to the audit topics. */
    public void publish(long seq, AuditEvent event) {
        if (copier.isShutdown()) {
            return; // stopping: the next start copies it from the journal
        }
        copier.execute(() -> {
            if (seq < next) {
                return;
            }
            if (seq > next) {
                catchUp(seq - 1);
            }
            copy(seq, event);
            next = seq + 1;
        });
    }

    private void catchUp(long to) {
        long from = next;
        try {
            journal.scan(from, to, stored -> {
                copy(stored.seq(), stored.event());
                next = stored.seq() + 1;
                return true;
            });
            LOG.info("Audit stream: copied entries {} to {} from the journal", from, to);
        } catch (IOException e) {
            LOG.error("Audit stream: entries {} to {} could not be read from the journal to be copied", from, to, e);
        }
        next = to + 1;
    }

    private void copy(long seq, AuditEvent event) {
        byte[] value;
        try {
            value = JSON.writeValueAsBytes(json(seq, event));
        } catch (JsonProcessingException e) {
            LOG.error("Audit stream: entry {} does not encode", seq, e);
            return;
        }
        String tenantId = event.tenantId();
        if (tenantId != null && !tenantId.equals(Tenant.DEFAULT_ID)
                && seq > copiedAtStart.getOrDefault(tenantId, 0L)) {
            append(tenantId, record(seq, event, value), seq);
        }
        append(Tenant.DEFAULT_ID, record(seq, event, value), seq);
    }

    private static MemoryRecords record(long seq, AuditEvent event, byte[] value) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(event.timeMs(),
                event.action().getBytes(StandardCharsets.UTF_8), value, new Header[] {
                    new RecordHeader(SEQ_HEADER, ByteBuffer.allocate(8).putLong(seq).array())}));
    }

    private void append(String tenantId, MemoryRecords record, long seq) {
        Optional<Tenant> tenant = tenants.byId(tenantId);
        if (tenant.isEmpty() || tenant.get().state() == Tenant.State.DELETING) {
            return;
        }
        try {
            Topics owned = topics.forTenant(tenantId);
            TopicMetadata topic = owned.auditTopic(retentionMs);
            owned.partition(topic, 0).orElseThrow().append(record);
        } catch (RuntimeException e) {
            LOG.error("Audit stream: entry {} was not copied to the audit topic of tenant {} (the journal has it)",
                    seq, tenantId, e);
        }
    }

    private static Map<String, Object> json(long seq, AuditEvent event) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("seq", seq);
        json.put("time", Instant.ofEpochMilli(event.timeMs()).toString());
        json.put("tenant", event.tenantId());
        json.put("principal", event.principal());
        json.put("clientAddress", event.clientAddress());
        json.put("clientSoftware", event.clientSoftware());
        json.put("listener", event.listener());
        json.put("action", event.action());
        json.put("resource", event.resource());
        json.put("outcome", event.outcome().name());
        json.put("reason", event.reason());
        json.put("details", event.details());
        return json;
    }

    /** The {@code seq} header of the topic's last record. */
    private static Optional<Long> lastSeq(Topics owned, TopicMetadata topic) {
        PartitionLog log = owned.partition(topic, 0).orElse(null);
        if (log == null || log.highWatermark() == 0) {
            return Optional.empty();
        }
        try {
            Optional<LogSlice> slice = log.read(log.highWatermark() - 1, 1 << 20, true).slice();
            if (slice.isEmpty()) {
                return Optional.empty();
            }
            ByteBuffer bytes = ByteBuffer.allocate(slice.get().length());
            slice.get().readInto(bytes);
            Long last = null;
            for (Record record : MemoryRecords.readableRecords(bytes.flip()).records()) {
                for (Header header : record.headers()) {
                    if (header.key().equals(SEQ_HEADER)) {
                        last = ByteBuffer.wrap(header.value()).getLong();
                    }
                }
            }
            return Optional.ofNullable(last);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Audit stream: the last record of {} does not read; copying from its start", topic.name(), e);
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        copier.shutdown();
        try {
            copier.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
