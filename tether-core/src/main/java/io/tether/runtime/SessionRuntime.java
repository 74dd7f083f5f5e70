package io.tether.runtime;

/**
 * Starts {@link Worker}s of one kind: a Python interpreter, a JShell, … A live session owns
 * exactly one worker for its whole life.
 *
 * <p>Implementations are thread-safe. {@link #start} blocks until the worker can execute
 * (or fails); a pool or fork-server behind it is an implementation detail.
 */
public interface SessionRuntime extends AutoCloseable {

    /** The name sessions ask for, e.g. {@code python}; matches {@code [a-z][a-z0-9_-]{0,31}}. */
    String name();

    /**
     * A new worker, ready to execute, never handed to anyone else.
     *
     * @throws io.tether.TetherException {@code runtime_unavailable} when no worker can be
     *     started (the interpreter is missing, it died on start…), {@code limit_exceeded}
     *     when a pool is exhausted
     */
    Worker start(WorkerOptions options);

    /**
     * Whether this runtime drives configured devices: its sessions name one
     * ({@link WorkerOptions#device}), and a session of any other runtime may not. Default
     * {@code false}.
     */
    default boolean usesDevices() {
        return false;
    }

    /** Stops whatever the runtime runs in the background (pools, fork-servers). Idempotent. */
    @Override
    void close();
}
