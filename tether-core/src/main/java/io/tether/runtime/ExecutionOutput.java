package io.tether.runtime;

import java.util.Objects;

/**
 * The output a running execution has produced so far, kept as its result will keep it (the
 * same cap, the same {@code truncated} flag): what a client that went away mid-stream fetches.
 *
 * @param stdout    its standard output so far (capped)
 * @param stderr    its standard error so far (capped)
 * @param truncated whether output was cut at the worker's output limit so far
 */
public record ExecutionOutput(String stdout, String stderr, boolean truncated) {
    /** No output (yet). */
    public static final ExecutionOutput NONE = new ExecutionOutput("", "", false);

    public ExecutionOutput {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }
}
