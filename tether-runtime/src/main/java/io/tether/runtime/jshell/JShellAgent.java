package io.tether.runtime.jshell;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jdk.jshell.JShell;
import jdk.jshell.SourceCodeAnalysis;

/**
 * The main class of a JShell worker's JVM. It connects to the Unix-domain socket named by
 * its one argument and serves {@link Wire} frames: the JShell runs with the {@code local}
 * execution engine, in this JVM, so an evaluation costs no round trip to yet another JVM.
 *
 * <p>The control channel is the socket, not stdout, so nothing the code writes at the OS
 * level (a child process inheriting fd 1, JVM warnings) can corrupt it; {@code System.out}
 * and {@code System.err} are replaced by {@link CaptureStream}s that send frames. The
 * agent halts when its stdin or the socket reaches end of file, so a parent that dies
 * never leaves it running.
 */
final class JShellAgent {
    /** Imports the jshell tool starts with; users of a Java REPL expect them. */
    static final String DEFAULT_IMPORTS = """
            import java.io.*;
            import java.math.*;
            import java.net.*;
            import java.nio.file.*;
            import java.util.*;
            import java.util.concurrent.*;
            import java.util.function.*;
            import java.util.regex.*;
            import java.util.stream.*;
            """;

    private static final long FLUSH_MILLIS = 20;

    private final OutputStream socketOut;
    private final CaptureStream stdout;
    private final CaptureStream stderr;
    private final AgentInput stdin;
    private final JShell shell;
    private final SnippetRunner runner;
    private final ExecutorService evaluator = Executors.newSingleThreadExecutor(r -> daemon(r, "tether-eval"));
    /** The running execution's stop flag; null when idle. */
    private volatile Job current;

    private static final class Job {
        volatile boolean stopped;
    }

