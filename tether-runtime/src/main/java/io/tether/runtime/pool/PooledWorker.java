package io.tether.runtime.pool;

import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerState;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker the pool handed out. Everything goes to the real worker; closing it also tells
 * the pool, which counts the worker against {@code maxWorkers} until then. It is never
 * given back to the pool.
 */
final class PooledWorker implements Worker {
    private final Worker worker;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    PooledWorker(Worker worker, Runnable onClose) {
        this.worker = worker;
        this.onClose = onClose;
    }

    @Override
    public ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
        return worker.execute(request, listener);
    }

    @Override
    public ExecutionOutput outputSoFar(long number) {
        return worker.outputSoFar(number);
    }

    @Override
    public io.tether.runtime.Completion complete(String code, int cursor, java.time.Duration timeout) {
        return worker.complete(code, cursor, timeout);
    }

    @Override
    public io.tether.runtime.Inspection inspect(String code, int cursor, java.time.Duration timeout) {
        return worker.inspect(code, cursor, timeout);
    }

    @Override
    public boolean answerInput(String value) {
        return worker.answerInput(value);
    }

    @Override
    public void interrupt() {
        worker.interrupt();
    }

    @Override
    public void interrupt(long number) {
        worker.interrupt(number);
    }

    @Override
    public void restart() {
        worker.restart();
    }

    @Override
    public void onDeath(Runnable action) {
        worker.onDeath(action);
    }

    @Override
    public boolean isHealthy() {
        return worker.isHealthy();
    }

    @Override
    public WorkerState state() {
        return worker.state();
    }

    @Override
    public java.nio.file.Path workingDirectory() {
        return worker.workingDirectory();
    }

    @Override
    public long pid() {
        return worker.pid();
    }

    @Override
    public java.util.Optional<java.time.Duration> cpuTime() {
        return worker.cpuTime();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                worker.close();
            } finally {
                onClose.run();
            }
        }
    }

    @Override
    public String toString() {
        return "PooledWorker[" + worker + "]";
    }
}
