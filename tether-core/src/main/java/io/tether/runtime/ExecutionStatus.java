package io.tether.runtime;

import java.util.Locale;

/** How an execution ended. Only {@code ok} means the code ran to its end without error. */
public enum ExecutionStatus {
    /** Ran to the end. */
    OK,
    /** Raised an exception (or failed to compile); the interpreter is still usable. */
    ERROR,
    /** Ran past its timeout and was stopped. */
    TIMEOUT,
    /** Was interrupted on request; the interpreter's state is kept. */
    INTERRUPTED,
    /** The interpreter process died. */
    CRASHED,
    /**
     * Has not ended yet. Never returned by a worker: only the record of an execution that
     * is still running (see {@code SessionManager.execution}) carries it.
     */
    RUNNING;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
