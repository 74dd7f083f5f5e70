package io.tether.bench;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import java.nio.file.Path;

/**
 * A runtime whose workers are plain objects (no process, no directory), so a benchmark of
 * what sits in front of a runtime (the warm pool) measures that and not an interpreter.
 * Its workers cannot execute.
 */
final class StubRuntime implements SessionRuntime {

    @Override
    public String name() {
        return "stub";
    }

    @Override
    public Worker start(WorkerOptions options) {
        return new StubWorker();
    }

    @Override
    public void close() {
    }

    private static final class StubWorker implements Worker {
        private volatile WorkerState state = WorkerState.IDLE;

        @Override
        public ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
            throw new UnsupportedOperationException("a stub worker does not execute");
        }

        @Override
        public void interrupt() {
        }

        @Override
        public void restart() {
        }

        @Override
        public void onDeath(Runnable action) {
            // a stub has no process: it never dies by itself
        }

        @Override
        public boolean isHealthy() {
            return state != WorkerState.DEAD;
        }

        @Override
        public WorkerState state() {
            return state;
        }

        @Override
        public long pid() {
            return -1;
        }

        @Override
        public Path workingDirectory() {
            return null;
        }

        @Override
        public void close() {
            state = WorkerState.DEAD;
        }
    }
}
