package dev.bulwark.gateway.health;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Whether the event loops still run what is queued to them: every second a no-op is queued to each loop that has none
 * waiting. A loop whose no-op has waited longer than the stall timeout is stalled: blocked by
 * code that must not block, or starved. The Kafka listeners and the HTTP server both run on these loops.
 */
public final class EventLoopHeartbeat implements AutoCloseable {

    private static final long BEAT_MS = 1000;

    private final List<EventExecutor> loops = new ArrayList<>();
    private final AtomicLongArray queuedSince;
    private final long stallNanos;
    private final ScheduledExecutorService timer;

    public EventLoopHeartbeat(EventLoopGroup group, Duration stallTimeout, ScheduledExecutorService timer) {
        group.forEach(loops::add);
        this.queuedSince = new AtomicLongArray(loops.size());
        this.stallNanos = stallTimeout.toNanos();
        this.timer = timer;
        timer.scheduleWithFixedDelay(this::beat, 0, BEAT_MS, TimeUnit.MILLISECONDS);
    }

    private void beat() {
        for (int i = 0; i < loops.size(); i++) {
            int loop = i;
            // Only one no-op in a loop's queue at a time: a stalled loop does not pile them up.
            if (queuedSince.compareAndSet(loop, 0, System.nanoTime())) {
                loops.get(loop).execute(() -> queuedSince.set(loop, 0));
            }
        }
    }

    /** The loops (by index) that have not run a queued no-op for longer than the stall timeout, with how long. */
    public List<String> stalled() {
        List<String> stalled = new ArrayList<>();
        long now = System.nanoTime();
        for (int i = 0; i < loops.size(); i++) {
            long queued = queuedSince.get(i);
            if (queued != 0 && now - queued > stallNanos) {
                stalled.add("event loop " + i + " stalled for " + Duration.ofNanos(now - queued).toMillis() + " ms");
            }
        }
        return stalled;
    }

    public int loops() {
        return loops.size();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
