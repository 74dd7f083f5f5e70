package io.tether.cli;

import io.tether.TetherException;
import io.tether.client.ExecuteRequest;
import io.tether.client.Execution;
import io.tether.client.ExecutionEvent;
import io.tether.client.ExecutionStream;
import io.tether.client.TetherClient;
import io.tether.client.TetherClientException;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tether exec}: runs code on a server and shows it like an interpreter would, its
 * output streamed as it is written. Exit code 0 when the code ran to its end ({@code ok}),
 * 1 when it raised, timed out, was interrupted or crashed its interpreter; a request the
 * server refused exits with that problem's code (see {@link TetherCli}).
 *
 * <p>Ctrl-C (SIGINT) or SIGTERM while the code runs asks the server to interrupt it before the
 * command exits (130 for SIGINT, 143 for SIGTERM), so nothing is left running there.
 */
@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Run code on a Tether server, streaming its output.",
                "Without --session a new session is made and its id printed on stderr (session: ID) for the next "
                        + "call.",
                "Exit code 0 when the code ran to its end, 1 when it raised, timed out, was interrupted or crashed, "
                        + "130 after Ctrl-C (which interrupts the code on the server)."})
final class ExecCommand implements Callable<Integer> {
    @Mixin
    TetherCli.PlaceOptions place = new TetherCli.PlaceOptions();

    @Mixin
    TetherCli.ServerOptions server = new TetherCli.ServerOptions();

    @Mixin
    TetherCli.JsonOption json = new TetherCli.JsonOption();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--session", paramLabel = "ID", description = "Run in this session (default: a new one).")
    String session;

    @Option(names = "--runtime", paramLabel = "RUNTIME",
            description = "python or jshell; for a new session (default python), or checked against --session.")
    String runtime;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Stop the code after this many seconds (default: the server's execution_timeout).")
    Double timeout;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where images the code displays are saved "
            + "(default: ./tether-outputs, made when the first image comes).")
    Path outputDir;

    @Option(names = "--stdin", paramLabel = "FILE",
            description = "Text the code reads as its standard input (input(), sys.stdin, System.in); '-' reads it "
                    + "from stdin. Past its end, input is asked for: see Input in docs/cli.md.")
    String stdinFile;

    @Parameters(arity = "0..1", paramLabel = "CODE", description = "The code; '-' or none reads it from stdin.")
    String code;

    /** Lines of stdin answering input requests, opened on the first; {@code null} until then. */
    private BufferedReader answers;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean codeFromStdin = code == null || code.equals("-");
        if (codeFromStdin && "-".equals(stdinFile)) {
            throw TetherException.invalid("--stdin - and code from stdin: stdin can be only one of them");
        }
        ExecuteRequest request = ExecuteRequest.of(codeFromStdin ? stdin() : code);
        if (stdinFile != null) {
            request = request.withStdin(stdinFile.equals("-") ? stdin() : file(stdinFile));
        }
        boolean stdinFree = !codeFromStdin && !"-".equals(stdinFile);
        if (timeout != null) {
            if (!(timeout > 0 && timeout <= 365 * 86_400)) {
                throw TetherException.invalid("--timeout must be a positive number of seconds, got " + timeout);
            }
            request = request.withTimeout(Duration.ofNanos(Math.round(timeout * 1e9)));
        }
        try (TetherClient client = server.resolve(place, spec).client()) {
            if (session != null && runtime != null) {
                String actual = client.session(session).runtime();
                if (!runtime.equals(actual)) {
                    throw TetherException.invalid("session " + session + " is a " + actual + " session, not "
                            + runtime);
                }
            }
            String rt = runtime != null ? runtime : "python";
            if (json.json) {
                Execution execution = session == null ? client.executeInNewSession(rt, request)
                        : client.execute(session, request);
                if (session == null) {
                    err.println("session: " + execution.sessionId());
                    err.flush();
                }
                new Output(out, true).json(ApiJson.execution(execution));
                return execution.ok() ? 0 : 1;
            }
            ExecutionPrinter printer = new ExecutionPrinter(out, err, session == null, new OutputFiles(outputDir));
            printer.onInput(r -> answer(client, printer.sessionId(), r, stdinFree, err));
            Thread interruptAtExit = new Thread(() -> interrupt(client, printer, err), "tether-exec-interrupt");
            Runtime.getRuntime().addShutdownHook(interruptAtExit);
            Execution execution;
            try (ExecutionStream stream = session == null ? client.streamInNewSession(rt, request)
                    : client.stream(session, request)) {
                execution = printer.print(stream);
            } finally {
                removeHook(interruptAtExit);
            }
            return printer.finish(execution) ? 0 : 1;
        }
    }

    private String stdin() {
        try {
            return new String(TetherCli.root(spec).in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw TetherException.invalid("cannot read the code from stdin: " + e.getMessage());
        }
    }

    private static String file(String path) {
        try {
            return Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw TetherException.invalid("cannot read --stdin " + path + ": " + e.getMessage());
        }
    }

    /**
     * The code waits for input past its --stdin text: a line from the terminal when stdin is
     * one (a password without echo), else the next line of stdin when the code did not come
     * from there. Without one, the code is interrupted with a message saying so.
     */
    private void answer(TetherClient client, String sessionId, ExecutionEvent.InputRequest request,
                        boolean stdinFree, PrintWriter err) {
        String line = null;
        Console console = System.console();
        if (stdinFree && console != null && ReplCommand.stdinIsTerminal()) {
            if (request.password()) {
                char[] secret = console.readPassword("%s", request.prompt());
                line = secret == null ? null : new String(secret);
            } else {
                line = console.readLine("%s", request.prompt());
            }
        } else if (stdinFree) {
            try {
                if (answers == null) {
                    answers = new BufferedReader(new InputStreamReader(TetherCli.root(spec).in, StandardCharsets.UTF_8));
                }
                line = answers.readLine();
            } catch (IOException e) {
                line = null;
            }
        }
        try {
            if (line != null) {
                client.input(sessionId, line);
                return;
            }
            client.interrupt(sessionId);
            err.println("tether: the code asked for input and " + (stdinFree ? "stdin has ended" : "stdin holds the "
                    + "code or --stdin") + ": interrupted it (pass its input with --stdin)");
        } catch (TetherClientException e) {
            err.println("tether: " + e.code() + ": " + e.detail());
        }
        err.flush();
    }

    /** The JVM is stopping (Ctrl-C) while the code runs: ask the server to stop it too. */
    private static void interrupt(TetherClient client, ExecutionPrinter printer, PrintWriter err) {
        String id = printer.sessionId();
        if (id == null) {
            return;
        }
        try {
            client.interrupt(id);
            err.println();
            err.println("tether: interrupted the execution in session " + id);
        } catch (RuntimeException e) {
            err.println("tether: could not interrupt the execution in session " + id + ": " + e.getMessage());
        }
        err.flush();
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook runs, which is what it is for
        }
    }
}
