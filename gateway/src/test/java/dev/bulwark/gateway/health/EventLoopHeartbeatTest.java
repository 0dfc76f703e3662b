package dev.bulwark.gateway.health;

import io.netty.channel.DefaultEventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class EventLoopHeartbeatTest {

    @Test
    void aBlockedLoopIsStalledUntilItRunsAgainAndTheOthersNeverAre() throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
        CountDownLatch release = new CountDownLatch(1);
        try (EventLoopHeartbeat heartbeat = new EventLoopHeartbeat(group, Duration.ofMillis(300),
                Executors.newSingleThreadScheduledExecutor())) {
            assertEquals(2, heartbeat.loops());
            assertEquals(List.of(), heartbeat.stalled());

            group.iterator().next().execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<String> stalled = awaitStalled(heartbeat, true);
            assertEquals(1, stalled.size(), stalled.toString());
            assertTrue(stalled.get(0).startsWith("event loop 0 stalled for "), stalled.toString());

            release.countDown();
            assertEquals(List.of(), awaitStalled(heartbeat, false));
        } finally {
            release.countDown();
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    private static List<String> awaitStalled(EventLoopHeartbeat heartbeat, boolean stalled)
            throws InterruptedException {
        while (heartbeat.stalled().isEmpty() == stalled) {
            Thread.sleep(50);
        }
        return heartbeat.stalled();
    }
}
