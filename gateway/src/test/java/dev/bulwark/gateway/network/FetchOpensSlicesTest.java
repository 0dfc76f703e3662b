package dev.bulwark.gateway.network;

import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A fetch large enough that its partitions' slices are opened on several threads answers exactly what was stored. */
class FetchOpensSlicesTest {

    private static final int PARTITIONS = 4;

    @TempDir
    Path dir;
    BrokerParts broker;

    @BeforeEach
    void start() throws Exception {
        broker = new BrokerParts(dir);
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    @Test
    void everyPartitionGetsItsOwnRecordsInOrder() {
        TopicMetadata scans = broker.createTopic("scans", PARTITIONS);
        for (int p = 0; p < PARTITIONS; p++) {
            for (int i = 0; i < 3; i++) {
                broker.append(scans, p, value(p, i));
            }
        }
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopic("scans");
        for (int p = 0; p < PARTITIONS; p++) {
            topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(0)
                    .setPartitionMaxBytes(4 << 20));
        }
        FetchRequestData fetch = new FetchRequestData().setMaxWaitMs(0).setMinBytes(1).setMaxBytes(64 << 20)
                .setReplicaId(-1).setTopics(List.of(topic));

        Reply.Respond reply = assertInstanceOf(Reply.Respond.class, broker.pipeline()
                .process(broker.request(ApiKeys.FETCH, (short) 12, fetch)).toCompletableFuture().join());
        try {
            FetchResponseData response = (FetchResponseData) reply.body();
            List<FetchResponseData.PartitionData> partitions = response.responses().get(0).partitions();
            assertEquals(PARTITIONS, partitions.size());
            for (FetchResponseData.PartitionData partition : partitions) {
                assertEquals(Errors.NONE.code(), partition.errorCode());
                ByteBufRecords records = assertInstanceOf(ByteBufRecords.class, partition.records());
                List<String> values = new ArrayList<>();
                for (Record record : MemoryRecords.readableRecords(records.buffer().nioBuffer()).records()) {
                    values.add(StandardCharsets.UTF_8.decode(record.value()).toString());
                }
                int p = partition.partitionIndex();
                assertEquals(List.of(value(p, 0), value(p, 1), value(p, 2)), values);
            }
        } finally {
            reply.release().run();
        }
    }

    /** About 100 KB, distinct per partition and record: four partitions of three are well past the parallel bound. */
    private static String value(int partition, int index) {
        return ("partition " + partition + " record " + index + " ").repeat(4000);
    }
}
