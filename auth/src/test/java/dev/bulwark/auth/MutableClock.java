package dev.bulwark.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock the test moves by hand: time is a parameter, never a sleep. */
public final class MutableClock extends Clock {

    /** 2023-11-14T22:13:20Z: an arbitrary, fixed start so timestamps in tests are reproducible. */
    public static final long START_MS = 1_700_000_000_000L;

    private final AtomicLong millis;

    public MutableClock() {
        this(Instant.ofEpochMilli(START_MS));
    }

    public MutableClock(Instant start) {
        millis = new AtomicLong(start.toEpochMilli());
    }

    public void set(Instant instant) {
        millis.set(instant.toEpochMilli());
    }

    public void advance(Duration by) {
        millis.addAndGet(by.toMillis());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("tests use UTC");
    }
}
