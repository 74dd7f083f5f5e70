package io.tether.bench.compare;

import io.tether.bench.compare.PeerFigures.Capacity10k;
import io.tether.bench.compare.Results.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The capacity10k workload: thousands of live idle Python sessions on one Tether server,
 * opened one after another over one raw HTTP connection ({@link LeanHttp}), each answering
 * {@code x = 0}; the PSS of the server and every process below it; then every session ended
 * and its processes seen gone. Stops early, with the reason recorded, when the machine's used
 * memory reaches {@code --memory-stop-gb} or a create fails (a limit, a failed fork).
 */
final class ManySessions {
    private static final double MB = 1024.0 * 1024.0;
    private static final long GIB = 1024L * 1024 * 1024;
    /** How often (in sessions) the machine's memory is looked at and progress printed. */
    private static final int CHECK_EVERY = 100;
    private static final long END_TIMEOUT_NANOS = 120_000_000_000L;

    private ManySessions() {
    }

    private static final Path PRLIMIT = Path.of("/usr/bin/prlimit");

    /**
     * The command prefix that gives the server room for its file descriptors (about three per
     * session: the worker's socket, and an eventfd and an epoll instance):
     * {@code prlimit --nofile=N:N --}, N the wanted figure or this process's hard limit when that
     * is lower (raising a hard limit needs CAP_SYS_RESOURCE); empty without prlimit.
     */
    static List<String> prefix(CompareOptions o) {
        long wanted = ReportText.nofile10k(o);
        long hard = limit(ProcessHandle.current().pid(), "Max open files", 1);
        long n = hard < 0 ? wanted : Math.min(wanted, hard);
        if (n < wanted) {
            System.out.printf(Locale.ROOT, "  warning: the open-file limit cannot be raised above this process's hard "
                    + "limit of %,d (raising it needs CAP_SYS_RESOURCE); at about 3 per session the server may stop "
                    + "near %,d sessions%n", hard, (hard - 200) / 3);
        }
        if (!Files.isExecutable(PRLIMIT)) {
            System.out.println("  warning: no " + PRLIMIT + " (util-linux): the server keeps the harness's open-file limit");
            return List.of();
        }
        return List.of(PRLIMIT.toString(), "--nofile=" + n + ":" + n, "--");
    }

    /** The settings that would refuse that many sessions, raised; everything else stays default. */
    static List<String> settings(CompareOptions o) {
        return List.of("--pool-owner-share", "1");
    }

    static Capacity10k run(TetherPeer peer, CompareOptions o) throws IOException, InterruptedException {
        int target = o.capacitySessions();
        ServerProcess server = peer.process();
        long pidMax = readLong(Path.of("/proc/sys/kernel/pid_max"));
        long nofile = nofile(server.pid());
        System.out.printf(Locale.ROOT, "  %s: %,d idle sessions (pid_max %,d, server's open-file limit %,d; "
                + "stop at %d GiB used)%n", peer.name(), target, pidMax, nofile, o.memoryStopGb());
        if (pidMax < 3L * target + 2_000) {
            System.out.printf(Locale.ROOT, "  warning: each sandboxed session takes 3 pids (its init, the worker and "
                    + "a thread); pid_max %,d may stop it near %,d sessions%n", pidMax, (pidMax - 2_000) / 3);
        }
        Set<Long> before = pids(server);
        double baseline = mb(Workloads.pss(before));
        double kernel = kernelMb();
        List<String> ids = new ArrayList<>();
        int answered = 0;
        String stoppedBy = "target";
        long t0 = System.nanoTime();
        try (LeanHttp c = peer.lean()) {
            for (int i = 0; i < target; i++) {
                if (i % CHECK_EVERY == 0 && i > 0) {
                    double used = usedGib();
                    System.out.printf(Locale.ROOT, "    %,d sessions, %.1f GiB used, %.0f s%n", i, used,
                            (System.nanoTime() - t0) / 1e9);
                    if (used >= o.memoryStopGb()) {
                        stoppedBy = String.format(Locale.ROOT, "memory (%.1f GiB used)", used);
                        break;
                    }
                }
                String id;
                try {
                    id = TetherPeer.createLean(c);
                } catch (IOException | RuntimeException e) {
                    stoppedBy = "create " + (i + 1) + " failed: " + oneLine(e);
                    c.reconnect();
                    break;
                }
                ids.add(id);
                try {
                    new TetherPeer.LeanSession(c, id, false).execute("x = 0");
                    answered++;
                } catch (IOException | RuntimeException e) {
                    stoppedBy = "execute in session " + (i + 1) + " failed: " + oneLine(e);
                    c.reconnect();
                    break;
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Set<Long> peak = pids(server);
        int threads = threads(peak);
        int fds = fds(server.pid());
        double total = mb(Workloads.pss(peak));
        double kernelPeak = kernelMb();
        System.out.printf(Locale.ROOT, "    %,d created, %,d answered (%s) in %.0f s; %,d processes, %.0f MB PSS; "
                + "kernel memory %.0f → %.0f MB%n", ids.size(), answered, stoppedBy, seconds, peak.size(), total, kernel,
                kernelPeak);
        peak.forEach(server::adopt); // whatever outlives the server is killed at its stop, and reported
        long e0 = System.nanoTime();
        try (LeanHttp c = peer.lean()) {
            for (String id : ids) {
                c.delete("/v1/sessions/" + id).expect(200, "end a session");
            }
        }
        int left = awaitBaseline(server, before.size());
        double endSeconds = (System.nanoTime() - e0) / 1e9;
        System.out.printf(Locale.ROOT, "    ended all in %.1f s; session processes left: %d%n", endSeconds, left);
        int created = ids.size();
        return new Capacity10k(target, created, answered, stoppedBy, total, baseline,
                created == 0 ? 0 : (total - baseline) / created, seconds, peak.size(), threads, fds, nofile, pidMax,
                left, endSeconds, kernel, kernelPeak);
    }

    /** The server and every process below it now. */
    private static Set<Long> pids(ServerProcess server) {
        Set<Long> all = new HashSet<>();
        all.add(server.pid());
        server.descendants().forEach(p -> all.add(p.pid()));
        return all;
    }

    /**
     * Waits until no more processes are below the server than before the sessions (the fork
     * server, the idle pool's workers and the spare: the pool refills to the same count), up to
     * a deadline; returns how many more there still are.
     */
    private static int awaitBaseline(ServerProcess server, int before) throws InterruptedException {
        long deadline = System.nanoTime() + END_TIMEOUT_NANOS;
        while (true) {
            int more = pids(server).size() - before;
            if (more <= 0 || System.nanoTime() > deadline) {
                return Math.max(0, more);
            }
            Thread.sleep(100);
        }
    }

    private static int threads(Set<Long> pids) {
        int n = 0;
        for (long pid : pids) {
            try (Stream<Path> t = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                n += (int) t.count();
            } catch (IOException gone) {
                // ended meanwhile
            }
        }
        return n;
    }

    private static int fds(long pid) {
        try (Stream<Path> f = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) f.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The soft limit of open files of a process; -1 when unreadable. */
    static long nofile(long pid) {
        return limit(pid, "Max open files", 0);
    }

    /** A limit of a process from {@code /proc/PID/limits}: column 0 soft, 1 hard; -1 when unreadable. */
    static long limit(long pid, String name, int column) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
                if (line.startsWith(name)) {
                    String v = line.substring(name.length()).trim().split("\\s+")[column];
                    return v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v);
                }
            }
        } catch (IOException | RuntimeException e) {
            // reported as unknown
        }
        return -1;
    }

