package io.tether.cli;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tether} command: {@code serve} runs the server; the other commands work on the
 * embedded SQLite store in a data directory directly. {@code tether token} works on the
 * data directory's tokens file only, so it also runs while a server holds the store.
 *
 * <p>Exit codes: 0 success, 1 internal failure, 2 bad usage or invalid input,
 * 3 session or token not found, 4 session ended, 5 a limit was exceeded, 6 the store or
 * the tokens file failed, or the store is in use by another process.
 */
@Command(name = "tether", mixinStandardHelpOptions = true, version = "tether 0.1.0-SNAPSHOT",
        description = "Sessions that expire, clean up after themselves and survive a restart.",
        subcommands = {ServeCommand.class, DemoCommand.class, SessionsCommand.class, StatsCommand.class,
                TokenCommand.class,
                CommandLine.HelpCommand.class})
public final class TetherCli {
    /** The data directory when neither {@code --data-dir} nor {@code TETHER_DATA_DIR} says. */
    static final String DEFAULT_DATA_DIR = "tether-data";
    /** The exit code for a session or token that does not exist. */
    static final int EXIT_NOT_FOUND = 3;

    private TetherCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true), System.getenv()));
    }

    /** Runs one command line; returns its exit code. */
    static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return run(args, out, err, env, null);
    }

    /**
     * Runs one command line; {@code stopServe}, when given, stops {@code tether serve} when
     * released (tests), instead of the JVM's shutdown.
     */
    static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env,
                   java.util.concurrent.CountDownLatch stopServe) {
        CommandLine cli = new CommandLine(new TetherCli(), ServeCommand.factory(env, stopServe));
        ServeCommand.addSettingFlags(cli.getSubcommands().get("serve").getCommandSpec());
        cli.setOut(out);
        cli.setErr(err);
        cli.setDefaultValueProvider(arg -> arg instanceof CommandLine.Model.OptionSpec o
                && "--data-dir".equals(o.longestName())
                ? env.getOrDefault("TETHER_DATA_DIR", DEFAULT_DATA_DIR) : null);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof TetherException te) {
                err.println("tether: " + te.code().code() + ": " + te.getMessage());
                return exitCode(te.code());
            }
            err.println("tether: internal error: " + e);
            e.printStackTrace(err);
            return 1;
        });
        return cli.execute(args);
    }

    static int exitCode(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST, PAYLOAD_TOO_LARGE -> 2;
            case SESSION_NOT_FOUND, NOT_FOUND -> EXIT_NOT_FOUND;
            case SESSION_ENDED -> 4;
            case LIMIT_EXCEEDED -> 5;
            case STORE_FAILURE, SHUTTING_DOWN -> 6;
            default -> 1;
        };
    }

    /** Options every command that opens the store takes. */
    static final class StoreOptions {
        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Directory of the embedded store (env TETHER_DATA_DIR; default ./tether-data).")
        Path dataDir;

        @Option(names = "--json", description = "Print JSON for scripts instead of text for people.")
        boolean json;
    }
}
