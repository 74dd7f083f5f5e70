package io.tether.client;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An execution: how the code ended, its output and its value. A failure inside the
 * interpreter is a status here ({@code error}, {@code timeout}, …), not an exception.
 *
 * @param sessionId the session it ran in
 * @param number its number in that session, from 1
 * @param status how it ended ({@code running} only for a past execution fetched while it runs)
 * @param stdout standard output
 * @param stderr standard error
 * @param result the value of a trailing expression as a MIME bundle ({@code text/plain}
 *     always, {@code application/json} when the value is JSON-serializable); empty when
 *     there was none
 * @param error the exception it raised, or {@code null}
 * @param duration how long it ran
 * @param truncated whether output was cut at the server's {@code max_output_bytes}
 * @param code the code; only on a past execution ({@link TetherClient#execution}), else {@code null}
 * @param startedAt when it started; only on a past execution, else {@code null}
 * @param endedAt when it ended; only on a past execution that ended, else {@code null}
 * @param newSession {@code true} when the session was created for this very call (the first
 *     call of an {@link AutoSession}, or a replacement for one that was lost): no earlier
 *     state exists in it. Always {@code false} for calls with a session id.
 * @param outputs everything it produced, in order: stream text, displays (images, tables, …)
 *     and the value; {@code stdout}, {@code stderr} and {@code result} are the same output
 *     gathered by kind. A running execution lists its output so far (no value yet)
 */
public record Execution(String sessionId, long number, ExecutionStatus status, String stdout, String stderr,
                        Map<String, Object> result, ExecutionError error, Duration duration, boolean truncated,
                        String code, Instant startedAt, Instant endedAt, boolean newSession,
                        List<ExecutionOutput> outputs) {
    public Execution {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(status, "status");
        stdout = stdout == null ? "" : stdout;
        stderr = stderr == null ? "" : stderr;
        result = Wire.frozen(result);
        duration = duration == null ? Duration.ZERO : duration;
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
    }

    /** An execution without outputs (as a server before rich outputs answered). */
    public Execution(String sessionId, long number, ExecutionStatus status, String stdout, String stderr,
                     Map<String, Object> result, ExecutionError error, Duration duration, boolean truncated,
                     String code, Instant startedAt, Instant endedAt, boolean newSession) {
        this(sessionId, number, status, stdout, stderr, result, error, duration, truncated, code, startedAt, endedAt,
                newSession, List.of());
    }

    /** What the code displayed ({@code display(obj)}, matplotlib figures), in order. */
    public List<ExecutionOutput.DisplayData> displays() {
        return outputs.stream().filter(o -> o instanceof ExecutionOutput.DisplayData)
                .map(o -> (ExecutionOutput.DisplayData) o).toList();
    }

    /** Whether it ran to its end without an error. */
    public boolean ok() {
        return status == ExecutionStatus.OK;
    }

    /** The value's {@code text/plain} form, as a REPL prints it; {@code null} when there was no value. */
    public String text() {
        return result.get("text/plain") instanceof String s ? s : null;
    }

    /**
     * The value as JSON ({@code String}, {@code Number}, {@code Boolean}, {@code List},
     * {@code Map}); {@code null} when there was no value or it is not JSON-serializable.
     */
    public Object value() {
        return result.get("application/json");
    }

    Execution asNewSession() {
        return new Execution(sessionId, number, status, stdout, stderr, result, error, duration, truncated, code,
                startedAt, endedAt, true, outputs);
    }
}
