package dev.bulwark.gateway;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import sun.misc.Signal;

/**
 * Entry point. SIGTERM (what Kubernetes and service managers send) means "stop": Bulwark shuts down cleanly
 * (listeners closed, log flushed and checkpointed) and exits with 0, not with the JVM's 143 for a signal death.
 */
@QuarkusMain
public final class BulwarkMain {

    private BulwarkMain() {
    }

    public static void main(String... args) {
        Signal.handle(new Signal("TERM"), signal -> Quarkus.asyncExit(0));
        Quarkus.run(args);
    }
}
