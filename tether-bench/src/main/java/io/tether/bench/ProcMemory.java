package io.tether.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory of one process from {@code /proc/PID/smaps_rollup} (Linux 4.14+), in bytes.
 *
 * @param pss     proportional set size: private pages plus each shared page divided by
 *                the number of processes mapping it; summed over processes it is what they
 *                use together
 * @param privateBytes Private_Clean + Private_Dirty: what ending the process would free
 * @param rss     resident set size, shared pages counted in full
 */
public record ProcMemory(long pss, long privateBytes, long rss) {

    /**
     * Reads the memory of process {@code pid} now.
     *
     * @throws IOException when the process does not exist (any more) or has no smaps_rollup
     */
    public static ProcMemory of(long pid) throws IOException {
        long pss = -1;
        long priv = 0;
        long rss = -1;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2) {
                continue;
            }
            switch (f[0]) {
                case "Pss:" -> pss = kb(f[1]);
                case "Rss:" -> rss = kb(f[1]);
                case "Private_Clean:", "Private_Dirty:" -> priv += kb(f[1]);
                default -> { }
            }
        }
        if (pss < 0 || rss < 0) {
            throw new IOException("no Pss/Rss in /proc/" + pid + "/smaps_rollup");
        }
        return new ProcMemory(pss, priv, rss);
    }

    /**
     * The memory of process {@code pid} and of every process below it, summed: a session's
     * whole footprint (in the sandbox its init and interpreter). {@code processes} gets one
     * entry per process, {@code pid} first.
     */
    public static ProcMemory tree(long pid, java.util.List<ProcMemory> processes) throws IOException {
        java.util.List<Long> pids = new java.util.ArrayList<>();
        pids.add(pid);
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
        long pss = 0;
        long priv = 0;
        long rss = 0;
        for (long p : pids) {
            ProcMemory m = of(p);
            processes.add(m);
            pss += m.pss;
            priv += m.privateBytes;
            rss += m.rss;
        }
        return new ProcMemory(pss, priv, rss);
    }

    /** The minor page faults of process {@code pid} so far (copy-on-write included), or -1. */
    public static long minorFaults(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The memory of this JVM. */
    public static ProcMemory self() throws IOException {
        return of(ProcessHandle.current().pid());
    }

    private static long kb(String value) {
        return Long.parseLong(value) * 1024;
    }
}
