package io.tether.bench;

import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Heap bytes per idle plain session: creates N sessions (each with its own owner string,
 * as requests would bring them), forces full collections, and divides the growth of the
 * used heap by N. Repeated; prints every run and the median.
 *
 * <pre>java -XX:+UseSerialGC -cp tether-bench/target/benchmarks.jar io.tether.bench.SessionFootprint [N] [runs]</pre>
 *
 * Run with a stop-the-world collector (SerialGC) so "used after GC" is exact.
 */
public final class SessionFootprint {
    private SessionFootprint() {
    }

    private static final String USAGE = """
            usage: ./tether footprint [SESSIONS] [RUNS]
              the heap an idle plain session costs, on the in-memory and the SQLite store:
              SESSIONS per run (default 100000), RUNS runs each (default 3); prints the median
            """;

    public static void main(String[] args) throws Exception {
        Usage.run(args, USAGE, SessionFootprint::footprint);
    }

    private static void footprint(String[] args) throws Exception {
        Usage.rejectOptions(args);
        if (args.length > 2) {
            throw new Usage.BadArgument("at most two arguments, SESSIONS and RUNS");
        }
        int n = args.length > 0 ? Usage.wholeNumber("SESSIONS", args[0], 1) : 100_000;
        int runs = args.length > 1 ? Usage.wholeNumber("RUNS", args[1], 1) : 3;
        System.out.printf(Locale.ROOT, "idle plain sessions: %,d per run, %d runs, java %s, %s%n", n, runs,
                Runtime.version(), ManagementFactory.getGarbageCollectorMXBeans().get(0).getName());
        for (String store : List.of("memory", "sqlite")) {
            List<Double> perSession = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                perSession.add(measure(store, n));
            }
            List<Double> sorted = perSession.stream().sorted().toList();
            System.out.printf(Locale.ROOT, "%-7s bytes/session: median %.0f  runs %s%n", store,
                    sorted.get(sorted.size() / 2), perSession.stream()
                            .map(d -> String.format(Locale.ROOT, "%.0f", d)).toList());
        }
    }

    static double measure(String storeName, int n) throws Exception {
        Path dir = BenchStores.tempDir();
        try (SessionManager manager = SessionManager.builder().store(BenchStores.open(storeName, dir))
                .maxSessions(n + 1_000L).reaperInterval(Duration.ZERO).build().start()) {
            // warm the code paths and the store's caches with a few sessions first
            for (int i = 0; i < 1000; i++) {
                manager.create(SessionSpec.of("warm" + i));
            }
            long before = usedAfterGc();
            for (int i = 0; i < n; i++) {
                manager.create(SessionSpec.of("user-" + (i % 10_000)));
            }
            long after = usedAfterGc();
            if (manager.stats().active() != n + 1000L) {
                throw new IllegalStateException("expected " + (n + 1000) + " active sessions");
            }
            return (after - before) / (double) n;
        } finally {
            BenchStores.delete(dir);
        }
    }

    private static long usedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
