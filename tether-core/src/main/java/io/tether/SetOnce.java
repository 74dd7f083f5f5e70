package io.tether;

/** For builders whose options may each be set once: a second call is a mistake worth naming. */
public final class SetOnce {
    private SetOnce() {
    }

    /**
     * Checks that option {@code option} has not been set yet.
     *
     * @param current the option's value now; {@code null} while unset
     * @throws IllegalStateException when it was set, naming the option and its value
     */
    public static void check(Object current, String option) {
        if (current != null) {
            throw new IllegalStateException(option + " was already set to " + current);
        }
    }
}
