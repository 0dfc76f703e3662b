package dev.bulwark.acl.quota;

/**
 * How long a client that went over its quota must wait, as Kafka computes it: with observed rate O over a window of
 * W against quota T, waiting X brings the rate back to the quota when O * W / (W + X) = T, so X = (O - T) / T * W.
 */
public final class Throttle {

    private Throttle() {
    }

    /**
     * @param rate     the observed rate, including what was just recorded
     * @param bound    the quota
     * @param windowMs the time the rate was measured over
     * @param maxMs    the longest throttle handed out
     * @return the throttle in ms: 0 within the quota, at most {@code maxMs}
     */
    public static int timeMs(double rate, double bound, long windowMs, long maxMs) {
        if (!(rate > bound)) {
            return 0;
        }
        double ms = (rate - bound) / bound * windowMs;
        return (int) Math.min(Math.round(ms), Math.min(maxMs, Integer.MAX_VALUE));
    }
}
