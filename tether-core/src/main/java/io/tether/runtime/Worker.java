package io.tether.runtime;

/**
 * One live interpreter in its own process, owned by one session: its variables, functions
 * and imports persist from one execution to the next.
 *
 * <p>One execution at a time: callers (the session manager) serialize {@link #execute}.
 * {@link #interrupt}, {@link #state}, {@link #pid} and {@link #close} may be called from
 * any thread at any time. {@link #close} kills the process and never leaves it behind.
 */
public interface Worker extends AutoCloseable {

    /**
     * Runs {@code request.code()} and returns when it finished, failed, timed out, was
     * interrupted or the process died. Output is passed to {@code listener} while the code
     * runs, and is also in the result (capped; the result's {@code truncated} flag says so).
     * A failure inside the interpreter is a result, not an exception.
     *
     * @throws io.tether.TetherException {@code payload_too_large} when the code is larger
     *     than the worker's limit; {@code session_ended} when the worker is closed
     */
    ExecutionResult execute(ExecutionRequest request, OutputListener listener);

    /**
     * The output execution {@code number} has produced so far while it runs, read from the
     * buffer its result is made of, so a caller keeps no copy of its own. Any thread, at any
     * time; cheap (a copy of what was kept, under the worker's own lock).
     *
     * @return its output so far; {@code null} when execution {@code number} is not running in
     *     this worker (not yet, or no more), or for a runtime that cannot tell (the default:
     *     a running execution then shows no output until it ends)
     */
    default ExecutionOutput outputSoFar(long number) {
        return null;
    }

    /**
     * What may be typed at {@code cursor} in {@code code}, from the interpreter's live state
     * (its variables, imports, the attributes of its objects). Only between executions: the
     * caller (the session manager) holds the worker as it does for {@link #execute}. Waits
     * at most {@code timeout} for the interpreter.
     *
     * @param cursor a position in {@code code} in code points, {@code 0 ≤ cursor ≤ length}
     * @return the candidates; none for a runtime that cannot complete (the default)
     * @throws io.tether.TetherException {@code session_ended} when the worker is closed,
     *     {@code internal} when the interpreter did not answer in time
     */
    default Completion complete(String code, int cursor, java.time.Duration timeout) {
        return Completion.none(cursor);
    }

    /**
     * The signature and documentation of the name at {@code cursor} in {@code code}, as
     * {@link #complete}: between executions only, waiting at most {@code timeout}.
     *
     * @return what was found; {@link Inspection#NOT_FOUND} for a runtime that cannot tell (the default)
     */
    default Inspection inspect(String code, int cursor, java.time.Duration timeout) {
        return Inspection.NOT_FOUND;
    }

    /**
     * Answers the input request of the running execution ({@link OutputListener#inputRequested}):
     * {@code value} is the line it reads (without its line end). Any thread.
     *
     * @return false when no execution waits for input (none runs, or it did not ask, or it
     *     was answered already); the default, for runtimes without input
     */
    default boolean answerInput(String value) {
        return false;
    }

    /** Interrupts the running execution, keeping the interpreter's state; no-op when idle. */
    void interrupt();

    /**
     * Interrupts execution {@code number} ({@link ExecutionRequest#number}): at once when it
     * runs, or as soon as it is sent when its {@link #execute} has been called but has not sent
     * it yet, so an interrupt that comes right after the caller was told it started is not
     * lost; no-op for any other number. The default interrupts whatever runs.
     */
    default void interrupt(long number) {
        interrupt();
    }

    /** Replaces the interpreter with a fresh one (all state lost); the pid changes. */
    void restart();

    /**
     * Sets what runs each time the interpreter dies by itself (it crashed, or was killed from
     * outside), whether an execution runs then or not; an interpreter that dies between
     * executions is otherwise only found out by the next one. Runs at once, on the calling
     * thread, when the interpreter is dead already; else on the thread that notices the
     * death (an execution's, or one watching the process), so {@code action} must return
     * quickly and not wait for the worker. Not run for {@link #close} or {@link #restart},
     * which end an interpreter on purpose. Replaces the action set before.
     */
    void onDeath(Runnable action);

    /** Whether the worker answers; a quick round trip when idle, {@code true} while busy. */
    boolean isHealthy();

    WorkerState state();

    /** The operating-system process id of the interpreter, or -1 when it has none. */
    long pid();

    /**
     * CPU time (user and system) used so far by the worker's interpreter and every process
     * it started, the ended ones included, since the worker started or last restarted: the
     * figure a session's CPU limit ({@link WorkerOptions.WorkerLimits#cpuTime}) is held to.
     * Empty when the runtime cannot tell (the default) or the worker is closed.
     */
    default java.util.Optional<java.time.Duration> cpuTime() {
        return java.util.Optional.empty();
    }

    /**
     * The worker's own working directory: created by its runtime for this worker alone
     * (the interpreter starts in it), kept across {@link #restart()}, deleted by
     * {@link #close()}. A session's files live here.
     */
    java.nio.file.Path workingDirectory();

    /** Kills the interpreter process and deletes its working directory. Idempotent; never throws. */
    @Override
    void close();
}
