package io.tether.runtime;

/**
 * Receives an execution's output while it runs, in order, on a worker's thread. Keep it
 * quick. A listener that throws is ignored for the rest of that execution; the output is
 * still in the result.
 */
@FunctionalInterface
public interface OutputListener {
    /** Standard output or standard error. */
    enum Stream { STDOUT, STDERR }

    void output(Stream stream, String text);

    /**
     * Called by the session manager once the execution has its number, before it runs
     * (workers do not call it). A server uses it to tell a client which execution to
     * fetch if it goes away before the end.
     */
    default void started(long number) {
    }

    /** Ignores everything. */
    OutputListener NONE = (stream, text) -> { };
}
