package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.Worker;
import java.util.concurrent.TimeUnit;
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
     * Waits for this session's earlier executions, then marks it busy.
     *
     * @return the number of the execution that may now run
     * @throws TetherException {@code limit_exceeded} when {@code maxQueued} executions are
     *     already waiting
     */
    long enter(String sessionId) {
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
        return ++executions;
    }

    void exit() {
        busy = false;
        gate.unlock();
        synchronized (this) {
            queued--;
        }
    }

    /** Runs {@code work} once no execution is running (waits at most {@code seconds}). */
    boolean whenIdle(long seconds, Runnable work) throws InterruptedException {
        if (!gate.tryLock(seconds, TimeUnit.SECONDS)) {
            return false;
        }
        try {
            work.run();
            return true;
        } finally {
            gate.unlock();
        }
    }
}
