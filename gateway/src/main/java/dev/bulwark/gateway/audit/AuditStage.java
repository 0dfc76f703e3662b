package dev.bulwark.gateway.audit;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.network.ByteBufRecords;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.telemetry.TrafficMetrics;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The audit stage of the request pipeline. Before a request is handled it refuses an administrative change when the
 * trail cannot record it, and notes what a produce request carries (its bytes are released once the pipeline hands it
 * on); after, it records what the response shows ({@link KafkaAuditEvents}) and adds produced and fetched data to the
 * {@link DataAccessSummaries}. An administrative change is answered only once its entries are on disk; denials and
 * summaries are recorded without holding the answer.
 */
public final class AuditStage {

    private final AuditTrail trail;
    private final TenantStore tenants;
    private final TopicCatalog topics;
    private final Clock clock;
    private final TrafficMetrics traffic;
    private final DataAccessSummaries summaries = new DataAccessSummaries();

    /** @param traffic counts the same records and bytes the summaries sum, per tenant and topic, for the metrics */
    public AuditStage(AuditTrail trail, TenantStore tenants, TopicCatalog topics, TrafficMetrics traffic, Clock clock) {
        this.trail = trail;
        this.tenants = tenants;
        this.topics = topics;
        this.traffic = traffic;
        this.clock = clock;
    }

    /** What a produce request carries, per partition, read before its bytes are released. */
    public record Produced(List<Partition> partitions) {
        record Partition(String topic, Uuid topicId, int partition, long records, long bytes) {
        }
    }

    /** An administrative change the trail could not record is refused before it is made. */
    public Optional<ApiException> refusal(Request request) {
        if (KafkaAuditEvents.ADMIN_CHANGES.contains(request.apiKey()) && !trail.writable()) {
            return Optional.of(new KafkaStorageException("the audit trail cannot record changes; none are made"));
        }
        return Optional.empty();
    }

