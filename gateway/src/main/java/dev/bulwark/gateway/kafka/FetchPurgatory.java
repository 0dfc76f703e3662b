package dev.bulwark.gateway.kafka;

import dev.bulwark.storage.PartitionLog;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Fetches waiting for data (long poll): each waits on its partitions until a high watermark moves or its max wait
 * passes. Wake-ups come from the log store's flush threads; the re-check, which reads the logs, runs on the
 * request pool.
 */
public final class FetchPurgatory implements PartitionLog.Listener, AutoCloseable {

    /** A fetch that can be retried. */
    interface Waiting {
        /** Completes the fetch if it can (or must, when {@code expired}); true once it is complete. */
        boolean tryComplete(boolean expired);
    }

    private final Executor pool;
    private final ScheduledThreadPoolExecutor timer;
    private final ConcurrentHashMap<PartitionLog, Set<Waiting>> watchers = new ConcurrentHashMap<>();

    public FetchPurgatory(Executor pool) {
        this.pool = pool;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "bulwark-fetch-timer");
            t.setDaemon(true);
            return t;
        });
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /** Parks {@code fetch} on {@code logs} for at most {@code maxWaitMs}, then checks it once more (no lost wake-up). */
    void watch(Waiting fetch, Collection<PartitionLog> logs, long maxWaitMs) {
        for (PartitionLog log : logs) {
            watchers.computeIfAbsent(log, l -> ConcurrentHashMap.newKeySet()).add(fetch);
        }
        ScheduledFuture<?> expiry = timer.schedule(() -> run(fetch, logs, true, null), maxWaitMs, TimeUnit.MILLISECONDS);
        run(fetch, logs, false, expiry);
    }

    private void run(Waiting fetch, Collection<PartitionLog> logs, boolean expired, ScheduledFuture<?> expiry) {
        try {
            pool.execute(() -> {
                if (fetch.tryComplete(expired)) {
                    for (PartitionLog log : logs) {
                        Set<Waiting> waiting = watchers.get(log);
                        if (waiting != null) {
                            waiting.remove(fetch);
                        }
                    }
                    if (expiry != null) {
                        expiry.cancel(false);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            fetch.tryComplete(true);
        }
    }

    @Override
    public void highWatermarkAdvanced(PartitionLog log) {
        Set<Waiting> waiting = watchers.get(log);
        if (waiting == null || waiting.isEmpty()) {
            return;
        }
        for (Waiting fetch : waiting) {
            pool.execute(() -> {
                if (fetch.tryComplete(false)) {
                    waiting.remove(fetch);
                }
            });
        }
    }

    /** Forgets the waiters of a partition whose topic was deleted (they expire on their own). */
    public void forget(PartitionLog log) {
        watchers.remove(log);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