    /** MemTotal − MemAvailable of the machine, GiB. */
    static double usedGib() throws IOException {
        long total = 0;
        long available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                total = kib(line);
            } else if (line.startsWith("MemAvailable:")) {
                available = kib(line);
            }
        }
        return (total - available) * 1024.0 / GIB;
    }

    /** Slab + PageTables + KernelStack of /proc/meminfo, MB: kernel memory no process's PSS shows. */
    static double kernelMb() throws IOException {
        long kib = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("Slab:") || line.startsWith("PageTables:") || line.startsWith("KernelStack:")) {
                kib += kib(line);
            }
        }
        return kib / 1024.0;
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    private static long readLong(Path p) {
        try (java.io.InputStream in = Files.newInputStream(p)) { // procfs files report no size: read to the end
            return Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static String oneLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        return m.lines().findFirst().orElse(e.toString());
    }

    private static double mb(double bytes) {
        return bytes / MB;
    }

    // ------------------------------------------------------------------ the page

    /** The capacity10k rows: Tether's figures per run; Jupyter "not run". Nothing when no run measured it. */
    static void markdown(StringBuilder b, Results results, CompareOptions o) {
        List<Run> measured = results.runs().stream().filter(r -> r.peer(Results.TETHER) != null
                && r.peer(Results.TETHER).capacity10k() != null).toList();
        if (measured.isEmpty()) {
            return;
        }
        b.append(String.format(Locale.ROOT, "%n**capacity10k**: %,d idle Python sessions on one Tether server "
                + "(Jupyter: not run)%n%n", o.capacitySessions()));
        b.append("| run | created | answered `x = 0` | stopped by | PSS, server and every process below it "
                + "| per session | before the sessions | kernel memory per session | took | processes / threads "
                + "| server's fds (limit) | pid_max | left after ending all |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : measured) {
            Capacity10k c = r.peer(Results.TETHER).capacity10k();
            b.append(String.format(Locale.ROOT, "| %d | %,d | %,d | %s | %,.0f MB | %.2f MB | %,.0f MB | %.2f MB "
                            + "| %.0f s | %,d / %,d | %,d (%,d) | %,d | %d (%.1f s) |%n", r.run(), c.created(),
                    c.answered(), c.stoppedBy().replace("|", "/"), c.totalPssMb(), c.perSessionPssMb(),
                    c.baselinePssMb(), c.kernelPerSessionMb(), c.seconds(), c.processes(), c.threads(), c.serverFds(),
                    c.nofile(), c.pidMax(), c.left(), c.endSeconds()));
        }
    }
}
