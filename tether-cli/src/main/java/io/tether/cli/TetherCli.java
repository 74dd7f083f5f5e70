package io.tether.cli;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.client.TetherClientException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tether} command: {@code serve} runs the server; {@code exec} and {@code repl}
 * call a running server through the Java client; {@code sessions} and {@code stats} call the
 * server when one is named or runs on the data directory, and otherwise work on the embedded
 * SQLite store there directly.
 *
 * <p>Exit codes: 0 success, 1 internal failure (and, for {@code exec}, code that failed),
 * 2 bad usage or invalid input, 3 session, thing or token not found, 4 session ended, 5 a limit was
 * exceeded, 6 unavailable (the store failed or is in use by another process, the server is
 * shutting down, the runtime cannot start), 7 unauthorized, 8 no server answers, 130 stopped
 * by Ctrl-C. {@code tether token} works on the data directory's tokens file only, so it also
 * runs while a server holds the store.
 */
@Command(name = "tether", mixinStandardHelpOptions = true, version = "tether 0.1.0-SNAPSHOT",
        description = "Sessions that expire, clean up after themselves and survive a restart.",
        subcommands = {ServeCommand.class, ExecCommand.class, ReplCommand.class, DemoCommand.class,
                SessionsCommand.class, StatsCommand.class, TokenCommand.class, CommandLine.HelpCommand.class})
public final class TetherCli {
    /** The exit code for a session or token that does not exist. */
    static final int EXIT_NOT_FOUND = 3;
    /** The exit code when no server answers at the URL, or the connection to it broke. */
    static final int UNREACHABLE = 8;

    /** Where {@code exec} and {@code repl} read code from. */
    final InputStream in;
    /** The environment: {@code TETHER_*} settings, {@code TETHER_URL}, {@code TETHER_TOKEN}. */
    final Map<String, String> env;
    /** The server the command calls, once resolved: named in messages about it. */
    private volatile Target target;

    private TetherCli(InputStream in, Map<String, String> env) {
        this.in = in;
        this.env = env;
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
                   CountDownLatch stopServe) {
        TetherCli root = new TetherCli(in, env);
        CommandLine cli = commandLine(root, env, stopServe);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof TetherException te) {
                err.println("tether: " + te.code().code() + ": " + te.getMessage());
                return exitCode(te.code());
            }
            if (e instanceof TetherClientException ce) {
                err.println("tether: " + ce.code() + ": " + root.explain(ce));
                return exitCode(ce);
            }
            err.println("tether: internal error: " + e);
            e.printStackTrace(err);
            return 1;
        });
        return cli.execute(args);
    }

    /** The command tree, with {@code serve}'s setting flags; also what the help test walks. */
    static CommandLine commandLine(Map<String, String> env) {
        return commandLine(new TetherCli(InputStream.nullInputStream(), env), env, null);
    }

    private static CommandLine commandLine(TetherCli root, Map<String, String> env, CountDownLatch stopServe) {
        CommandLine cli = new CommandLine(root, ServeCommand.factory(env, stopServe));
        ServeCommand.addSettingFlags(cli.getSubcommands().get("serve").getCommandSpec());
        cli.setDefaultValueProvider(arg -> {
            if (!(arg instanceof CommandLine.Model.OptionSpec o)) {
                return null;
            }
            return switch (o.longestName()) {
                case "--url" -> env.get("TETHER_URL");
                case "--token" -> env.get("TETHER_TOKEN");
                default -> null;
            };
        });
        return cli;
    }

    /** The server's problem in words, with what to do about it when the CLI knows. */
    private String explain(TetherClientException e) {
        Target t = target;
        String where = t == null ? "" : t.url().toString();
        return switch (e.code()) {
            case "connection_failed" -> "no Tether server answers at " + where + (t == null ? "" : " (the URL is "
                    + t.origin() + ")") + ". Start one with: ./tether serve   (or point --config, --url or TETHER_URL "
                    + "at a running server)";
            case "unauthorized" -> e.detail() + (t != null && t.token() == null ? ". Give a token with --token or "
                    + "TETHER_TOKEN (the server's admin token is in the file " + Target.ADMIN_TOKEN_FILE
                    + " of its data directory)" : "");
            default -> e.detail();
        };
    }

    static int exitCode(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST, PAYLOAD_TOO_LARGE -> 2;
            case SESSION_NOT_FOUND, NOT_FOUND -> EXIT_NOT_FOUND;
            case SESSION_ENDED -> 4;
            case LIMIT_EXCEEDED, SESSION_BUSY -> 5;
            case STORE_FAILURE, SHUTTING_DOWN, RUNTIME_UNAVAILABLE, NODE_UNAVAILABLE -> 6;
            case UNAUTHORIZED, FORBIDDEN -> 7;
            case INTERNAL -> 1;
            case NO_INPUT_REQUESTED -> 9;
        };
    }

    /** The exit code of a call the server refused, or that found no server. */
    static int exitCode(TetherClientException e) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.code().equals(e.code())) {
                return exitCode(c);
            }
        }
        return switch (e.code()) {
            case "connection_failed", "connection_lost", "timeout", "stream_timeout" -> UNREACHABLE;
            default -> 1; // unexpected_response, interrupted
        };
    }

    /** A command on a data directory. */
    abstract static class DataDirCommand implements Callable<Integer> {
        @CommandLine.Mixin
        PlaceOptions place = new PlaceOptions();

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        /** Whether to print JSON for scripts; commands with {@code --json} say so. */
        boolean json() {
            return false;
        }

        Output output() {
            return new Output(spec.commandLine().getOut(), json());
        }
    }

    /** Options of every command that works on a data directory. */
    static final class PlaceOptions {
        @Option(names = "--config", paramLabel = "FILE", description = "The server's config file, for its data_dir, "
                + "bind and port (default $TETHER_CONFIG, else ./tether.conf if present; TETHER_* variables apply too).")
        Path config;

        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Data directory: the embedded store, and the server.json and admin-token of a server "
                        + "running on it (default: the configuration's data_dir, ./tether-data).")
        Path dataDir;

        /** The data directory for a command that never calls a server. */
        Path resolveDataDir(CommandLine.Model.CommandSpec spec) {
            return Target.dataDir(config, dataDir, root(spec).env);
        }
    }

    /** {@code --json}. */
    static final class JsonOption {
        @Option(names = "--json", description = "Print JSON for scripts (the HTTP API's fields) instead of text.")
        boolean json;
    }

    /** Options of every command that may call a server. */
    static final class ServerOptions {
        @Option(names = "--url", paramLabel = "URL", description = "The server to call (env TETHER_URL; default: the "
                + "server running on the data directory, else the configuration's bind and port, 127.0.0.1:8080).")
        String url;

        @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token (env TETHER_TOKEN; default: the "
                + "data directory's admin-token file, for a server on this machine).")
        String token;

        /** Where the command works; remembered for messages about the server. */
        Target resolve(PlaceOptions place, CommandLine.Model.CommandSpec spec) {
            TetherCli root = root(spec);
            Target t = Target.resolve(place.config, place.dataDir, url, token, root.env);
            root.target = t;
            return t;
        }
    }
}
