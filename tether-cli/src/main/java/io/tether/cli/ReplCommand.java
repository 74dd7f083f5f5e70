package io.tether.cli;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.client.ExecuteRequest;
import io.tether.client.ExecutionEvent;
import io.tether.client.ExecutionStream;
import io.tether.client.Session;
import io.tether.client.TetherClient;
import io.tether.client.TetherClientException;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tether repl}: an interactive interpreter whose state lives in one server session
 * for the REPL's whole life. On a terminal it edits lines and keeps history (JLine), Ctrl-C
 * interrupts the running code (or drops the line being typed) and Ctrl-D exits; with
 * standard input from a pipe or file it reads line by line, prints no prompts, and runs
 * what is left at the end of the input.
 *
 * <p>A session the REPL created is ended when it exits (also on SIGTERM), unless
 * {@code --keep}; a session given with {@code --session} is never ended by it.
 */
@Command(name = "repl", mixinStandardHelpOptions = true,
        description = {"An interactive interpreter on a Tether server; its state lives in one "
        + "session until you exit (Ctrl-D).",
        "Ctrl-C interrupts the running code. Input from a pipe works line by line."})
final class ReplCommand implements Callable<Integer> {
    @Mixin
    TetherCli.PlaceOptions place = new TetherCli.PlaceOptions();

