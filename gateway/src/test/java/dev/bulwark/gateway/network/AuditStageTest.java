package dev.bulwark.gateway.network;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import dev.bulwark.audit.journal.JournalReader;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit stage of the request pipeline on the broker's real parts: what an administrative change, a denial and
 * produced data leave in the journal.
 */
class AuditStageTest {

    @TempDir
    Path dir;

    private BrokerParts broker;

    @BeforeEach
    void open() throws IOException {
        broker = new BrokerParts(dir);
        broker.security.tenants().setAllowEveryoneIfNoAcl(Tenant.DEFAULT_ID, false);
    }

    @AfterEach
    void close() throws IOException {
        broker.close();
    }

    @Test
    void anAdministrativeChangeIsOnDiskWhenItIsAnswered() {
        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(1000);
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("audited").setNumPartitions(3)
                .setReplicationFactor((short) -1));

        answer(broker.request(ApiKeys.CREATE_TOPICS, (short) 7, create));

        AuditEvent event = last();
        assertEquals("create_topics", event.action());
        assertEquals("topic:audited", event.resource());
        assertEquals(Outcome.SUCCESS, event.outcome());
        assertEquals("admin", event.principal());
        assertEquals(Tenant.DEFAULT_ID, event.tenantId());
        assertEquals("3", event.details().get("partitions"));
        assertEquals(BrokerParts.LISTENER.name(), event.listener());
    }

    @Test
    void aDenialNamesTheResourceAndTheReason() {
        AuthenticatedPrincipal mallory = new AuthenticatedPrincipal("mallory", Tenant.DEFAULT_ID, Role.MEMBER,
                "SCRAM-SHA-512", -1);
        MetadataRequestData metadata = new MetadataRequestData().setAllowAutoTopicCreation(false);
        metadata.topics().add(new MetadataRequestData.MetadataRequestTopic().setName("orders"));

        answer(broker.request(ApiKeys.METADATA, (short) 12, metadata, mallory));

        AuditEvent event = eventually("metadata");
        assertEquals("metadata", event.action());
        assertEquals("topic:orders", event.resource());
        assertEquals(Outcome.DENIED, event.outcome());
        assertEquals("mallory", event.principal());
        assertTrue(event.reason().startsWith("TOPIC_AUTHORIZATION_FAILED"), event.reason());
    }

    @Test
    void producedDataIsSummarizedWhenTheConnectionCloses() {
        ProduceRequestData produce = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(1000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("orders");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(1)
                .setRecords(broker.records("one more order")));
        produce.topicData().add(topic);
        Request request = broker.request(ApiKeys.PRODUCE, (short) 9, produce);
        answer(request);
        answer(broker.request(ApiKeys.PRODUCE, (short) 9, produce));

        broker.pipeline().connectionClosed(request.context().connectionId);

        AuditEvent summary = eventually("data.produce");
        assertEquals("topic:orders", summary.resource());
        assertEquals("1", summary.details().get("partition"));
        assertEquals("2", summary.details().get("records"));
        assertEquals("2", summary.details().get("firstOffset"), "orders-1 held two records before");
        assertEquals("3", summary.details().get("lastOffset"));
    }

    private void answer(Request request) {
        Reply reply = broker.pipeline().process(request).toCompletableFuture().orTimeout(30, TimeUnit.SECONDS)
                .join();
        assertTrue(reply instanceof Reply.Respond, String.valueOf(reply));
    }

    private List<AuditEvent> events() {
        List<AuditEvent> events = new ArrayList<>();
        try {
            broker.audit.reader().scan(1, broker.audit.journal().lastDurableSeq(),
                    (JournalReader.Stored stored) -> events.add(stored.event()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return events;
    }

    private AuditEvent last() {
        List<AuditEvent> events = events();
        assertTrue(!events.isEmpty(), "nothing was recorded");
        return events.get(events.size() - 1);
    }

    /** The first event of {@code action}, once it is on disk (events that hold no answer are written meanwhile). */
    private AuditEvent eventually(String action) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (AuditEvent event : events()) {
                if (event.action().equals(action)) {
                    return event;
                }
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no " + action + " event was recorded");
    }
}
