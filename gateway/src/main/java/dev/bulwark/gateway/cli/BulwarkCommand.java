package dev.bulwark.gateway.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The {@code bulwark} command line: every subcommand, composed here. {@code serve} is BulwarkMain's (it boots Quarkus);
 * the others run offline on a stopped server's data directory. Exit status: 0 success, 1 failure, 2 usage error.
 */
@Command(name = "bulwark", scope = ScopeType.INHERIT, sortOptions = false,
        description = "Kafka-compatible broker. With no subcommand, or with serve, it runs the server.",
        subcommands = {BulwarkCommand.Serve.class, AuditCommand.class, KeysCommand.class, TenantCommand.class,
                UserCommand.class, InspectCommand.class})
public final class BulwarkCommand extends CommandGroup {

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "print this help")
    boolean help;

    /** Only for the help: BulwarkMain starts the server before any parsing. */
    @Command(name = "serve", description = "run the server (the default): settings as the README's Configuration says")
    static final class Serve implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("serve runs from BulwarkMain, not from the offline command line");
        }
    }

    /** Runs an offline subcommand; its exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine commandLine = new CommandLine(new BulwarkCommand());
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        // An operator needs the reason, not a stack trace.
        commandLine.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("failed: " + e.getMessage());
            return 1;
        });
        return commandLine.execute(args);
    }
}