    @Mixin
    TetherCli.ServerOptions server = new TetherCli.ServerOptions();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "RUNTIME",
            description = "python (the default) or jshell; with --session, the session's own.")
    String runtime;

    @Option(names = "--session", paramLabel = "ID", description = "Use this session (it is kept at exit).")
    String session;

    @Option(names = "--keep", description = "Keep the new session at exit, for a later --session.")
    boolean keep;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where images the code displays are saved "
            + "(default: ./tether-outputs, made when the first image comes).")
    Path outputDir;

    /** The session the REPL works in, and whether it ends it at exit. */
    private record ReplSession(String id, String runtime, boolean endAtExit) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Target where = server.resolve(place, spec);
        try (TetherClient client = where.client()) {
            return run(client, where, out, err);
        }
    }

    private int run(TetherClient client, Target where, PrintWriter out, PrintWriter err) {
        ReplSession target = session(client);
        InputStream in = TetherCli.root(spec).in;
        boolean interactive = in == System.in && stdinIsTerminal();
        Repl repl = new Repl(client, target.id(), MultiLineInput.forRuntime(target.runtime()), out, err);
        repl.saveImagesIn(outputDir);
        Thread atExit = new Thread(() -> repl.stop(target.endAtExit()), "tether-repl-exit");
        Runtime.getRuntime().addShutdownHook(atExit);
        err.println("tether repl: " + target.runtime() + " session " + target.id() + " on " + where.url()
                + (interactive ? ". Ctrl-C interrupts, Ctrl-D exits." : ""));
        err.flush();
        try (Lines lines = interactive ? new TerminalLines(target.runtime(), repl,
                new SessionCompleter(client, target.id())) : new PipedLines(in)) {
            repl.loop(lines);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(atExit);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting and runs the hook: it ends the session
            }
            if (target.endAtExit()) {
                repl.stop(true);
            } else {
                err.println("tether repl: session " + target.id() + " kept; continue with: tether repl --session "
                        + target.id());
                err.flush();
            }
        }
        return 0;
    }

    private ReplSession session(TetherClient client) {
        if (session != null) {
            Session s = client.session(session);
            if (runtime != null && !runtime.equals(s.runtime())) {
                throw TetherException.invalid("session " + session + " is a " + s.runtime() + " session, not "
                        + runtime);
            }
            if (!s.isActive()) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "session " + session + " has ended ("
                        + ApiJson.session(s).get("status") + ", " + s.endReason() + ")");
            }
            return new ReplSession(session, s.runtime(), false);
        }
        String rt = runtime != null ? runtime : "python";
        return new ReplSession(client.createSession(rt).id(), rt, !keep);
    }

    /**
     * Whether standard input and output are a terminal. From JDK 22 {@code System.console()}
     * exists also when they are redirected, and {@code Console.isTerminal()} tells; the build
     * targets 21, where a console exists only for a terminal.
     */
    static boolean stdinIsTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException jdk21) {
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- the loop

    /** The read-run-print loop over one session. */
    static final class Repl {
        private final TetherClient client;
        private final String sessionId;
        private final MultiLineInput input;
        private final PrintWriter out;
        private final PrintWriter err;
        private volatile boolean executing;
        private volatile boolean stopped;
        private Lines lines;
        private OutputFiles files = new OutputFiles(null);

        Repl(TetherClient client, String sessionId, MultiLineInput input, PrintWriter out, PrintWriter err) {
            this.client = client;
            this.sessionId = sessionId;
            this.input = input;
            this.out = out;
            this.err = err;
        }

        /** Where displayed images are saved; {@code null}: {@link OutputFiles#DEFAULT_DIRECTORY}. */
        void saveImagesIn(Path directory) {
            files = new OutputFiles(directory);
        }

        void loop(Lines lines) {
            this.lines = lines;
            List<String> buffer = new ArrayList<>();
            while (true) {
                String line;
                try {
                    line = lines.read(input.prompt(!buffer.isEmpty()));
                } catch (Cancelled c) {
                    buffer.clear();
                    continue;
                }
                if (line == null) {
                    if (!buffer.isEmpty() && !lines.interactive()) {
                        run(String.join("\n", buffer));
                    }
                    return;
                }
                if (buffer.isEmpty() && line.isBlank()) {
                    continue;
                }
                buffer.add(line);
                if (input.complete(buffer)) {
                    String code = String.join("\n", buffer).stripTrailing();
                    buffer.clear();
                    run(code);
                }
            }
        }

        private void run(String code) {
            ExecutionPrinter printer = new ExecutionPrinter(out, err, false, files).onInput(this::answer);
            executing = true;
            try {
                try (ExecutionStream stream = client.stream(sessionId, ExecuteRequest.of(code))) {
                    printer.finish(printer.print(stream));
                }
            } catch (TetherClientException e) {
                if (e.sessionGone() || e.status() == 0) {
                    throw e; // the session or the server is gone: nothing more to run
                }
                err.println("tether: " + e.code() + ": " + e.detail());
                err.flush();
            } finally {
                executing = false;
            }
        }

        /**
         * The code waits for input: a line read as the code's own (on a terminal without echo
         * for a password, and kept out of the history); Ctrl-C or the end of input interrupts it.
         */
        private void answer(ExecutionEvent.InputRequest request) {
            String line;
            try {
                line = lines.readInput(request.prompt(), request.password());
            } catch (Cancelled c) {
                line = null;
            }
            try {
                if (line == null) {
                    client.interrupt(sessionId);
                } else {
                    client.input(sessionId, line);
                }
            } catch (TetherClientException e) {
                if (e.sessionGone() || e.status() == 0) {
                    throw e;
                }
                err.println("tether: " + e.code() + ": " + e.detail()); // e.g. it timed out meanwhile
                err.flush();
            }
        }

        /** Ctrl-C: interrupts the running code, from another thread than the one that waits for it. */
        void interrupt() {
            if (executing) {
                Thread.ofVirtual().name("tether-repl-interrupt").start(() -> {
                    try {
                        client.interrupt(sessionId);
                    } catch (RuntimeException e) {
                        err.println("tether: could not interrupt: " + e.getMessage());
                        err.flush();
                    }
                });
            }
        }

        /** At exit: stops running code and, when told, ends the session. Runs once. */
        synchronized void stop(boolean endSession) {
            if (stopped) {
                return;
            }
            stopped = true;
            try {
                if (executing) {
                    client.interrupt(sessionId);
                }
                if (endSession) {
                    client.endSession(sessionId);
                }
            } catch (TetherClientException e) {
                err.println("tether repl: could not end session " + sessionId + ": " + e.getMessage());
                err.flush();
            }
        }
    }

    // ---------------------------------------------------------------- where lines come from

    /** Ctrl-C while a line is typed: drop the input so far. */
    static final class Cancelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Cancelled() {
            super(null, null, false, false);
        }
    }

    /** A source of input lines. */
    interface Lines extends AutoCloseable {
        /**
         * The next line, or {@code null} at the end of input (Ctrl-D).
         *
         * @throws Cancelled on Ctrl-C while the line is typed
         */
        String read(String prompt);

        /**
         * A line the running code asked for, or {@code null} at the end of input.
         *
         * @throws Cancelled on Ctrl-C while the line is typed
         */
        String readInput(String prompt, boolean password);

        boolean interactive();

        @Override
        void close();
    }

    /** Lines from a pipe or a file: no prompts, no editing. */
    static final class PipedLines implements Lines {
        private final BufferedReader reader;

        PipedLines(InputStream in) {
            this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        }

        @Override
        public String read(String prompt) {
            try {
                return reader.readLine();
            } catch (IOException e) {
                throw TetherException.invalid("cannot read stdin: " + e.getMessage());
            }
        }

        @Override
        public String readInput(String prompt, boolean password) {
            return read(prompt); // the next line of the pipe, as python3 reads a piped stdin
        }

        @Override
        public boolean interactive() {
            return false;
        }

        @Override
        public void close() {
            // stdin belongs to the process: left open
        }
    }

    /** Lines typed on the terminal, with editing and a history kept per runtime in the home directory. */
    static final class TerminalLines implements Lines {
        private final Terminal terminal;
        private final LineReader reader;

        TerminalLines(String runtime, Repl repl, SessionCompleter completer) {
            try {
                terminal = TerminalBuilder.builder().system(true).build();
            } catch (IOException e) {
                throw new TetherException(ErrorCode.INTERNAL, "cannot open the terminal: " + e.getMessage(), e);
            }
            terminal.handle(Terminal.Signal.INT, signal -> repl.interrupt());
            DefaultParser parser = new DefaultParser();
            parser.setEscapeChars(new char[0]);
            reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("tether")
                    .parser(SessionCompleter.parser(parser))
                    .completer(completer)
                    .variable(LineReader.HISTORY_FILE,
                            Path.of(System.getProperty("user.home"), ".tether_history_" + runtime))
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                    .option(LineReader.Option.INSERT_TAB, true) // at the start of a line, for indenting
                    .option(LineReader.Option.HISTORY_IGNORE_SPACE, false) // indented block lines are history too
                    .option(LineReader.Option.HISTORY_REDUCE_BLANKS, false)
                    .build();
        }

        @Override
        public String read(String prompt) {
            try {
                return reader.readLine(prompt);
            } catch (UserInterruptException e) {
                throw new Cancelled();
            } catch (EndOfFileException e) {
                return null;
            }
        }

        @Override
        public String readInput(String prompt, boolean password) {
            reader.setVariable(LineReader.DISABLE_HISTORY, true);
            try {
                // A mask of NUL echoes nothing.
                return password ? reader.readLine(prompt, '\0') : reader.readLine(prompt);
            } catch (UserInterruptException e) {
                throw new Cancelled();
            } catch (EndOfFileException e) {
                return null;
            } finally {
                reader.setVariable(LineReader.DISABLE_HISTORY, false);
            }
        }

        @Override
        public boolean interactive() {
            return true;
        }

        @Override
        public void close() {
            try {
                reader.getHistory().save();
                terminal.close();
            } catch (IOException e) {
                throw new TetherException(ErrorCode.INTERNAL, "cannot save the history or close the terminal: "
                        + e.getMessage(), e);
            }
        }
    }
}
