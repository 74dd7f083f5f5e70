package io.tether.session;

/**
 * What happens to a session whose worker died: it crashed, was killed from outside, or
 * was killed because an execution ran past its timeout and ignored the interrupt. The
 * execution's result says {@code crashed} or {@code timeout} either way, so a client always
 * knows the interpreter's state is gone.
 */
public enum WorkerLossPolicy {
    /** The session ends with status {@code error}, reason {@code worker_crashed}. The default. */
    END_SESSION,
    /** The session gets a fresh interpreter (empty namespace, same id and working directory). */
    RESTART
}
