package io.tether.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * Shows an execution the way an interactive interpreter does: stdout and stderr as the code
 * writes them, then the value ({@code text/plain}) on stdout, and the error (its traceback,
 * else {@code name: value}) on stderr. Used by {@code tether exec} and {@code tether repl}.
 *
 * <p>Not thread-safe, except {@link #sessionId()}, which a signal handler may read.
 */
final class ExecutionPrinter implements ServerClient.ExecutionListener {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean announceSession;
    private volatile String sessionId;
    private boolean outMidLine;
    private boolean errMidLine;

    /**
     * @param announceSession whether to print {@code session: ID} on stderr when the execution
     *     starts, for a session the server has just created
     */
    ExecutionPrinter(PrintWriter out, PrintWriter err, boolean announceSession) {
        this.out = out;
        this.err = err;
        this.announceSession = announceSession;
    }

    /** The session of the running execution; {@code null} until it has started. */
    String sessionId() {
        return sessionId;
    }

    @Override
    public void started(String id, long number) {
        sessionId = id;
        if (announceSession) {
            err.println("session: " + id);
            err.flush();
        }
    }

    @Override
    public void output(boolean stderr, String text) {
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
    boolean finish(Map<String, Object> execution) {
        if (execution.get("result") instanceof Map<?, ?> bundle && bundle.get("text/plain") instanceof String text) {
            if (outMidLine) {
                out.println();
            }
            out.println(text);
            outMidLine = false;
            out.flush();
        }
        String status = String.valueOf(execution.get("status"));
        if (execution.get("error") instanceof Map<?, ?> error) {
            lineStartOnErr();
            // Python's traceback ends with "Name: value" and javac's diagnostics hold the
            // value; a Java stack trace has neither, so the summary goes first.
            String name = String.valueOf(error.get("name"));
            String value = error.get("value") == null ? "" : String.valueOf(error.get("value"));
            List<?> lines = error.get("traceback") instanceof List<?> l ? l : List.of();
            String said = value.isEmpty() ? name : value;
            if (lines.stream().noneMatch(line -> String.valueOf(line).contains(said))) {
                err.println(value.isEmpty() ? name : name + ": " + value);
            }
            lines.forEach(err::println);
        }
        if (!ok(execution) && !status.equals("error")) {
            lineStartOnErr();
            err.println("tether: execution " + switch (status) {
                case "timeout" -> "timed out (--timeout, or the server's execution_timeout)";
                case "crashed" -> "crashed its interpreter";
                default -> status;
            });
        }
        if (Boolean.TRUE.equals(execution.get("truncated"))) {
            lineStartOnErr();
            err.println("tether: output truncated (server setting max_output_bytes)");
        }
        err.flush();
        return ok(execution);
    }

    private void lineStartOnErr() {
        if (errMidLine) {
            err.println();
            errMidLine = false;
        }
    }

    /** Whether a finished execution's status is {@code ok}. */
    static boolean ok(Map<String, Object> execution) {
        return "ok".equals(execution.get("status"));
    }
}
