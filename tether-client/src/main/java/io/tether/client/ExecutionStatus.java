package io.tether.client;

import java.util.Locale;

/**
 * How an execution ended. A failure inside the interpreter is not an exception in the
 * client: it is an {@link Execution} with one of these statuses.
 */
public enum ExecutionStatus {
    /** Ran to its end. */
    OK,
    /** Raised an exception (or did not compile); the namespace is kept. */
    ERROR,
    /** Ran past its timeout and was stopped. */
    TIMEOUT,
    /** Was interrupted on request; the namespace is kept. */
    INTERRUPTED,
    /** The interpreter process died. */
    CRASHED,
    /** Still running: only a past execution fetched by number while it runs has this. */
    RUNNING;

    static ExecutionStatus of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
