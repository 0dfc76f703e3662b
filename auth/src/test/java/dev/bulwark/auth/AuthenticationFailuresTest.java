package dev.bulwark.auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AuthenticationFailuresTest {

    private final MutableClock clock = new MutableClock();
    private final AuthenticationFailures failures = new AuthenticationFailures(
            new AuthenticationFailures.Config(Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofMinutes(1), 3),
            clock);

    @Test
    void theDelayDoublesFromTheSameSourceUpToTheCap() {
        assertEquals(Duration.ofMillis(100), failures.recordFailure("10.0.0.1", "alice"));
        assertEquals(Duration.ofMillis(200), failures.recordFailure("10.0.0.1", "bob"));
        assertEquals(Duration.ofMillis(400), failures.recordFailure("10.0.0.1", "carol"));
        assertEquals(Duration.ofMillis(800), failures.recordFailure("10.0.0.1", null));
        assertEquals(Duration.ofMillis(1000), failures.recordFailure("10.0.0.1", null));
        for (int i = 0; i < 100; i++) {
            assertEquals(Duration.ofMillis(1000), failures.recordFailure("10.0.0.1", null));
        }
        assertEquals(105, failures.sourceFailures("10.0.0.1"));
        assertEquals(1, failures.principalFailures("alice"));
    }

    @Test
    void oneAccountGuessedFromManySourcesSlowsDownToo() {
        failures.recordFailure("10.0.0.1", "alice");
        failures.recordFailure("10.0.0.2", "alice");
        assertEquals(Duration.ofMillis(400), failures.recordFailure("10.0.0.3", "alice"));
        assertEquals(Duration.ofMillis(100), failures.recordFailure("10.0.0.4", "bob"));
    }

    @Test
    void countsLapseAfterAQuietWindow() {
        failures.recordFailure("10.0.0.1", "alice");
        failures.recordFailure("10.0.0.1", "alice");
        clock.advance(Duration.ofSeconds(59));
        assertEquals(Duration.ofMillis(400), failures.recordFailure("10.0.0.1", "alice"),
                "each failure keeps the count alive");
        clock.advance(Duration.ofSeconds(60));
        assertEquals(0, failures.sourceFailures("10.0.0.1"));
        assertEquals(0, failures.principalFailures("alice"));
        assertEquals(Duration.ofMillis(100), failures.recordFailure("10.0.0.1", "alice"));
    }

    @Test
    void aSuccessResetsThePrincipalButNotTheSource() {
        failures.recordFailure("10.0.0.1", "alice");
        failures.recordFailure("10.0.0.1", "alice");
        failures.recordSuccess("alice");
        assertEquals(0, failures.principalFailures("alice"));
        assertEquals(2, failures.sourceFailures("10.0.0.1"));
        assertEquals(Duration.ofMillis(100), failures.recordFailure("10.0.0.2", "alice"));
        assertEquals(Duration.ofMillis(400), failures.recordFailure("10.0.0.1", "alice"));
    }

    @Test
    void remembersAtMostMaxTrackedKeysForgettingTheStalest() {
        failures.recordFailure("a", null);
        failures.recordFailure("a", null);
        clock.advance(Duration.ofMillis(1));
        failures.recordFailure("b", null);
        failures.recordFailure("c", null);
        failures.recordFailure("a", null); // a is now the freshest
        failures.recordFailure("d", null); // b goes
        assertEquals(3, failures.sourceFailures("a"));
        assertEquals(0, failures.sourceFailures("b"));
        assertEquals(1, failures.sourceFailures("c"));
        assertEquals(1, failures.sourceFailures("d"));
    }

    @Test
    void theDelayFormulaIsSafeForHugeCounts() {
        assertEquals(Duration.ZERO, failures.delayAfter(0));
        assertEquals(Duration.ofMillis(1000), failures.delayAfter(Integer.MAX_VALUE));
        AuthenticationFailures none = new AuthenticationFailures(
                new AuthenticationFailures.Config(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), 1), clock);
        assertEquals(Duration.ZERO, none.recordFailure("x", "y"));
    }

    @Test
    void theConfigValidatesItself() {
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationFailures.Config(
                Duration.ofMillis(-1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1));
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationFailures.Config(
                Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(1), 1));
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationFailures.Config(
                Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO, 1));
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationFailures.Config(
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 0));
        assertEquals(Duration.ofMillis(100), AuthenticationFailures.Config.defaults().baseDelay());
    }
}
