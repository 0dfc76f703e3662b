package dev.bulwark.acl.quota;

import dev.bulwark.acl.TestSealedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rate measurement and throttle arithmetic, with time as a parameter. */
class QuotaThrottleTest {

    @TempDir
    Path dir;

    private QuotaStore openStore() throws IOException {
        return QuotaStore.open(dir, TestSealedFiles.in(dir));
    }

    private static final QuotaWindow WINDOW = QuotaWindow.KAFKA_DEFAULT;

    @Test
    void throttleBringsTheRateBackToTheQuota() {
        // O = 3T over W = 10 s: waiting 2 W makes 3T * W / 3W = T.
        assertEquals(20_000, Throttle.timeMs(300, 100, 10_000, Long.MAX_VALUE));
        assertEquals(0, Throttle.timeMs(100, 100, 10_000, Long.MAX_VALUE));
        assertEquals(0, Throttle.timeMs(50, 100, 10_000, Long.MAX_VALUE));
        assertEquals(1_000, Throttle.timeMs(300, 100, 10_000, 1_000));
    }

    @Test
    void aFreshMeterMeasuresOverAtLeastTenSamples() {
        RateMeter meter = new RateMeter(WINDOW, 0);
        // 10 samples - 1 whole ones = 10 s, however early: 1000 bytes at once is 100 B/s, not a huge burst rate.
        assertEquals(100.0, meter.record(1000, 0), 1e-9);
        assertEquals(10_000, meter.windowMs(0));
        assertEquals(10_000, meter.windowMs(5_000));
    }

    @Test
    void steadyUsageIsMeasuredAtItsRate() {
        RateMeter meter = new RateMeter(WINDOW, 0);
        double rate = 0;
        for (long t = 0; t < 60_000; t += 100) {
            rate = meter.record(50, t); // 500 per second
        }
        assertEquals(500, rate, 500 * 0.12);
    }

    @Test
    void oldSamplesAreForgotten() {
        RateMeter meter = new RateMeter(WINDOW, 0);
        meter.record(1_000_000, 0);
        assertTrue(meter.rate(5_000) > 0);
        assertEquals(0.0, meter.rate(WINDOW.spanMs() + 2 * WINDOW.sampleMs()), 1e-9);
    }

    @Test
    void aProducerThatWaitsOutItsThrottlesKeepsToTheQuota() throws Exception {
        ManualClock clock = new ManualClock(1_000_000);
        QuotaStore store = openStore();
        store.alter(List.of(new QuotaStore.Alteration(new QuotaEntity.Client("t", EntityName.of("alice"), null),
                QuotaKind.PRODUCER_BYTE_RATE, 10_000.0)));
        QuotaManager quotas = new QuotaManager(store, WINDOW, clock);
        long start = clock.millis();
        long sent = 0;
        int throttled = 0;
        while (clock.millis() - start < 120_000) {
            int throttle = quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "alice", "app", 5_000);
            sent += 5_000;
            clock.advance(10 + throttle); // a client that sends as fast as it may
            throttled += throttle > 0 ? 1 : 0;
        }
        double rate = sent * 1000.0 / (clock.millis() - start);
        assertTrue(throttled > 0);
        assertTrue(rate <= 10_000 * 1.2 && rate >= 10_000 * 0.8, "rate " + rate);
    }

    @Test
    void aClientWithinItsQuotaIsNeverThrottledAndTheTenantQuotaCapsTheSum() throws Exception {
        ManualClock clock = new ManualClock(0);
        QuotaStore store = openStore();
        store.replace(new QuotaEntity.Tenant("t"), QuotaLimits.of(Map.of(QuotaKind.PRODUCER_BYTE_RATE, 1000.0)));
        store.alter(List.of(new QuotaStore.Alteration(new QuotaEntity.Client("t", EntityName.DEFAULT, null),
                QuotaKind.PRODUCER_BYTE_RATE, 800.0)));
        QuotaManager quotas = new QuotaManager(store, WINDOW, clock);
        int aliceThrottle = 0;
        int bobThrottle = 0;
        for (int i = 0; i < 100; i++) {
            aliceThrottle = Math.max(aliceThrottle, quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "alice", "a", 60));
            bobThrottle = Math.max(bobThrottle, quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "bob", "b", 60));
            clock.advance(100);
        }
        // each at 600 B/s stays below its own 800 B/s, but together 1200 B/s exceed the tenant's 1000 B/s
        assertTrue(aliceThrottle > 0 && bobThrottle > 0);
        assertEquals(0, quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "other", "alice", "a", 1e9));
    }

    @Test
    void requestTimeThrottleLastsAtMostOneSample() throws Exception {
        ManualClock clock = new ManualClock(0);
        QuotaStore store = openStore();
        store.alter(List.of(new QuotaStore.Alteration(new QuotaEntity.Client("t", null, EntityName.DEFAULT),
                QuotaKind.REQUEST_PERCENTAGE, 1.0)));
        QuotaManager quotas = new QuotaManager(store, WINDOW, clock);
        assertEquals(WINDOW.sampleMs(), quotas.record(QuotaKind.REQUEST_PERCENTAGE, "t", "u", "c", 1_000));
    }

    @Test
    void aThrottledAddressIsNotCounted() throws Exception {
        ManualClock clock = new ManualClock(0);
        QuotaStore store = openStore();
        store.alter(List.of(new QuotaStore.Alteration(new QuotaEntity.Ip(EntityName.DEFAULT),
                QuotaKind.CONNECTION_CREATION_RATE, 1.0)));
        QuotaManager quotas = new QuotaManager(store, WINDOW, clock);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, quotas.recordConnection("10.0.0.7"), "connection " + i);
        }
        int refused = quotas.recordConnection("10.0.0.7");
        assertTrue(refused > 0 && refused <= WINDOW.sampleMs());
        assertTrue(quotas.recordConnection("10.0.0.7") > 0);
        assertEquals(0, quotas.recordConnection("10.0.0.8"));
        clock.advance(WINDOW.spanMs() + 2 * WINDOW.sampleMs());
        assertEquals(0, quotas.recordConnection("10.0.0.7"));
    }

    @Test
    void aChangedQuotaAppliesAtOnce() throws Exception {
        ManualClock clock = new ManualClock(0);
        QuotaStore store = openStore();
        QuotaEntity alice = new QuotaEntity.Client("t", EntityName.of("alice"), null);
        store.alter(List.of(new QuotaStore.Alteration(alice, QuotaKind.PRODUCER_BYTE_RATE, 1e9)));
        QuotaManager quotas = new QuotaManager(store, WINDOW, clock);
        assertEquals(0, quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "alice", "a", 10_000));
        store.alter(List.of(new QuotaStore.Alteration(alice, QuotaKind.PRODUCER_BYTE_RATE, 10.0)));
        assertTrue(quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "alice", "a", 10_000) > 0);
        store.alter(List.of(new QuotaStore.Alteration(alice, QuotaKind.PRODUCER_BYTE_RATE, null)));
        assertEquals(0, quotas.record(QuotaKind.PRODUCER_BYTE_RATE, "t", "alice", "a", 10_000));
    }
}
