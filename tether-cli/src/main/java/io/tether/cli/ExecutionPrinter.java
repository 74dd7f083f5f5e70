package io.tether.cli;

import io.tether.client.Execution;
import io.tether.client.ExecutionError;
import io.tether.client.ExecutionEvent;
import io.tether.client.ExecutionStatus;
import io.tether.client.ExecutionStream;
import java.io.PrintWriter;

/**
 * Shows an execution the way an interactive interpreter does: stdout and stderr as the code
 * writes them, then the value ({@code text/plain}) on stdout, and the error (its traceback,
 * else {@code name: value}) on stderr. Used by {@code tether exec} and {@code tether repl}.
 *
 * <p>Not thread-safe, except {@link #sessionId()}, which a signal handler may read.
 */
final class ExecutionPrinter {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean announceSession;
    private volatile String sessionId;
    private boolean outMidLine;
    private boolean errMidLine;
    private java.util.function.Consumer<ExecutionEvent.InputRequest> inputHandler = request -> { };

    /**
     * @param announceSession whether to print {@code session: ID} on stderr when the execution
     *     starts, for a session the server has just created
     */
    ExecutionPrinter(PrintWriter out, PrintWriter err, boolean announceSession) {
        this.out = out;
        this.err = err;
        this.announceSession = announceSession;
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
                    // start, result and error: the end event carries them too
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

    /** Prints the finished execution's value and error; returns whether its status is {@code ok}. */
    boolean finish(Execution execution) {
        String value = execution.text();
        if (value != null) {
            if (outMidLine) {
                out.println();
            }
            out.println(value);
            outMidLine = false;
            out.flush();
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
