package io.tether.runtime;

import java.time.Duration;
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
 */
public record ExecutionResult(long number, ExecutionStatus status, String stdout, String stderr,
                              Map<String, Object> result, ExecutionError error, Duration duration,
                              boolean truncated) {
    public ExecutionResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        result = result == null ? Map.of() : result;
        Objects.requireNonNull(duration, "duration");
    }
}
