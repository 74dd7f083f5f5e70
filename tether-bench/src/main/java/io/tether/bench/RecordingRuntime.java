package io.tether.bench;

import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A runtime that remembers every worker its delegate started, so the harness can find
 * worker processes (the session manager does not expose them). Owns its delegate.
 */
final class RecordingRuntime implements SessionRuntime {
    private final SessionRuntime delegate;
    private final List<Worker> started = new CopyOnWriteArrayList<>();

    RecordingRuntime(SessionRuntime delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Worker start(WorkerOptions options) {
        Worker w = delegate.start(options);
        started.add(w);
        return w;
    }

    /** Every worker started so far, oldest first, also those since closed. */
    List<Worker> started() {
        return List.copyOf(started);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
