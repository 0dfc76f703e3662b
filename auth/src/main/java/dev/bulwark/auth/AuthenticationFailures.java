package dev.bulwark.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Counts failed authentications per source address and per principal name, and says how long to wait before
 * answering a failure (the idea of Kafka's {@code connection.failed.authentication.delay.ms}, made to grow): the
 * n-th failure within the window costs {@code baseDelay * 2^(n-1)}, at most {@code maxDelay}, where n is the larger
 * of the source's count and the principal's count, so guessing one account from many addresses slows down as much
 * as guessing from one. Only failures are delayed: a right password is answered at once.
 *
 * <p>A count lapses once no failure was recorded for it during {@code window}. A success resets the principal's
 * count, not the source's (a client that owns one account cannot clear its record of guessing others). At most
 * {@code maxTracked} sources and as many principals are remembered; beyond that the ones whose last failure is
 * oldest are forgotten first.
 *
 * <p>This class only computes: it never sleeps. The caller schedules the answer (on its event loop's timer, say)
 * after the returned delay. Thread-safe.
 */
public final class AuthenticationFailures {

    /**
     * @param baseDelay  delay after a first failure (Kafka's default for its fixed delay is 100 ms)
     * @param maxDelay   the most any failure is delayed
     * @param window     how long a count is remembered after its last failure
     * @param maxTracked how many sources (and, separately, principals) are remembered at most
     */
    public record Config(Duration baseDelay, Duration maxDelay, Duration window, int maxTracked) {

        public Config {
            Objects.requireNonNull(baseDelay, "baseDelay");
            Objects.requireNonNull(maxDelay, "maxDelay");
            Objects.requireNonNull(window, "window");
            if (baseDelay.isNegative()) {
                throw new IllegalArgumentException("the base delay must not be negative: " + baseDelay);
            }
            if (maxDelay.compareTo(baseDelay) < 0) {
                throw new IllegalArgumentException("the maximum delay " + maxDelay + " is below the base delay "
                        + baseDelay);
            }
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("the window must be positive: " + window);
            }
            if (maxTracked < 1) {
                throw new IllegalArgumentException("maxTracked must be positive: " + maxTracked);
            }
        }

        /** 100 ms base, at most 5 s, counts kept 5 minutes after their last failure, 100 000 keys each. */
        public static Config defaults() {
            return new Config(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofMinutes(5), 100_000);
        }
    }

    private final Config config;
    private final Clock clock;
    private final Counts bySource;
    private final Counts byPrincipal;

    public AuthenticationFailures(Config config, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.bySource = new Counts(config);
        this.byPrincipal = new Counts(config);
    }

    /**
     * Records a failure and returns how long to wait before answering it.
     *
     * @param source    the client's address (without the port: reconnecting must not start a new count)
     * @param principal the username the client claimed, or null when it never got that far
     */
    public synchronized Duration recordFailure(String source, String principal) {
        long now = clock.millis();
        int failures = bySource.increment(Objects.requireNonNull(source, "source"), now);
        if (principal != null) {
            failures = Math.max(failures, byPrincipal.increment(principal, now));
        }
        return delayAfter(failures);
    }

    /** Records a success: the principal's count starts over. */
    public synchronized void recordSuccess(String principal) {
        byPrincipal.reset(principal);
    }

    /** Failures from {@code source} within the window. */
    public synchronized int sourceFailures(String source) {
        return bySource.current(source, clock.millis());
    }

    /** Failures for {@code principal} within the window. */
    public synchronized int principalFailures(String principal) {
        return byPrincipal.current(principal, clock.millis());
    }

    /** The delay for the n-th failure in a row: {@code baseDelay * 2^(n-1)}, at most {@code maxDelay}; 0 for none. */
    public Duration delayAfter(int failures) {
        if (failures <= 0) {
            return Duration.ZERO;
        }
        long base = config.baseDelay().toMillis();
        long max = config.maxDelay().toMillis();
        int shift = Math.min(failures - 1, 62);
        long delay = base > (max >> shift) ? max : base << shift;
        return Duration.ofMillis(Math.min(delay, max));
    }

    /** Counts whose insertion order is the order of their last failure, so the stalest come first. */
    private static final class Counts {
        private final long windowMs;
        private final int maxTracked;
        private final LinkedHashMap<String, Count> counts = new LinkedHashMap<>();

        Counts(Config config) {
            this.windowMs = config.window().toMillis();
            this.maxTracked = config.maxTracked();
        }

        int increment(String key, long now) {
            expire(now);
            Count previous = counts.remove(key);
            int n = previous == null || lapsed(previous, now) ? 1 : previous.failures + 1;
            counts.put(key, new Count(n, now));
            while (counts.size() > maxTracked) {
                Iterator<String> eldest = counts.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            return n;
        }

        int current(String key, long now) {
            Count count = counts.get(key);
            return count == null || lapsed(count, now) ? 0 : count.failures;
        }

        void reset(String key) {
            counts.remove(key);
        }

        private void expire(long now) {
            Iterator<Map.Entry<String, Count>> it = counts.entrySet().iterator();
            while (it.hasNext() && lapsed(it.next().getValue(), now)) {
                it.remove();
            }
        }

        private boolean lapsed(Count count, long now) {
            return now - count.lastFailureMs >= windowMs;
        }
    }

    private record Count(int failures, long lastFailureMs) {
    }
}
