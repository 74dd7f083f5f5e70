package io.tether.store.jdbc;

import java.util.concurrent.atomic.AtomicLong;

/**
 * When deferred changes (activity, executions) must next be written: the first change after
 * the writer took them sets the deadline one interval ahead and wakes the writer; later
 * changes leave it alone. Thread-safe and lock-free: {@link #arm} is on the path of every touch.
 */
public final class FlushDeadline {
    private static final long NONE = Long.MAX_VALUE;

    /** {@link System#nanoTime()} by which pending changes must be written. */
    private final AtomicLong deadline = new AtomicLong(NONE);
    private final long intervalNanos;
    private final Runnable wakeWriter;

    public FlushDeadline(long intervalNanos, Runnable wakeWriter) {
        this.intervalNanos = intervalNanos;
        this.wakeWriter = wakeWriter;
    }

    /**
     * Sets the deadline unless one is set. Call after the change is where the writer takes it
     * from: the writer {@linkplain #clear clears} the deadline before it takes changes, so a
     * change it missed always finds the deadline cleared here and sets a new one.
     */
    public void arm() {
        if (deadline.get() == NONE && deadline.compareAndSet(NONE, System.nanoTime() + intervalNanos)) {
            wakeWriter.run();
        }
    }

    /** Called by the writer just before it takes the pending changes. */
    public void clear() {
        deadline.set(NONE);
    }

    public boolean isDue(long nowNanos) {
        long d = deadline.get();
        return d != NONE && d - nowNanos <= 0;
    }

    /** Nanoseconds until the deadline (at most 0 when due), or {@code -1} when nothing is pending. */
    public long nanosUntilDue(long nowNanos) {
        long d = deadline.get();
        return d == NONE ? -1 : Math.max(0, d - nowNanos);
    }
}
