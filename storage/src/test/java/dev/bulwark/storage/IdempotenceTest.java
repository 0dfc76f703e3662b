package dev.bulwark.storage;

import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Idempotent producers: retries are recognised, gaps and fenced epochs refused. */
class IdempotenceTest {

    private static final long T = MutableClock.START_MS;
    private static final long PID = 1000L;
    private static final short EPOCH = 3;

    @TempDir
    Path dir;

    private PartitionLog log;

    @BeforeEach
    void open() throws Exception {
        log = Partitions.create(dir, Partitions.config(Map.of()), new MutableClock(), FlushPolicy.PAGE_CACHE,
                Partitions.manualFlushes());
    }

    @AfterEach
    void close() throws IOException {
        log.close();
    }

    private long segmentSize() throws IOException {
        return Files.size(Partitions.segmentFiles(dir).get(0));
    }

    @Test
    void aRetriedBatchGetsTheOriginalOffsetsAndAppendsNothing() throws IOException {
        log.append(Batches.plain(T, "unrelated"));
        AppendResult original = log.append(Batches.idempotent(PID, EPOCH, 0, T, "a", "b", "c"));
        long size = segmentSize();

        AppendResult retry = log.append(Batches.idempotent(PID, EPOCH, 0, T, "a", "b", "c"));

        assertTrue(retry.duplicate());
        assertFalse(original.duplicate());
        assertEquals(List.of(1L, 3L), List.of(retry.firstOffset(), retry.lastOffset()));
        assertEquals(List.of(original.firstOffset(), original.lastOffset()),
                List.of(retry.firstOffset(), retry.lastOffset()));
        assertEquals(4, log.logEndOffset());
        assertEquals(size, segmentSize());
    }

    @Test
    void anyOfTheLastFiveBatchesIsRecognisedAsARetry() throws IOException {
        int sequence = 0;
        for (int i = 0; i < 5; i++) {
            log.append(Batches.idempotent(PID, EPOCH, sequence, T, "x" + i, "y" + i));
            sequence += 2;
        }

        for (int i = 0; i < 5; i++) {
            AppendResult retry = log.append(Batches.idempotent(PID, EPOCH, 2 * i, T, "x" + i, "y" + i));
            assertTrue(retry.duplicate());
            assertEquals(2L * i, retry.firstOffset());
        }
        assertEquals(10, log.logEndOffset());
    }

    @Test
    void consecutiveSequencesAreAccepted() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T, "a", "b"));
        AppendResult next = log.append(Batches.idempotent(PID, EPOCH, 2, T, "c"));

        assertFalse(next.duplicate());
        assertEquals(2, next.firstOffset());
    }

    @Test
    void aSequenceGapIsOutOfOrder() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T, "a", "b"));
        long size = segmentSize();

        assertThrows(OutOfOrderSequenceException.class,
                () -> log.append(Batches.idempotent(PID, EPOCH, 3, T, "d")));
        assertThrows(OutOfOrderSequenceException.class,
                () -> log.append(Batches.idempotent(PID, EPOCH, 1, T, "b", "c")), "overlaps the last batch");

        assertEquals(2, log.logEndOffset());
        assertEquals(size, segmentSize());
    }

    @Test
    void anOlderEpochIsFenced() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T, "a"));

        assertThrows(InvalidProducerEpochException.class,
                () -> log.append(Batches.idempotent(PID, (short) (EPOCH - 1), 1, T, "b")));
        assertEquals(1, log.logEndOffset());
    }

    @Test
    void aNewEpochStartsAtSequenceZeroAndFencesTheOldOne() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T, "a"));

        assertThrows(OutOfOrderSequenceException.class,
                () -> log.append(Batches.idempotent(PID, (short) (EPOCH + 1), 5, T, "b")));
        log.append(Batches.idempotent(PID, (short) (EPOCH + 1), 0, T, "b"));
        assertThrows(InvalidProducerEpochException.class,
                () -> log.append(Batches.idempotent(PID, EPOCH, 1, T, "c")));

        assertEquals(2, log.logEndOffset());
    }

    @Test
    void producersAreTrackedSeparately() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T, "a"));
        log.append(Batches.idempotent(PID + 1, EPOCH, 7, T, "b")); // a producer without state may start anywhere

        assertEquals(2, log.append(Batches.idempotent(PID + 1, EPOCH, 8, T, "c")).firstOffset());
        assertTrue(log.append(Batches.idempotent(PID, EPOCH, 0, T, "a")).duplicate());
    }

    @Test
    void theSequenceWrapsAfterIntegerMaxValue() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, Integer.MAX_VALUE - 1, T, "a", "b"));

        AppendResult wrapped = log.append(Batches.idempotent(PID, EPOCH, 0, T, "c"));

        assertFalse(wrapped.duplicate());
        assertEquals(2, wrapped.firstOffset());
    }

    @Test
    void anIdleProducerExpires() throws IOException {
        log.append(Batches.idempotent(PID, EPOCH, 0, T - 10_000, "a"));

        assertEquals(0, log.expireProducers(10_001));
        assertEquals(1, log.expireProducers(10_000));

        AppendResult afterExpiry = log.append(Batches.idempotent(PID, EPOCH, 0, T, "a"));
        assertFalse(afterExpiry.duplicate(), "with its state gone, the batch is new");
    }
}
