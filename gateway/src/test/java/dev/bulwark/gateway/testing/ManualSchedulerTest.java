package dev.bulwark.gateway.testing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test scheduler the coordinator tests stand on: order, clock, cancellation, periodic tasks, failures. */
class ManualSchedulerTest {

    private final ManualScheduler scheduler = new ManualScheduler();
    private final List<String> ran = new ArrayList<>();

    @Test
    void tasksRunInDueOrderWithTheClockAtTheirDueTime() {
        scheduler.schedule(() -> ran.add("b@" + elapsed()), 20, TimeUnit.MILLISECONDS);
        scheduler.schedule(() -> ran.add("a@" + elapsed()), 10, TimeUnit.MILLISECONDS);
        scheduler.schedule(() -> ran.add("c@" + elapsed()), 20, TimeUnit.MILLISECONDS);

        scheduler.advance(Duration.ofMillis(9));
        assertEquals(List.of(), ran);
        scheduler.advance(Duration.ofMillis(100));

        assertEquals(List.of("a@10", "b@20", "c@20"), ran);
        assertEquals(109, elapsed());
    }

    @Test
    void aCancelledTaskNeverRuns() {
        ScheduledFuture<?> task = scheduler.schedule(() -> ran.add("x"), 5, TimeUnit.MILLISECONDS);

        assertTrue(task.cancel(false));
        scheduler.advance(Duration.ofSeconds(1));

        assertEquals(List.of(), ran);
        assertEquals(0, scheduler.pending());
    }

    @Test
    void aPeriodicTaskRunsOncePerPeriodThatPasses() {
        scheduler.scheduleWithFixedDelay(() -> ran.add("tick@" + elapsed()), 10, 10, TimeUnit.MILLISECONDS);

        scheduler.advance(Duration.ofMillis(35));

        assertEquals(List.of("tick@10", "tick@20", "tick@30"), ran);
    }

    @Test
    void aTaskThatThrowsFailsTheAdvanceThatRanIt() {
        scheduler.schedule(() -> {
            throw new IllegalStateException("broken timer");
        }, 1, TimeUnit.MILLISECONDS);
        scheduler.schedule(() -> ran.add("after"), 2, TimeUnit.MILLISECONDS);

        AssertionError error = assertThrows(AssertionError.class, () -> scheduler.advance(Duration.ofMillis(5)));

        assertEquals("broken timer", error.getCause().getMessage());
        assertEquals(List.of("after"), ran, "the other tasks still ran");
    }

    @Test
    void aTaskNotRunYetSaysSoInsteadOfBlocking() {
        ScheduledFuture<?> task = scheduler.schedule(() -> { }, 1, TimeUnit.MINUTES);

        assertFalse(task.isDone());
        assertThrows(IllegalStateException.class, task::get);
    }

    private long elapsed() {
        return scheduler.nowMs() - ManualScheduler.START_MS;
    }
}
