package io.tether.bench;

import java.util.Locale;
import java.util.OptionalLong;

/**
 * How many idle sessions fit in a memory budget, estimated from what the sessions' own
 * processes measured: their summed PSS divided by the number of sessions, into the budget.
 * The JVM is left out on purpose: its share is the difference of two samples of a process
 * whose collector commits and uncommits memory, and one run made it negative (a capacity of
 * "-29,223"). An estimate that cannot be made says so instead of printing a number.
 */
final class CapacityEstimate {
    private static final double MB = 1 << 20;

    private CapacityEstimate() {
    }

    /**
     * The sessions that fit in {@code budgetBytes} at {@code sessionsPss / sessions} each, or
     * empty when that per-session figure was not measured (no sessions, or no PSS).
     */
    static OptionalLong sessions(long budgetBytes, long sessionsPss, int sessions) {
        if (budgetBytes <= 0 || sessions <= 0 || sessionsPss <= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of((long) (budgetBytes / (sessionsPss / (double) sessions)));
    }

    /** The estimate as a table cell, with the per-session figure it came from. */
    static String text(long budgetBytes, long sessionsPss, int sessions) {
        OptionalLong fit = sessions(budgetBytes, sessionsPss, sessions);
        if (fit.isEmpty()) {
            return "not measurable (no per-session PSS)";
        }
        return String.format(Locale.ROOT, "~%,d (estimate: %.2f MB PSS per session)", fit.getAsLong(),
                sessionsPss / MB / sessions);
    }
}
