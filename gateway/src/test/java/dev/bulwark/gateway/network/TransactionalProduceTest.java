package dev.bulwark.gateway.network;

import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.txn.ProducerIdAndEpoch;
import dev.bulwark.gateway.txn.TransactionalIdKey;
import dev.bulwark.storage.PartitionLog;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Produce of transactional batches over the broker's real parts: a batch is appended only to a partition of its
 * producer's ongoing transaction (KIP-890), so a batch for a partition never added, from a fenced epoch, or arriving
 * after its transaction ended is refused and nothing is stored.
 */
class TransactionalProduceTest {

    private static final String TRANSACTIONAL_ID = "settlement";
    private static final TransactionalIdKey KEY = new TransactionalIdKey(Tenant.DEFAULT_ID, TRANSACTIONAL_ID);
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);

    @TempDir
    Path dir;
    private BrokerParts broker;
    private ProducerIdAndEpoch producer;
    private int sequence;

    @BeforeEach
    void start() throws IOException {
        broker = new BrokerParts(dir);
        producer = broker.transactions.initProducerId(KEY, 60_000, Optional.empty()).join();
    }

    @AfterEach
    void stop() throws IOException {
        broker.close();
    }

    @Test
    void aBatchForAPartitionOfTheTransactionIsAppended() {
        broker.transactions.addPartitions(KEY, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)).join();
        long end = log().logEndOffset();
        assertEquals(Errors.NONE, produce(TRANSACTIONAL_ID, producer.epoch()));
        assertEquals(end + 1, log().logEndOffset());
    }

    @Test
    void aBatchForAPartitionNeverAddedIsRefused() {
        long end = log().logEndOffset();
        assertEquals(Errors.INVALID_TXN_STATE, produce(TRANSACTIONAL_ID, producer.epoch()));
        assertEquals(end, log().logEndOffset(), "nothing stored");
    }

    @Test
    void aBatchOfAFencedEpochIsRefused() {
        broker.transactions.addPartitions(KEY, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)).join();
        // A successor's InitProducerId fences the old epoch and aborts its open transaction (answering
        // CONCURRENT_TRANSACTIONS until the abort is done, which is why its outcome is not looked at).
        broker.transactions.initProducerId(KEY, 60_000, Optional.empty()).exceptionally(e -> null).join();
        long end = log().logEndOffset();
        assertEquals(Errors.PRODUCER_FENCED, produce(TRANSACTIONAL_ID, producer.epoch()));
        assertEquals(end, log().logEndOffset(), "nothing stored");
    }

    @Test
    void aLateBatchAfterItsTransactionEndedIsRefusedSoNoTransactionIsLeftOpen() {
        broker.transactions.addPartitions(KEY, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)).join();
        assertEquals(Errors.NONE, produce(TRANSACTIONAL_ID, producer.epoch()));
        broker.transactions.endTransaction(KEY, producer.producerId(), producer.epoch(), true).join();
        // While the markers are pending the transaction is ending: a retriable refusal.
        assertEquals(Errors.NOT_ENOUGH_REPLICAS, produce(TRANSACTIONAL_ID, producer.epoch()));
        broker.timer.runDue();
        long stable = log().lastStableOffset();
        assertEquals(log().logEndOffset(), stable, "the commit marker closed the transaction");
        assertEquals(Errors.INVALID_TXN_STATE, produce(TRANSACTIONAL_ID, producer.epoch()));
        assertEquals(stable, log().lastStableOffset(), "no transaction was reopened by the late batch");
        assertEquals(stable, log().logEndOffset());
    }

    @Test
    void aTransactionalBatchWithoutTheRequestsTransactionalIdIsRefused() {
        broker.transactions.addPartitions(KEY, producer.producerId(), producer.epoch(), Set.of(ORDERS_0)).join();
        assertEquals(Errors.INVALID_TXN_STATE, produce(null, producer.epoch()));
    }

    private PartitionLog log() {
        return broker.log(broker.orders, 0);
    }

    private Errors produce(String transactionalId, short epoch) {
        MemoryRecords records = MemoryRecords.withTransactionalRecords(Compression.NONE, producer.producerId(), epoch,
                sequence++, new SimpleRecord(broker.timer.nowMs(), "k".getBytes(StandardCharsets.UTF_8),
                        "v".getBytes(StandardCharsets.UTF_8)));
        ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000)
                .setTransactionalId(transactionalId);
        data.topicData().add(new ProduceRequestData.TopicProduceData().setName("orders").setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
        Reply reply = broker.apis.lookup(ApiKeys.PRODUCE).orElseThrow().handler()
                .handle(broker.request(ApiKeys.PRODUCE, (short) 11, data)).toCompletableFuture().join();
        ProduceResponseData response = (ProduceResponseData) ((Reply.Respond) reply).body();
        return Errors.forCode(response.responses().iterator().next().partitionResponses().get(0).errorCode());
    }
}
