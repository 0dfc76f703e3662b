package dev.bulwark.gateway.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} with its own {@link Clock} that stands still until the test moves it: time is a
 * parameter, never a sleep. Tasks run on the test's thread inside {@link #advance}, in order of due time (then of
 * scheduling), each with the clock set to its due time. A task that throws fails the {@code advance} that ran it, so
 * a broken timer cannot go unnoticed as it would in a real executor.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    /** 2023-11-14T22:13:20Z: an arbitrary fixed start, so timestamps in tests are reproducible. */
    public static final long START_MS = 1_700_000_000_000L;

    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private final Clock clock = new ManualClock();
    /** Written only by the test's thread; volatile because the log store's threads read the clock too. */
    private volatile long nowMs = START_MS;
    private long sequence;
    private boolean shutdown;

    /** The clock this scheduler's time runs on; inject it wherever the code under test reads time. */
    public Clock clock() {
        return clock;
    }

    public long nowMs() {
        return nowMs;
    }

    /** Moves time forward by {@code by}, running every task that falls due on the way. */
    public void advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("time only moves forward");
        }
        long target = nowMs + by.toMillis();
        List<Throwable> failures = new ArrayList<>();
        while (!queue.isEmpty() && queue.peek().dueMs <= target) {
            Task<?> task = queue.poll();
            nowMs = Math.max(nowMs, task.dueMs);
            Throwable failure = task.runAndReschedule();
            if (failure != null) {
                failures.add(failure);
            }
        }
        nowMs = target;
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("a scheduled task failed", failures.get(0));
            failures.subList(1, failures.size()).forEach(error::addSuppressed);
            throw error;
        }
    }

    /** Runs what is due now without moving time (tasks given to {@link #execute}, zero delays). */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** Tasks waiting to run (cancelled ones are gone). */
    public int pending() {
        return queue.size();
    }

    /** When the next task falls due, or -1 when none waits. */
    public long nextDueMs() {
        return queue.isEmpty() ? -1 : queue.peek().dueMs;
    }

    // ---------------------------------------------------------------- ScheduledExecutorService

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return enqueue(Executors.callable(command), delay, unit, 0);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return enqueue(callable, delay, unit, 0);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return enqueue(Executors.callable(command), initialDelay, unit, requirePositive(unit.toMillis(period)));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        // Tasks take no time here, so a fixed delay and a fixed rate are the same thing.
        return enqueue(Executors.callable(command), initialDelay, unit, requirePositive(unit.toMillis(delay)));
    }

    @Override
    public void execute(Runnable command) {
        enqueue(Executors.callable(command), 0, TimeUnit.MILLISECONDS, 0);
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> never = new ArrayList<>(queue);
        queue.clear();
        return never;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    private static long requirePositive(long periodMs) {
        if (periodMs <= 0) {
            throw new IllegalArgumentException("period must be positive");
        }
        return periodMs;
    }

    private <V> Task<V> enqueue(Callable<V> callable, long delay, TimeUnit unit, long periodMs) {
        if (shutdown) {
            throw new RejectedExecutionException("the scheduler is shut down");
        }
        Task<V> task = new Task<>(callable, nowMs + Math.max(0, unit.toMillis(delay)), periodMs, sequence++);
        queue.add(task);
        return task;
    }

    private final class Task<V> implements RunnableScheduledFuture<V> {
        private final Callable<V> callable;
        private final long periodMs;
        private long dueMs;
        private long order;
        private boolean cancelled;
        private boolean done;
        private V result;
        private Throwable failure;

        Task(Callable<V> callable, long dueMs, long periodMs, long order) {
            this.callable = callable;
            this.dueMs = dueMs;
            this.periodMs = periodMs;
            this.order = order;
        }

        /** Runs once; a periodic task goes back in the queue. Returns what it threw, if anything. */
        Throwable runAndReschedule() {
            try {
                result = callable.call();
            } catch (Throwable t) {
                failure = t;
                done = true;
                return t;
            }
            if (periodMs > 0 && !shutdown) {
                dueMs += periodMs;
                order = sequence++;
                queue.add(this);
            } else {
                done = true;
            }
            return null;
        }

        @Override
        public void run() {
            runAndReschedule();
        }

        @Override
        public boolean isPeriodic() {
            return periodMs > 0;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueMs - nowMs, TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> that = (Task<?>) other;
            int byTime = Long.compare(dueMs, that.dueMs);
            return byTime != 0 ? byTime : Long.compare(order, that.order);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done || cancelled) {
                return false;
            }
            cancelled = true;
            queue.remove(this);
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public V get() throws ExecutionException {
            if (cancelled) {
                throw new CancellationException();
            }
            if (!done) {
                throw new IllegalStateException("not run yet: advance the ManualScheduler (due at " + dueMs + ")");
            }
            if (failure != null) {
                throw new ExecutionException(failure);
            }
            return result;
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws ExecutionException {
            return get();
        }
    }

    private final class ManualClock extends Clock {
        @Override
        public long millis() {
            return nowMs;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(nowMs);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("tests run in UTC");
        }
    }
}
