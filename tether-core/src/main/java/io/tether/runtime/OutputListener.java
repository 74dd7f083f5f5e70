package io.tether.runtime;

/**
 * Receives an execution's output while it runs (stream text, then also displays), in
 * order, one call at a time, on a thread
 * the worker chooses (the Python runtime calls it on the thread that called
 * {@code execute}, which reads the worker's output itself). Keep it quick: the worker's
 * output waits meanwhile. A listener that throws is ignored for the rest of that
 * execution; the output is still in the result.
 */
@FunctionalInterface
public interface OutputListener {
    /** Standard output or standard error. */
    enum Stream { STDOUT, STDERR }

    void output(Stream stream, String text);

    /**
     * Something the code displayed ({@code display(obj)}, a matplotlib figure), in order
     * with the {@link #output} calls around it. Runtimes without displays never call it;
     * by default it is ignored.
     */
    default void display(Output.DisplayData output) {
    }

    /**
     * Whether this listener answers input requests: when it does, code that reads its
     * standard input past the request's {@code stdin} text waits for an answer
     * ({@link #inputRequested}); when not (the default), it reads end-of-file.
     */
    default boolean acceptsInput() {
        return false;
    }

    /**
     * The code waits for a line of input ({@code input()}, {@code getpass}, a read of
     * {@code System.in}), after every {@link #output} before it; the caller answers with
     * {@link Worker#answerInput}. Only called when {@link #acceptsInput}.
     *
     * @param prompt   what the code asked with (not written to standard output); may be empty
     * @param password whether the answer is a secret not to be echoed ({@code getpass})
     */
    default void inputRequested(String prompt, boolean password) {
    }

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
