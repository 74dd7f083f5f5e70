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
 * @param stdin   text the code reads as its standard input ({@code input()}, {@code System.in}),
 *                line by line; {@code null} for none
 * @param interactive whether the caller answers input requests
 *                ({@link OutputListener#inputRequested}, then {@link Worker#answerInput}) once
 *                {@code stdin} is used up; otherwise reading past it is end-of-file
 */
public record ExecutionRequest(long number, String code, Duration timeout, String stdin, boolean interactive) {
    public ExecutionRequest {
        Objects.requireNonNull(code, "code");
    }

    /** Without standard input: reading it is end-of-file. */
    public ExecutionRequest(long number, String code, Duration timeout) {
        this(number, code, timeout, null, false);
    }
}
