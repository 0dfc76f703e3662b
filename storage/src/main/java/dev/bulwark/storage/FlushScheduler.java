package dev.bulwark.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs fsyncs off the request threads, with group commit: a partition asks for a flush when an append needs one, and
 * everything appended to it while a flush is running is covered by the next one, so concurrent producers share
 * fsyncs. Flushes of different partitions run in parallel on a small pool.
 */
public final class FlushScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FlushScheduler.class);

    private final ExecutorService flushers;

    public FlushScheduler(int threads) {
        AtomicInteger n = new AtomicInteger();
        this.flushers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bulwark-flush-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Queues a flush of {@code log} unless one is already queued (one that has not started yet covers this call). */
    void request(PartitionLog log) {
        if (log.markFlushQueued()) {
            try {
                flushers.execute(() -> run(log));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                log.clearFlushQueued();
                LOG.debug("flush of {} not queued: shutting down", log.id());
            }
        }
    }

    private static void run(PartitionLog log) {
        log.clearFlushQueued();
        log.flush();
    }

    @Override
    public void close() throws InterruptedException {
        flushers.shutdown();
        if (!flushers.awaitTermination(30, TimeUnit.SECONDS)) {
            LOG.warn("flush threads did not finish within 30 s");
            flushers.shutdownNow();
        }
    }
}
