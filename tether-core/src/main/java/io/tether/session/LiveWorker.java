package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.Worker;
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
    private volatile boolean busy;

    LiveWorker(Worker worker, int maxQueued) {
        this.worker = worker;
        this.maxQueued = maxQueued;
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

    void exit() {
        busy = false;
        gate.unlock();
        synchronized (this) {
            queued--;
        }
    }
}
