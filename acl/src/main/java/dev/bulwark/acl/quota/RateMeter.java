package dev.bulwark.acl.quota;

import java.util.Arrays;

/**
 * A rate over a sliding window of samples, with Kafka's semantics ({@code org.apache.kafka.common.metrics.stats.Rate}
 * over a {@code SampledStat}): a value goes into the current sample, which ends after {@link QuotaWindow#sampleMs};
 * samples older than the whole window are forgotten; the rate is the sum of the samples divided by the time from the
 * start of the oldest sample to now, counted as at least {@code samples - 1} whole samples, so that a burst right
 * after a quiet spell is not measured over a tiny interval.
 *
 * <p>Thread safety: every method is synchronized; the work under the lock is a few arithmetic operations.
 */
public final class RateMeter {

    private final QuotaWindow window;
    private final double[] values;
    private final long[] starts;
    private int current;
    private volatile long lastRecordMs;

    public RateMeter(QuotaWindow window, long nowMs) {
        this.window = window;
        this.values = new double[window.samples()];
        this.starts = new long[window.samples()];
        Arrays.fill(starts, Long.MIN_VALUE);
        starts[0] = nowMs;
        this.lastRecordMs = nowMs;
    }

    /** Adds {@code value} at {@code nowMs} and returns the rate including it, per second. */
    public synchronized double record(double value, long nowMs) {
        advance(nowMs);
        values[current] += value;
        lastRecordMs = nowMs;
        return measure(nowMs);
    }

    /** Takes back a value recorded at about {@code nowMs} (its sample may have ended: then the current one pays). */
    public synchronized void unrecord(double value, long nowMs) {
        advance(nowMs);
        values[current] -= value;
    }

    /** The rate per second at {@code nowMs}. */
    public synchronized double rate(long nowMs) {
        advance(nowMs);
        return measure(nowMs);
    }

    /** The time the rate is measured over at {@code nowMs}, in ms. */
    public synchronized long windowMs(long nowMs) {
        advance(nowMs);
        return elapsed(nowMs);
    }

    /** When a value was last recorded, so that idle meters can be dropped. */
    public long lastRecordMs() {
        return lastRecordMs;
    }

    private double measure(long nowMs) {
        double total = 0;
        for (double value : values) {
            total += value;
        }
        return total * 1000.0 / elapsed(nowMs);
    }

    private long elapsed(long nowMs) {
        long oldest = nowMs;
        for (long start : starts) {
            if (start != Long.MIN_VALUE && start < oldest) {
                oldest = start;
            }
        }
        long elapsed = nowMs - oldest;
        long fullSamples = elapsed / window.sampleMs();
        long minFullSamples = window.samples() - 1L;
        if (fullSamples < minFullSamples) {
            elapsed += (minFullSamples - fullSamples) * window.sampleMs();
        }
        return Math.max(elapsed, 1);
    }

    /** Moves to a fresh sample when the current one has ended, and forgets samples older than the window. */
    private void advance(long nowMs) {
        if (nowMs >= starts[current] + window.sampleMs()) {
            current = (current + 1) % values.length;
            values[current] = 0;
            starts[current] = nowMs;
        }
        long expired = nowMs - window.spanMs();
        for (int i = 0; i < values.length; i++) {
            if (i != current && starts[i] != Long.MIN_VALUE && starts[i] + window.sampleMs() <= expired) {
                values[i] = 0;
                starts[i] = Long.MIN_VALUE;
            }
        }
    }
}
