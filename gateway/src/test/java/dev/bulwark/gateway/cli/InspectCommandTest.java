package dev.bulwark.gateway.cli;

import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {

    @TempDir
    Path path;

    @Test
    void describesTenantsTopicsKeysAndTheJournalWithoutSecrets() throws Exception {
        StoppedDataDir dataDir = new StoppedDataDir(path);
        assertEquals(0, dataDir.run("tenant", "create", "acme"), dataDir.err());
        String tenantId = dataDir.out().split("\t")[0];
        try (LogManager logs = dataDir.openLogs()) {
            TopicMetadata topic = logs.createTopic(tenantId, "payments", 2, Map.of());
            logs.log(topic.id(), 0).orElseThrow().append(MemoryRecords.withRecords(Compression.NONE,
                    new SimpleRecord("k".getBytes(StandardCharsets.UTF_8), "the-value".getBytes(StandardCharsets.UTF_8)),
                    new SimpleRecord("k".getBytes(StandardCharsets.UTF_8), "the-value".getBytes(StandardCharsets.UTF_8))));
        }

        assertEquals(0, dataDir.run("inspect"), dataDir.err());

        String out = dataDir.out();
        assertTrue(out.contains(tenantId + "\tacme\tACTIVE"), out);
        assertTrue(out.contains(tenantId + "/payments\t"), out);
        assertTrue(out.contains("2 partition(s)"), out);
        assertTrue(out.contains("    0\t1 segment(s)\t"), out);
        assertTrue(out.contains("offsets 0 to 2"), out);
        assertTrue(out.contains("    1\t1 segment(s)\t0 bytes\toffsets 0 to 0"), out);
        assertTrue(out.contains("  " + tenantId + "\t[1]\tdestroyed below 1"), out);
        assertTrue(out.contains("record batches "), out);
        assertTrue(out.contains("audit journal " + path.resolve("audit") + ": "), out);
        assertTrue(out.contains("intact: 1 entries (1 to 1), 1 signed checkpoints"), out);
        assertFalse(out.contains("the-value"), out);
    }
}
