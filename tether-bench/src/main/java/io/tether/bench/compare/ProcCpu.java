package io.tether.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * CPU time (user + system) a process has used, from {@code /proc/PID/stat}: unlike wall
 * time, what a workload costs in CPU barely changes when other tenants load the machine.
 */
final class ProcCpu {
    /** Linux reports utime and stime in USER_HZ ticks, 100 a second on every architecture it runs on. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ProcCpu() {
    }

    /** The CPU time of {@code pid} so far, in nanoseconds (10 ms resolution). */
    static long nanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK; // fields 14 and 15
    }

    /** The CPU time of all the processes together; one that ended meanwhile counts nothing. */
    static long nanos(Collection<Long> pids) {
        long sum = 0;
        for (long pid : pids) {
            try {
                sum += nanos(pid);
            } catch (IOException gone) {
                // ended between listing and reading
            }
        }
        return sum;
    }
}
