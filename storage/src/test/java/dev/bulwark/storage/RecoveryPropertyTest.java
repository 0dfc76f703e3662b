package dev.bulwark.storage;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random appends, a crash at a random point, random damage to what was not yet fsynced; the reopened log must be a
 * prefix of what was appended, byte for byte, holding every acknowledged batch, with offsets and producer state
 * continuing after it.
 *
 * <p>Each run is determined by its seed. To repeat a failure: {@code -Dbulwark.recovery.seed=<seed>
 * -Dbulwark.recovery.seeds=1}; for a longer search raise {@code bulwark.recovery.seeds}.
 */
class RecoveryPropertyTest {

    private static final long T = MutableClock.START_MS;
    private static final long FIRST_SEED = Long.getLong("bulwark.recovery.seed", 0x5EED_0000L);
    private static final int SEEDS = Integer.getInteger("bulwark.recovery.seeds", 30);
    private static final long PRODUCER = 42L;
    private static final Compression[] CODECS = {Compression.NONE, Compression.NONE, Compression.gzip().build(),
            Compression.lz4().build(), Compression.zstd().build(), Compression.snappy().build()};

    @TempDir
    Path root;

    static Stream<Long> seeds() {
        return LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).boxed();
    }

    /** One appended batch: as the log must store it, and as the producer sent it (to retry it). */
    private record Appended(long baseOffset, long lastOffset, byte[] stored, byte[] sent, int sequence) {
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theLogRecoversToAPrefixHoldingEveryAcknowledgedBatch(long seed) throws Exception {
        try {
            run(seed);
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + " failed; repeat it with -Dbulwark.recovery.seed=" + seed
                    + " -Dbulwark.recovery.seeds=1", t);
        }
    }

    private void run(long seed) throws Exception {
        Random random = new Random(seed);
        MutableClock clock = new MutableClock();
        Path dataDir = root.resolve("data");
        Path crashDir = root.resolve("crash");
        Map<String, String> configs = Map.of(LogConfig.SEGMENT_BYTES, Integer.toString(1024 + random.nextInt(3072)),
                LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(random.nextInt(2048)));

        List<Appended> appended = new ArrayList<>();
        long acknowledgedEnd;
        Path partition;
        try (LogManager store = Stores.open(dataDir, clock, FlushPolicy.DURABLE)) {
            TopicMetadata topic = store.createTopic(TopicMetadata.DEFAULT_TENANT_ID, "t", 1, configs);
            PartitionLog log = Stores.log(store, "t", 0);
            int sequence = 0;
            int batches = 5 + random.nextInt(60);
            for (int i = 0; i < batches; i++) {
                boolean idempotent = random.nextInt(4) == 0;
                MemoryRecords records = randomBatch(random, idempotent ? sequence : -1);
                byte[] sent = Batches.bytes(records);
                AppendResult result = log.append(records);
                appended.add(new Appended(result.firstOffset(), result.lastOffset(), stored(sent, result.firstOffset()),
                        sent, idempotent ? sequence : -1));
                if (idempotent) {
                    sequence += (int) (result.lastOffset() - result.firstOffset() + 1);
                }
                if (random.nextInt(3) == 0) {
                    log.awaitHighWatermark(result.lastOffset()).get(10, TimeUnit.SECONDS); // acks=all
                }
                if (random.nextInt(15) == 0) {
                    store.writeCheckpoints(); // moves the recovery point: later starts recover less
                }
            }
            // The crash: what is acknowledged now must survive; the files are taken as they are.
            acknowledgedEnd = log.highWatermark();
            Stores.copyTree(dataDir, crashDir);
            partition = Stores.partitionDir(crashDir, topic, 0);
        }
        String damage = damageUnflushedTail(random, partition, appended, acknowledgedEnd);

        try (LogManager store = Stores.open(crashDir, clock, FlushPolicy.DURABLE)) {
            PartitionLog log = Stores.log(store, "t", 0);
            List<MutableRecordBatch> recovered = Batches.readAll(log);
            String context = damage + "; " + appended.size() + " batches appended, acknowledged below offset "
                    + acknowledgedEnd + ", " + recovered.size() + " recovered";

            long acknowledged = appended.stream().filter(a -> a.lastOffset() < acknowledgedEnd).count();
            assertTrue(recovered.size() >= acknowledged, "an acknowledged batch is lost: " + context);
            assertTrue(recovered.size() <= appended.size(), "more batches than appended: " + context);
            for (int i = 0; i < recovered.size(); i++) {
                assertEquals(HexFormat.of().formatHex(appended.get(i).stored()),
                        HexFormat.of().formatHex(bytes(recovered.get(i))), "batch " + i + " differs: " + context);
            }
            long end = recovered.isEmpty() ? 0 : recovered.get(recovered.size() - 1).nextOffset();
            assertEquals(end, log.logEndOffset(), context);
            assertEquals(end, log.highWatermark(), context);
            assertFalse(log.isOffline(), context);

            assertEquals(end, Stores.appendAcked(log, Batches.plain(T, "after the crash")).firstOffset(), context);
            checkProducerState(log, appended.subList(0, recovered.size()), context);
        }
    }

    /** A retry of the producer's last surviving batch is a duplicate; its next sequence is accepted. */
    private static void checkProducerState(PartitionLog log, List<Appended> survived, String context) {
        Appended last = null;
        for (Appended a : survived) {
            if (a.sequence() >= 0) {
                last = a;
            }
        }
        if (last == null) {
            return;
        }
        AppendResult retry = log.append(Batches.wrap(last.sent().clone()));
        assertTrue(retry.duplicate(), "a retry of the last surviving idempotent batch is not a duplicate: " + context);
        assertEquals(last.baseOffset(), retry.firstOffset(), context);
        int next = last.sequence() + (int) (last.lastOffset() - last.baseOffset() + 1);
        assertFalse(log.append(Batches.idempotent(PRODUCER, (short) 0, next, T, "next")).duplicate(), context);
    }

    private static MemoryRecords randomBatch(Random random, int sequence) {
        Compression codec = CODECS[random.nextInt(CODECS.length)];
        SimpleRecord[] records = new SimpleRecord[1 + random.nextInt(5)];
        for (int i = 0; i < records.length; i++) {
            byte[] value = new byte[random.nextInt(400)];
            // Half random, half repetitive, so compression has something to do.
            for (int b = 0; b < value.length; b++) {
                value[b] = (byte) (b < value.length / 2 ? random.nextInt() : 'a' + b % 7);
            }
            byte[] key = random.nextBoolean() ? null : Batches.utf8("key-" + random.nextInt(10));
            records[i] = new SimpleRecord(T - random.nextInt(100_000), key, value);
        }
        return sequence < 0 ? MemoryRecords.withRecords(codec, records)
                : MemoryRecords.withIdempotentRecords(codec, PRODUCER, (short) 0, sequence, records);
    }

    /** The producer's batch as the log stores it: at its offset, in leader epoch 0. */
    private static byte[] stored(byte[] sent, long baseOffset) {
        ByteBuffer batch = ByteBuffer.wrap(sent.clone());
        batch.putLong(0, baseOffset).putInt(12, PartitionLog.LEADER_EPOCH);
        return batch.array();
    }

    private static byte[] bytes(MutableRecordBatch batch) {
        ByteBuffer buffer = ByteBuffer.allocate(batch.sizeInBytes());
        batch.writeTo(buffer);
        return buffer.array();
    }

    /**
     * Damages the newest segment past its last acknowledged batch, as a machine crash may: only the newest segment
     * has unflushed bytes (a roll fsyncs the segment it closes). The tail is cut at a random byte and/or followed by
     * garbage: random bytes, zeroes (blocks allocated but never written) or stale bytes from earlier in the file.
     *
     * @return what was done, for failure messages
     */
    private static String damageUnflushedTail(Random random, Path partition, List<Appended> appended,
                                              long acknowledgedEnd) throws IOException {
        List<Path> segments = Partitions.segmentFiles(partition);
        Path newest = segments.get(segments.size() - 1);
        long base = Long.parseLong(newest.getFileName().toString().replace(Segment.LOG_SUFFIX, ""));
        long size = Partitions.dataEnd(newest);
        // Bytes of the newest segment that hold acknowledged batches; a segment's header is fsynced when it is
        // created, before anything is appended to it, so it is safe only once a batch is acknowledged in it.
        long safe = 0;
        long position = Segment.HEADER_SIZE;
        for (Appended a : appended) {
            if (a.baseOffset() >= base) {
                if (a.lastOffset() < acknowledgedEnd) {
                    safe = position + Frame.sizeOf(a.stored().length);
                }
                position += Frame.sizeOf(a.stored().length);
            }
        }
        assertEquals(size, position, "the test's model of the newest segment");

        StringBuilder done = new StringBuilder("newest segment " + newest.getFileName() + " of " + size
                + " bytes of batches (" + Files.size(newest) + " with preallocated space)");
        long cut = size;
        if (random.nextBoolean()) {
            cut = safe < Segment.HEADER_SIZE && random.nextInt(8) == 0
                    ? random.nextInt(Segment.HEADER_SIZE) // the crash came while the segment was being created
                    : safe + (long) (random.nextDouble() * (size - safe + 1));
            cut = Math.min(cut, size);
            try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            done.append(", cut to ").append(cut);
        }
        if (cut >= Segment.HEADER_SIZE && random.nextBoolean()) {
            byte[] garbage = new byte[1 + random.nextInt(3000)];
            String kind;
            switch (random.nextInt(3)) {
                case 0 -> {
                    random.nextBytes(garbage);
                    kind = "random";
                }
                case 1 -> kind = "zero";
                default -> {
                    byte[] file = Files.readAllBytes(newest);
                    int from = random.nextInt(file.length);
                    garbage = Arrays.copyOfRange(file, from, Math.min(file.length, from + garbage.length));
                    kind = "stale (from position " + from + ")";
                }
            }
            try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(garbage), cut);
            }
            done.append(", then ").append(garbage.length).append(' ').append(kind).append(" bytes");
        }
        return done.toString();
    }
}
