package io.tether.runtime;

import java.time.Duration;
import java.util.Objects;

/**
 * Code to run in a worker.
 *
 * @param number  the session's number for this execution (1, 2, …)
 * @param code    the source to run
 * @param timeout how long it may run before it is interrupted (then killed after a grace
 *                period); {@code null} for no limit
 */
public record ExecutionRequest(long number, String code, Duration timeout) {
    public ExecutionRequest {
        Objects.requireNonNull(code, "code");
    }
}
