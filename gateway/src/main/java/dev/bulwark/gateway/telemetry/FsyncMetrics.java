package dev.bulwark.gateway.telemetry;

import dev.bulwark.storage.PartitionLog;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** How long forcing appended data to stable storage takes, as the partitions report it: {@code bulwark_fsync_latency_seconds}. */
public final class FsyncMetrics implements PartitionLog.Listener {

    /** 50 µs (a cache-backed disk) to 2 s (a saturated or failing one). */
    private static final Duration[] BUCKETS = {
            Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000),
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(500), Duration.ofSeconds(2)};

    private final Timer latency;

    public FsyncMetrics(MeterRegistry registry) {
        this.latency = Timer.builder("bulwark.fsync.latency")
                .description("Time to force a partition's appended data to stable storage")
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    @Override
    public void highWatermarkAdvanced(PartitionLog log) {
        // Only fsyncs are timed.
    }

    @Override
    public void flushed(PartitionLog log, long nanos) {
        latency.record(nanos, TimeUnit.NANOSECONDS);
    }
}
