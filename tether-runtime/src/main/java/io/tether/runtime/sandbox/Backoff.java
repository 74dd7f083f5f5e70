package io.tether.runtime.sandbox;

import java.time.Duration;

/**
 * Pauses between polls of a control file: 50 µs, doubling up to 2 ms, since a killed
 * process usually leaves its cgroup within a millisecond. An interrupt does not cut a
 * clean-up short; it is remembered and restored by {@link #restoreInterrupt}.
 */
final class Backoff {
    private static final Duration FIRST = Duration.ofNanos(50_000);
    private static final Duration LONGEST = Duration.ofMillis(2);

    private final long deadline;
    private Duration next = FIRST;
    private boolean interrupted;

    Backoff(Duration timeout) {
        this.deadline = System.nanoTime() + timeout.toNanos();
    }

    boolean expired() {
        return System.nanoTime() - deadline > 0;
    }

    void pause() {
        try {
            Thread.sleep(next);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(LONGEST) > 0 ? LONGEST : doubled;
    }

    void restoreInterrupt() {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
