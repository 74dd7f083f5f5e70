package io.tether.cli;

import io.tether.client.Execution;
import io.tether.client.ExecutionError;
import io.tether.client.ExecutionEvent;
import io.tether.client.ExecutionOutput;
import io.tether.client.ExecutionStatus;
import io.tether.client.ExecutionStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * Shows an execution the way an interactive interpreter does: stdout and stderr as the code
 * writes them, displays where they come (images saved by {@link OutputFiles}, with a line
 * saying where, of which type and how large; {@code text/plain} for the rest), then the
 * value the same way on stdout, and the error (its traceback, else {@code name: value}) on
 * stderr. Used by {@code tether exec} and {@code tether repl}.
 *
 * <p>Not thread-safe, except {@link #sessionId()}, which a signal handler may read.
 */
final class ExecutionPrinter {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean announceSession;
    private final OutputFiles files;
    private long number;
    private volatile String sessionId;
    private boolean outMidLine;
    private boolean errMidLine;
    private java.util.function.Consumer<ExecutionEvent.InputRequest> inputHandler = request -> { };

    /**
     * @param announceSession whether to print {@code session: ID} on stderr when the execution
     *     starts, for a session the server has just created
     */
    ExecutionPrinter(PrintWriter out, PrintWriter err, boolean announceSession, OutputFiles files) {
        this.out = out;
        this.err = err;
        this.announceSession = announceSession;
        this.files = files;
    }

    /**
     * What answers the execution's input requests (it reads a line and sends it, or
     * interrupts the code); called on the printing thread, after the output before the
     * request is shown. By default nothing answers.
     */
    ExecutionPrinter onInput(java.util.function.Consumer<ExecutionEvent.InputRequest> handler) {
        this.inputHandler = handler;
        return this;
    }

    /** The session of the running execution; {@code null} until it has started. */
    String sessionId() {
        return sessionId;
    }

    /**
     * Prints an execution's output as its events arrive; returns the finished execution.
     * The session is known (for {@link #sessionId()}) as soon as the stream is open.
     */
    Execution print(ExecutionStream stream) {
        sessionId = stream.sessionId();
        if (announceSession) {
            err.println("session: " + sessionId);
            err.flush();
        }
        while (stream.hasNext()) {
            switch (stream.next()) {
                case ExecutionEvent.Stdout o -> output(false, o.text());
                case ExecutionEvent.Stderr e -> output(true, e.text());
                case ExecutionEvent.Start s -> number = s.number();
                case ExecutionEvent.Display d -> bundle(d.output());
                case ExecutionEvent.End end -> {
                    return end.execution();
                }
                case ExecutionEvent.InputRequest request -> {
                    out.flush();
                    err.flush();
                    inputHandler.accept(request);
                    outMidLine = false; // the answer ended with the user's Enter
                }
                default -> {
                    // result and error: the end event carries them too
                }
            }
        }
        throw new IllegalStateException("the event stream ended without its end event");
    }

    private void output(boolean stderr, String text) {
        if (text.isEmpty()) {
            return;
        }
        PrintWriter w = stderr ? err : out;
        w.print(text);
        w.flush();
        if (stderr) {
            errMidLine = !text.endsWith("\n");
        } else {
            outMidLine = !text.endsWith("\n");
        }
    }

    /**
     * Shows a displayed output or the value: its images saved to files, one line each, and
     * its {@code text/plain} unless an image stands for it.
     */
    private void bundle(ExecutionOutput.Bundle bundle) {
        List<OutputFiles.Saved> saved = List.of();
        try {
            saved = files.save(sessionId, number, bundle);
        } catch (IOException | IllegalArgumentException e) {
            lineStartOnErr();
            err.println("tether: cannot save an image in " + files.directory() + " (" + e.getClass().getSimpleName()
                    + ": " + e.getMessage() + "); showing its text");
            err.flush();
        }
        if (outMidLine) {
            out.println();
            outMidLine = false;
        }
        for (OutputFiles.Saved s : saved) {
            out.println(s.describe());
        }
        String text = bundle.text();
        if (text != null && (saved.isEmpty() || bundle instanceof ExecutionOutput.ExecuteResult)) {
            out.println(text);
        }
        out.flush();
    }

    /** Prints the finished execution's value and error; returns whether its status is {@code ok}. */
    boolean finish(Execution execution) {
        number = execution.number();
        ExecutionOutput.ExecuteResult value = execution.outputs().stream()
                .filter(o -> o instanceof ExecutionOutput.ExecuteResult).map(o -> (ExecutionOutput.ExecuteResult) o)
                .findFirst().orElse(execution.result().isEmpty() ? null
                        : new ExecutionOutput.ExecuteResult(execution.result(), Map.of(), false));
        if (value != null) {
            bundle(value);
        }
        ExecutionError error = execution.error();
        if (error != null) {
            lineStartOnErr();
            // Python's traceback ends with "Name: value" and javac's diagnostics hold the
            // value; a Java stack trace has neither, so the summary goes first.
            String said = error.value().isEmpty() ? error.name() : error.value();
            if (error.traceback().stream().noneMatch(line -> line.contains(said))) {
                err.println(error.value().isEmpty() ? error.name() : error.name() + ": " + error.value());
            }
            error.traceback().forEach(err::println);
        }
        ExecutionStatus status = execution.status();
        if (!execution.ok() && status != ExecutionStatus.ERROR) {
            lineStartOnErr();
            err.println("tether: execution " + switch (status) {
                case TIMEOUT -> "timed out (--timeout, or the server's execution_timeout)";
                case CRASHED -> "crashed its interpreter";
                default -> status.name().toLowerCase(java.util.Locale.ROOT);
            });
        }
        if (execution.truncated()) {
            lineStartOnErr();
            err.println("tether: output truncated (server setting max_output_bytes)");
        }
        err.flush();
        return execution.ok();
    }

    private void lineStartOnErr() {
        if (errMidLine) {
            err.println();
            errMidLine = false;
        }
    }
}
