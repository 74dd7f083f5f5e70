package io.tether.cli;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tether} command: {@code serve} runs the server; {@code exec} and {@code repl}
 * call a running server; {@code sessions} and {@code stats} call the server when one is
 * named or runs on the data directory, and otherwise work on the embedded SQLite store
 * there directly.
 *
 * <p>Exit codes: 0 success, 1 internal failure (and, for {@code exec}, code that failed),
 * 2 bad usage or invalid input, 3 session, thing or token not found, 4 session ended, 5 a limit was
 * exceeded, 6 unavailable (the store failed or is in use by another process, the server is
 * shutting down, the runtime cannot start), 7 unauthorized, 8 no server answers.
 * {@code tether token} works on the data directory's tokens file only, so it also runs
 * while a server holds the store.
 */
@Command(name = "tether", mixinStandardHelpOptions = true, version = "tether 0.1.0-SNAPSHOT",
        description = "Sessions that expire, clean up after themselves and survive a restart.",
        subcommands = {ServeCommand.class, ExecCommand.class, ReplCommand.class, DemoCommand.class,
                SessionsCommand.class, StatsCommand.class, TokenCommand.class, CommandLine.HelpCommand.class})
public final class TetherCli {
    /** The data directory when neither {@code --data-dir} nor {@code TETHER_DATA_DIR} says. */
    static final String DEFAULT_DATA_DIR = "tether-data";
    /** The exit code for a session or token that does not exist. */
    static final int EXIT_NOT_FOUND = 3;

    /** Where {@code exec} and {@code repl} read code from. */
    final InputStream in;

    private TetherCli(InputStream in) {
        this.in = in;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, new PrintWriter(System.out, true), new PrintWriter(System.err, true),
                System.getenv(), null));
    }

    /** Runs one command line with nothing on standard input; returns its exit code. */
    static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return run(args, InputStream.nullInputStream(), out, err, env, null);
    }

    /** Runs one command line that may read standard input; returns its exit code. */
    static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env) {
        return run(args, in, out, err, env, null);
    }

    /** The root command's object, which holds what a subcommand needs from outside. */
    static TetherCli root(CommandLine.Model.CommandSpec spec) {
        return (TetherCli) spec.root().userObject();
    }

    /**
     * Runs one command line; {@code stopServe}, when given, stops {@code tether serve} when
     * released (tests), instead of the JVM's shutdown.
     */
    static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env,
                   java.util.concurrent.CountDownLatch stopServe) {
        CommandLine cli = new CommandLine(new TetherCli(in), ServeCommand.factory(env, stopServe));
        ServeCommand.addSettingFlags(cli.getSubcommands().get("serve").getCommandSpec());
        cli.setOut(out);
        cli.setErr(err);
        cli.setDefaultValueProvider(arg -> {
            if (!(arg instanceof CommandLine.Model.OptionSpec o)) {
                return null;
            }
            return switch (o.longestName()) {
                case "--data-dir" -> env.getOrDefault("TETHER_DATA_DIR", DEFAULT_DATA_DIR);
                case "--url" -> env.get("TETHER_URL");
                case "--token" -> env.get("TETHER_TOKEN");
                default -> null;
            };
        });
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof TetherException te) {
                err.println("tether: " + te.code().code() + ": " + te.getMessage());
                return exitCode(te.code());
            }
            if (e instanceof ServerClient.Unreachable u) {
                err.println("tether: " + u.getMessage());
                return UNREACHABLE;
            }
            err.println("tether: internal error: " + e);
            e.printStackTrace(err);
            return 1;
        });
        return cli.execute(args);
    }

    /** The exit code when no server answers at the URL, or the connection to it broke. */
    static final int UNREACHABLE = 8;

    static int exitCode(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST, PAYLOAD_TOO_LARGE -> 2;
            case SESSION_NOT_FOUND, NOT_FOUND -> EXIT_NOT_FOUND;
            case SESSION_ENDED -> 4;
            case LIMIT_EXCEEDED -> 5;
            case STORE_FAILURE, SHUTTING_DOWN, RUNTIME_UNAVAILABLE -> 6;
            case UNAUTHORIZED, FORBIDDEN -> 7;
            case INTERNAL -> 1;
        };
    }

    /** Options every command that opens the store takes. */
    static final class StoreOptions {
        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Data directory: the embedded store, and the server.json and admin-token of a server "
                        + "running on it (env TETHER_DATA_DIR; default ./tether-data).")
        Path dataDir;

        @Option(names = "--json", description = "Print JSON for scripts instead of text for people.")
        boolean json;
    }

    /** Options of every command that may call a server. */
    static final class ServerOptions {
        @Option(names = "--url", paramLabel = "URL", description = "The server to call (env TETHER_URL; default: the "
                + "server running on the data directory, else " + ServerTarget.DEFAULT_URL + ").")
        String url;

        @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token (env TETHER_TOKEN; default: the "
                + "data directory's admin-token file, for a server on this machine).")
        String token;

        /** Whether a server was named, by flag or environment. */
        boolean named() {
            return url != null && !url.isBlank();
        }

        ServerClient client(Path dataDir) {
            return new ServerClient(ServerTarget.resolve(url, token, dataDir));
        }
    }
}
