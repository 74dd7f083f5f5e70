package io.tether.runtime;

/** Where a worker is. */
public enum WorkerState {
    /** The process is starting and cannot execute yet. */
    STARTING,
    /** Ready for an execution. */
    IDLE,
    /** Running an execution. */
    BUSY,
    /** The process has exited or was closed. */
    DEAD
}
