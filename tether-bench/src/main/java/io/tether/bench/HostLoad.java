package io.tether.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What else loads the machine while a section of the harness runs: the 1-minute load
 * average, how busy the CPUs were (from {@code /proc/stat}), and how much of that was other
 * tenants: the CPU time of every process that is neither this JVM nor one of its
 * descendants, with the time of the children they reaped ({@code /proc/PID/stat} fields
 * 14–17). Approximate: a process that ends is counted through its parent, and only when
 * that parent lives to the end of the section. Linux only.
 */
final class HostLoad {
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux

    private final long nanos;
    private final double load1;
    private final long busyTicks;
    private final long totalTicks;
    private final Map<Long, Long> othersTicks;
    private final Set<Long> ours;

    private HostLoad(long nanos, double load1, long busyTicks, long totalTicks, Map<Long, Long> othersTicks,
                     Set<Long> ours) {
        this.nanos = nanos;
        this.load1 = load1;
        this.busyTicks = busyTicks;
        this.totalTicks = totalTicks;
        this.othersTicks = othersTicks;
        this.ours = ours;
    }

    static HostLoad now() {
        try {
            double load1 = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            long total = 0;
            long idle = 0;
            for (int i = 1; i < cpu.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                long v = Long.parseLong(cpu[i]);
                total += v;
                if (i == 4 || i == 5) {
                    idle += v;
                }
            }
            Set<Long> ours = new HashSet<>();
            ours.add(ProcessHandle.current().pid());
            ProcessHandle.current().descendants().forEach(p -> ours.add(p.pid()));
            Map<Long, Long> others = new HashMap<>();
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path p : procs) {
                    long pid = Long.parseLong(p.getFileName().toString());
                    if (ours.contains(pid)) {
                        continue;
                    }
                    try {
                        String stat = Files.readString(p.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        // after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
                        others.put(pid, Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13])
                                + Long.parseLong(f[14]));
                    } catch (IOException | RuntimeException e) {
                        // gone meanwhile
                    }
                }
            }
            return new HostLoad(System.nanoTime(), load1, total - idle, total, others, ours);
        } catch (IOException | RuntimeException e) {
            return new HostLoad(System.nanoTime(), Double.NaN, 0, 0, Map.of(), Set.of());
        }
    }

    /**
     * CPU ticks of the processes that were not ours at either end: those alive at both ends
     * by their growth, those started meanwhile in full (a process that was ours at the start
     * and is no longer below this JVM at the end, e.g. a session's init whose fork server
     * exited, is still ours). A process that ended meanwhile adds its whole life to its
     * parent's children's time, so what it had used by the start is taken off again.
     */
    private long othersTicks(HostLoad start) {
        long others = 0;
        for (Map.Entry<Long, Long> e : othersTicks.entrySet()) {
            if (!start.ours.contains(e.getKey())) {
                others += Math.max(0, e.getValue() - start.othersTicks.getOrDefault(e.getKey(), 0L));
            }
        }
        for (Map.Entry<Long, Long> e : start.othersTicks.entrySet()) {
            if (!othersTicks.containsKey(e.getKey()) && !ours.contains(e.getKey())) {
                others -= e.getValue();
            }
        }
        return Math.max(0, others);
    }

    /** One line: load average at both ends, CPU busy, of which others (in cores). */
    String since(HostLoad start) {
        double seconds = (nanos - start.nanos) / 1e9;
        long total = totalTicks - start.totalTicks;
        double busy = total > 0 ? (busyTicks - start.busyTicks) / (double) total : Double.NaN;
        long others = othersTicks(start);
        int cpus = Runtime.getRuntime().availableProcessors();
        return String.format(Locale.ROOT, "%.0f s, load %.1f → %.1f, CPUs busy %.0f %%, other tenants ~%.2f of %d cores",
                seconds, start.load1, load1, busy * 100, others / TICKS_PER_SECOND / seconds, cpus);
    }

    /** The same as JSON. */
    String json(HostLoad start) {
        double seconds = (nanos - start.nanos) / 1e9;
        long total = totalTicks - start.totalTicks;
        double busy = total > 0 ? (busyTicks - start.busyTicks) / (double) total : Double.NaN;
        long others = othersTicks(start);
        return String.format(Locale.ROOT, "{\"seconds\": %.1f, \"load1_start\": %.2f, \"load1_end\": %.2f, "
                + "\"cpu_busy\": %.3f, \"other_tenants_cores\": %.3f}", seconds, start.load1, load1, busy,
                others / TICKS_PER_SECOND / seconds);
    }
}
