package dev.bulwark.gateway;

import dev.bulwark.gateway.cli.BulwarkCommand;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import sun.misc.Signal;

import java.util.Arrays;
import java.util.List;

/**
 * Entry point. With no arguments, or {@code serve}, it runs the server. SIGTERM (what Kubernetes and service managers
 * send) means "stop": Bulwark shuts down cleanly (listeners closed, log flushed and checkpointed) and exits with 0, not
 * with the JVM's 143 for a signal death. Any other subcommand ({@link BulwarkCommand}) runs offline, without Quarkus.
 */
@QuarkusMain
public final class BulwarkMain {

    private static final String SERVE = "serve";

    private BulwarkMain() {
    }

    public static void main(String... args) {
        if (args.length == 0 || (args[0].equals(SERVE) && !asksForHelp(args))) {
            Signal.handle(new Signal("TERM"), signal -> Quarkus.asyncExit(0));
            Quarkus.run(Arrays.copyOfRange(args, Math.min(1, args.length), args.length));
            return;
        }
        System.exit(BulwarkCommand.run(args, System.out, System.err));
    }

    private static boolean asksForHelp(String[] args) {
        List<String> list = Arrays.asList(args);
        return list.contains("--help") || list.contains("-h");
    }
}