    private JShellAgent(OutputStream socketOut) {
        this.socketOut = socketOut;
        this.stdout = new CaptureStream(this::send, Wire.STDOUT);
        this.stderr = new CaptureStream(this::send, Wire.STDERR);
        PrintStream out = new PrintStream(stdout, false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(stderr, false, StandardCharsets.UTF_8);
        this.stdin = new AgentInput(() -> {
            stdout.flush();
            stderr.flush();
            send(Wire.INPUT_REQUEST, new byte[0]);
        });
        System.setOut(out);
        System.setErr(err);
        System.setIn(stdin);
        this.shell = JShell.builder().executionEngine("local").out(out).err(err).in(stdin).build();
        this.runner = new SnippetRunner(shell);
    }

    public static void main(String[] args) throws Exception {
        InputStream parent = System.in;
        Thread watchdog = daemon(() -> haltAtEof(parent), "tether-parent-watch");
        watchdog.start();
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(args[0]));
        JShellAgent agent = new JShellAgent(Channels.newOutputStream(channel));
        agent.warmUp();
        agent.send(Wire.READY, new Wire.Fields.Writer().string(Runtime.version().toString()).bytes());
        agent.serve(new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 1 << 16)));
    }

    private static void haltAtEof(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // the parent never writes; reading only detects its end
            }
        } catch (IOException e) {
            // a broken pipe means the same as end of file
        }
        Runtime.getRuntime().halt(0);
    }

    private void warmUp() {
        // The default imports also make javac and the class loader hot before the first request.
        runner.run(DEFAULT_IMPORTS, () -> false, 1 << 20);
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "tether-flush"));
        flusher.scheduleWithFixedDelay(this::flushOutput, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void serve(DataInputStream in) {
        try {
            while (true) {
                Wire.Frame frame = Wire.read(in);
                switch (frame.type()) {
                    case Wire.EXECUTE -> {
                        Wire.Fields.Reader fields = frame.fields();
                        String code = fields.string();
                        long maxOutput = fields.longValue();
                        String text = fields.string();
                        boolean interactive = fields.bool();
                        Job job = new Job();
                        stdin.begin(text, interactive, () -> job.stopped);
                        current = job;
                        evaluator.execute(() -> execute(job, code, maxOutput));
                    }
                    case Wire.STOP -> {
                        Job job = current;
                        if (job != null) {
                            job.stopped = true;
                            stdin.wake();
                            shell.stop();
                        }
                    }
                    case Wire.INPUT -> stdin.answer(frame.fields().string());
                    case Wire.PING -> send(Wire.PONG, new byte[0]);
                    case Wire.COMPLETE -> {
                        Wire.Fields.Reader fields = frame.fields();
                        send(Wire.COMPLETION, complete(fields.string(), fields.integer()));
                    }
                    case Wire.INSPECT -> {
                        Wire.Fields.Reader fields = frame.fields();
                        send(Wire.DOCUMENTATION, new Wire.Fields.Writer()
                                .string(documentation(fields.string(), fields.integer())).bytes());
                    }
                    default -> throw new IOException("unknown frame type " + frame.type());
                }
            }
        } catch (IOException | RuntimeException e) {
            // The parent closed the socket or broke the protocol: nobody is listening any more.
            Runtime.getRuntime().halt(0);
        }
    }

    /** Runs on the serving thread: the worker asks only between executions. */
    private byte[] complete(String code, int cursor) {
        int[] anchor = {cursor};
        java.util.List<String> matches = java.util.List.of();
        try {
            matches = shell.sourceCodeAnalysis().completionSuggestions(code, cursor, anchor).stream()
                    .map(SourceCodeAnalysis.Suggestion::continuation).distinct().sorted().toList();
        } catch (RuntimeException e) {
            anchor[0] = cursor; // JShell's analysis failed on odd input: nothing to offer
        }
        return new Wire.Fields.Writer().strings(matches).integer(anchor[0]).bytes();
    }

    private String documentation(String code, int cursor) {
        java.util.List<SourceCodeAnalysis.Documentation> docs;
        try {
            docs = shell.sourceCodeAnalysis().documentation(code, cursor, true);
        } catch (RuntimeException e) {
            return null;
        }
        if (docs.isEmpty()) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (SourceCodeAnalysis.Documentation doc : docs) {
            if (!text.isEmpty()) {
                text.append("\n\n");
            }
            text.append(doc.signature());
            if (doc.javadoc() != null && !doc.javadoc().isBlank()) {
                text.append('\n').append(doc.javadoc().strip());
            }
        }
        return text.toString();
    }

    private void execute(Job job, String code, long maxOutput) {
        stdout.begin(maxOutput);
        stderr.begin(maxOutput);
        Wire.Outcome outcome;
        try {
            outcome = runner.run(code, () -> job.stopped, maxOutput);
        } catch (RuntimeException | Error e) {
            // JShell itself failed (an internal error, out of memory): report it as the code's error.
            outcome = new Wire.Outcome(Wire.Kind.ERROR, null, Wire.JsonKind.NONE, null, e.getClass().getName(),
                    String.valueOf(e.getMessage()), java.util.List.of(), false);
        }
        if (job.stopped && outcome.kind() != Wire.Kind.INTERRUPTED) {
            outcome = new Wire.Outcome(Wire.Kind.INTERRUPTED, null, Wire.JsonKind.NONE, null, null, null,
                    java.util.List.of(), false);
        }
        current = null;
        try {
            stdout.flushAll();
            stderr.flushAll();
            outcome = outcome.withErrorCapped(maxOutput);
            boolean truncated = outcome.truncated() || stdout.truncated() || stderr.truncated();
            Wire.Outcome sent = truncated == outcome.truncated() ? outcome
                    : new Wire.Outcome(outcome.kind(), outcome.text(), outcome.jsonKind(), outcome.json(),
                            outcome.errorName(), outcome.errorValue(), outcome.traceback(), true);
            send(Wire.RESULT, sent.encode());
        } catch (IOException e) {
            Runtime.getRuntime().halt(0);
        }
    }

    private void flushOutput() {
        // JShell.stop() only reaches code that is running: a stop that came while the snippet
        // was still compiling is repeated until the execution ends.
        Job job = current;
        if (job != null && job.stopped) {
            shell.stop();
        }
        try {
            stdout.flush();
            stderr.flush();
        } catch (IOException e) {
            Runtime.getRuntime().halt(0);
        }
    }

    private void send(byte type, byte[] payload) throws IOException {
        synchronized (socketOut) {
            Wire.write(socketOut, type, payload);
        }
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
