package io.tether.runtime;

import java.util.List;
import java.util.Objects;

/**
 * The output a running execution has produced so far, kept as its result will keep it (the
 * same cap, the same {@code truncated} flag): what a client that went away mid-stream fetches.
 *
 * @param stdout    its standard output so far (capped)
 * @param stderr    its standard error so far (capped)
 * @param truncated whether output was cut at the worker's output limit so far
 * @param outputs   stream text and displays so far, in order (no result yet); {@code null}
 *                  for a runtime without displays: then its stdout and stderr
 */
public record ExecutionOutput(String stdout, String stderr, boolean truncated, List<Output> outputs) {
    /** No output (yet). */
    public static final ExecutionOutput NONE = new ExecutionOutput("", "", false);

    public ExecutionOutput {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        outputs = outputs == null ? null : List.copyOf(outputs);
    }

    /** Output without displays. */
    public ExecutionOutput(String stdout, String stderr, boolean truncated) {
        this(stdout, stderr, truncated, null);
    }
}
