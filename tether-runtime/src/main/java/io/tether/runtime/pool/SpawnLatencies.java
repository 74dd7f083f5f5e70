package io.tether.runtime.pool;

import java.time.Duration;
import java.util.Arrays;

/**
 * The most recent worker start times, kept in a fixed ring so percentiles describe the
 * runtime as it is now, not as it was at boot. Thread-safe.
 */
final class SpawnLatencies {
    private final long[] nanos;
    private int next;
    private int size;
    private long total;

    SpawnLatencies(int capacity) {
        this.nanos = new long[capacity];
    }

    synchronized void record(long elapsedNanos) {
        nanos[next] = elapsedNanos;
        next = (next + 1) % nanos.length;
        size = Math.min(size + 1, nanos.length);
        total++;
    }

    /** Every start ever recorded, not only those still in the ring. */
    synchronized long count() {
        return total;
    }

    /** The {@code q}-quantile (nearest rank) of the recent starts; zero when there were none. */
    Duration quantile(double q) {
        long[] sorted;
        synchronized (this) {
            sorted = Arrays.copyOf(nanos, size);
        }
        if (sorted.length == 0) {
            return Duration.ZERO;
        }
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return Duration.ofNanos(sorted[Math.max(0, rank - 1)]);
    }
}
