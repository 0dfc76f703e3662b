package dev.bulwark.acl.quota;

/**
 * How usage is measured, as Kafka measures it: {@code quota.window.num} samples of {@code quota.window.size.seconds}
 * each; the rate is what the samples hold over the time they span.
 *
 * @param samples  how many samples are kept (Kafka's default 11)
 * @param sampleMs how long each sample lasts (Kafka's default 1 s)
 */
public record QuotaWindow(int samples, long sampleMs) {

    public static final QuotaWindow KAFKA_DEFAULT = new QuotaWindow(11, 1000);

    public QuotaWindow {
        if (samples < 2) {
            throw new IllegalArgumentException("quota.window.num must be at least 2, not " + samples);
        }
        if (sampleMs < 1) {
            throw new IllegalArgumentException("the quota window sample must last at least 1 ms, not " + sampleMs);
        }
    }

    /** The time all samples span: the longest a byte-rate throttle lasts. */
    public long spanMs() {
        return samples * sampleMs;
    }
}
