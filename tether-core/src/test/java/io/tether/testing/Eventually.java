package io.tether.testing;

import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition by polling it until a deadline: what tests do instead of sleeping. */
public final class Eventually {
    private Eventually() {
    }

    /**
     * Returns as soon as {@code condition} holds; fails the test when it does not within
     * {@code within}, saying {@code what} was awaited.
     */
    public static void eventually(Duration within, String what, BooleanSupplier condition) {
        if (!holdsWithin(within, condition)) {
            fail("not within " + within + ": " + what);
        }
    }

    /** Whether {@code condition} holds at some point within {@code within} (polled every few ms). */
    public static boolean holdsWithin(Duration within, BooleanSupplier condition) {
        long deadline = System.nanoTime() + within.toNanos();
        long pause = 1;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                Thread.sleep(Math.min(pause, Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return condition.getAsBoolean();
            }
            pause = Math.min(pause * 2, 10);
        }
        return true;
    }
}
