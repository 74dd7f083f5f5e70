package io.tether.runtime.sandbox;

/**
 * This JVM's one {@link Cgroups} (they must be opened once per JVM), opened on first use
 * and closed when the JVM exits. Every {@link Sandbox} makes its slots there.
 */
final class JvmCgroups {
    private static Cgroups.Availability availability;

    private JvmCgroups() {
    }

    static synchronized Cgroups.Availability get() {
        if (availability == null) {
            availability = Cgroups.open("tether");
            if (availability instanceof Cgroups.Available a) {
                Runtime.getRuntime().addShutdownHook(new Thread(a.cgroups()::close, "tether-cgroups-close"));
            }
        }
        return availability;
    }
}
