package io.tether.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one execution produced.
 *
 * @param number    the execution's number in its session
 * @param status    how it ended
 * @param stdout    its standard output (capped)
 * @param stderr    its standard error (capped)
 * @param result    the value of a trailing expression as a MIME bundle: {@code text/plain}
 *                  always, {@code application/json} when the value is JSON-serializable;
 *                  empty when there was no value
 * @param error     what it raised, or {@code null}
 * @param duration  how long it ran
 * @param truncated whether output was cut at the worker's output limit
 * @param outputs   everything it produced, in order (see {@link Output}): stream text,
 *                  displays and the result; {@code stdout}, {@code stderr} and
 *                  {@code result} are the same output gathered by kind. When null (a
 *                  runtime without displays, or a stored execution), the stdout, stderr
 *                  and result, in that order
 */
public record ExecutionResult(long number, ExecutionStatus status, String stdout, String stderr,
                              Map<String, Object> result, ExecutionError error, Duration duration,
                              boolean truncated, List<Output> outputs) {
    public ExecutionResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        result = result == null ? Map.of() : result;
        Objects.requireNonNull(duration, "duration");
        outputs = outputs == null ? gathered(stdout, stderr, result) : List.copyOf(outputs);
    }

    /** A result whose outputs are its stdout, its stderr and its result, in that order. */
    public ExecutionResult(long number, ExecutionStatus status, String stdout, String stderr,
                           Map<String, Object> result, ExecutionError error, Duration duration, boolean truncated) {
        this(number, status, stdout, stderr, result, error, duration, truncated, null);
    }

    private static List<Output> gathered(String stdout, String stderr, Map<String, Object> result) {
        List<Output> outputs = new ArrayList<>(3);
        if (!stdout.isEmpty()) {
            outputs.add(new Output.StreamText(OutputListener.Stream.STDOUT, stdout));
        }
        if (!stderr.isEmpty()) {
            outputs.add(new Output.StreamText(OutputListener.Stream.STDERR, stderr));
        }
        if (!result.isEmpty()) {
            outputs.add(new Output.ExecuteResult(result, Map.of(), false));
        }
        return List.copyOf(outputs);
    }
}
