package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker side of a live session: its worker and the gate that runs one execution at a
 * time, in arrival order, with a bounded queue.
 */
final class LiveWorker {
    final Worker worker;
    private final ReentrantLock gate = new ReentrantLock(true);
    private final int maxQueued;
    private int queued; // guarded by this
    private long executions; // guarded by gate
    private final long maxOutputBytes;
    private volatile boolean busy;
    private volatile Running running;

    LiveWorker(Worker worker, int maxQueued, long maxOutputBytes) {
        this.worker = worker;
        this.maxQueued = maxQueued;
        this.maxOutputBytes = maxOutputBytes;
    }

    /** Whether an execution is running: a busy session is never expired for idleness. */
    boolean busy() {
        return busy;
    }

    /**
     * Waits for this session's earlier executions (and restarts), then marks it busy.
     *
     * @throws TetherException {@code limit_exceeded} when {@code maxQueued} executions are
     *     already waiting
     */
    void enter(String sessionId) {
        synchronized (this) {
            if (queued >= maxQueued + 1) {
                throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "session '" + sessionId + "' already has "
                        + maxQueued + " executions waiting behind the running one");
            }
            queued++;
        }
        try {
            gate.lockInterruptibly();
        } catch (InterruptedException e) {
            synchronized (this) {
                queued--;
            }
            Thread.currentThread().interrupt();
            throw new TetherException(ErrorCode.INTERNAL, "interrupted while waiting to execute", e);
        }
        busy = true;
    }

    /** The number of the next execution; call between {@link #enter} and {@link #exit}. */
    long nextNumber() {
        return ++executions;
    }

    /** Marks execution {@code number} as running; call between {@link #enter} and {@link #exit}. */
    Running begin(long number, String code, Instant startedAt) {
        Running r = new Running(number, code, startedAt, maxOutputBytes);
        running = r;
        return r;
    }

    void end(Running r) {
        if (running == r) {
            running = null;
        }
    }

    /** The record of execution {@code number} if it is the one running now, else {@code null}. */
    ExecutionRecord runningRecord(String sessionId, long number) {
        Running r = running;
        return r == null || r.number != number ? null : r.record(sessionId);
    }

    void exit() {
        busy = false;
        gate.unlock();
        synchronized (this) {
            queued--;
        }
    }

    /**
     * The execution running now: its output so far, kept (up to the worker's output limit)
     * so a client that went away can fetch it while it runs.
     */
    static final class Running {
        final long number;
        final String code;
        final Instant startedAt;
        private final long startedNanos = System.nanoTime();
        private final long maxChars;
        private final StringBuilder stdout = new StringBuilder();
        private final StringBuilder stderr = new StringBuilder();
        private boolean truncated;

        Running(long number, String code, Instant startedAt, long maxChars) {
            this.number = number;
            this.code = code;
            this.startedAt = startedAt;
            this.maxChars = maxChars;
        }

        /** {@code listener}, with the output also kept here. */
        OutputListener tee(OutputListener listener) {
            return (stream, text) -> {
                keep(stream, text);
                listener.output(stream, text);
            };
        }

        private synchronized void keep(OutputListener.Stream stream, String text) {
            StringBuilder b = stream == OutputListener.Stream.STDOUT ? stdout : stderr;
            long room = maxChars - stdout.length() - stderr.length();
            if (text.length() > room) {
                truncated = true;
                text = text.substring(0, (int) Math.max(room, 0));
            }
            b.append(text);
        }

        synchronized ExecutionRecord record(String sessionId) {
            ExecutionResult soFar = new ExecutionResult(number, ExecutionStatus.RUNNING, stdout.toString(),
                    stderr.toString(), Map.of(), null, Duration.ofNanos(System.nanoTime() - startedNanos), truncated);
            return new ExecutionRecord(sessionId, code, startedAt, null, soFar);
        }
    }
}