    /** Notes what a produce request carries; empty for any other request. */
    public Optional<Produced> before(Request request) {
        if (request.apiKey() != ApiKeys.PRODUCE) {
            return Optional.empty();
        }
        List<Produced.Partition> partitions = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData topic : request.<ProduceRequestData>data().topicData()) {
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                if (!(partition.records() instanceof MemoryRecords records)) {
                    continue;
                }
                long count = 0;
                for (RecordBatch batch : records.batches()) {
                    count += batch.lastOffset() - batch.baseOffset() + 1;
                }
                partitions.add(new Produced.Partition(topic.name(), topic.topicId(), partition.index(), count,
                        records.sizeInBytes()));
            }
        }
        return Optional.of(new Produced(partitions));
    }

    /** Records what the answer to {@code request} shows; the answer waits for the entries of a change. */
    public CompletionStage<Reply> after(Request request, Optional<Produced> produced, CompletionStage<Reply> reply) {
        return reply.thenCompose(answer -> {
            if (!(answer instanceof Reply.Respond respond)) {
                return CompletableFuture.completedFuture(answer);
            }
            ApiKeys api = request.apiKey();
            if (api == ApiKeys.PRODUCE && produced.isPresent()) {
                summarizeProduce(request, produced.get(), (ProduceResponseData) respond.body());
            } else if (api == ApiKeys.FETCH) {
                summarizeFetch(request, (FetchResponseData) respond.body());
            }
            List<KafkaAuditEvents.Finding> findings = KafkaAuditEvents.of(api, request.data(), respond.body(),
                    id -> topicName(request.tenantId(), id));
            if (findings.isEmpty()) {
                return CompletableFuture.completedFuture(answer);
            }
            DataAccessSummaries.Who who = who(request);
            long now = clock.millis();
            List<CompletableFuture<Long>> durable = new ArrayList<>(findings.size());
            for (KafkaAuditEvents.Finding f : findings) {
                durable.add(trail.record(new AuditEvent(now, who.tenantId(), who.principal(), who.clientAddress(),
                        who.clientSoftware(), who.listener(), f.action(), f.resource(), f.outcome(), f.reason(),
                        f.details())));
            }
            if (!KafkaAuditEvents.ADMIN_CHANGES.contains(api)) {
                return CompletableFuture.completedFuture(answer);
            }
            // The change is made either way; a failed entry is logged by the trail, which then refuses further ones.
            return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)).handle((ok, error) -> answer);
        });
    }

    /** Records the data-access summaries of a connection that closed. */
    public void connectionClosed(String connectionId) {
        summaries.drain(connectionId).forEach(trail::record);
    }

    /** Records every data-access summary so far (every minute). */
    public void flushSummaries() {
        summaries.drain(null).forEach(trail::record);
    }

    private void summarizeProduce(Request request, Produced produced, ProduceResponseData response) {
        long now = clock.millis();
        DataAccessSummaries.Who who = null;
        for (ProduceResponseData.TopicProduceResponse topic : response.responses()) {
            for (ProduceResponseData.PartitionProduceResponse partition : topic.partitionResponses()) {
                if (partition.errorCode() != Errors.NONE.code()) {
                    continue;
                }
                for (Produced.Partition sent : produced.partitions()) {
                    if (sent.partition() != partition.index() || !sameTopic(sent, topic)) {
                        continue;
                    }
                    who = who == null ? who(request) : who;
                    String name = sent.topic() == null || sent.topic().isEmpty()
                            ? topicName(request.tenantId(), sent.topicId()) : sent.topic();
                    summaries.add(request.context().connectionId, who, name, sent.partition(),
                            DataAccessSummaries.Direction.PRODUCE, sent.records(), sent.bytes(),
                            partition.baseOffset(), partition.baseOffset() + sent.records() - 1, now);
                    traffic.produced(request.tenantId(), name, sent.records(), sent.bytes());
                }
            }
        }
    }

    private static boolean sameTopic(Produced.Partition sent, ProduceResponseData.TopicProduceResponse topic) {
        return sent.topic() != null && !sent.topic().isEmpty() ? sent.topic().equals(topic.name())
                : sent.topicId().equals(topic.topicId());
    }

    private void summarizeFetch(Request request, FetchResponseData response) {
        long now = clock.millis();
        DataAccessSummaries.Who who = null;
        for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponseData.PartitionData partition : topic.partitions()) {
                if (partition.errorCode() != Errors.NONE.code()
                        || !(partition.records() instanceof ByteBufRecords records)) {
                    continue;
                }
                Optional<ByteBufRecords.Extent> extent = records.extent();
                if (extent.isEmpty()) {
                    continue;
                }
                who = who == null ? who(request) : who;
                String name = topic.topic() == null || topic.topic().isEmpty()
                        ? topicName(request.tenantId(), topic.topicId()) : topic.topic();
                summaries.add(request.context().connectionId, who, name, partition.partitionIndex(),
                        DataAccessSummaries.Direction.FETCH, extent.get().records(), records.sizeInBytes(),
                        extent.get().firstOffset(), extent.get().lastOffset(), now);
                traffic.fetched(request.tenantId(), name, extent.get().records(), records.sizeInBytes());
            }
        }
    }

    private DataAccessSummaries.Who who(Request request) {
        AuthenticatedPrincipal principal = request.principal();
        String tenantName = tenants.byId(principal.tenantId()).map(t -> t.name()).orElse(principal.tenantId());
        String software = request.context().clientInformation.softwareName() + "/"
                + request.context().clientInformation.softwareVersion();
        return new DataAccessSummaries.Who(principal.tenantId(),
                new UserName(principal.user(), tenantName).saslUsername(),
                request.context().clientAddress.getHostAddress(), software, request.listener().name());
    }

    private String topicName(String tenantId, Uuid id) {
        return topics.forTenant(tenantId).byId(id).map(TopicMetadata::name).orElse(String.valueOf(id));
    }
}
