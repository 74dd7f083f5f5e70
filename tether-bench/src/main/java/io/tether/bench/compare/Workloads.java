package io.tether.bench.compare;

import io.tether.bench.ProcMemory;
import io.tether.bench.compare.Peer.PeerSession;
import io.tether.bench.compare.PeerFigures.Capacity;
import io.tether.bench.compare.PeerFigures.Memory;
import io.tether.bench.compare.PeerFigures.Throughput;
import io.tether.bench.compare.Stats.Latency;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The workloads, the same on every server: each drives {@link Peer}s through their own
 * protocols from this JVM and times with {@link System#nanoTime}. The timed workloads take
 * the servers in turns, in short blocks, so that whatever else loads the machine meanwhile
 * hits every server alike. Every execution's answer is checked (status ok, the printed
 * line, the counter at the end), so a fast wrong answer cannot pass for a fast one.
 */
final class Workloads {
    /**
     * The workloads; memory covers both the per-session figure and the capacity run; lean the
     * round trips with the lean clients and Tether's Java client; coldstart a freshly launched
     * server to its first answer and its first executions. capacity10k (thousands of idle
     * sessions on Tether) is not in the default set: it takes minutes and most of the memory.
     */
    enum Workload {
        START, EXECUTE, PRINT, THROUGHPUT, MEMORY, LEAN, COLDSTART, CAPACITY10K;

        /** The workloads a run without {@code --workloads} runs. */
        static java.util.Set<Workload> defaults() {
            return java.util.EnumSet.complementOf(java.util.EnumSet.of(CAPACITY10K));
        }
    }

    static final String INCREMENT = "x = x + 1";
    static final String PRINT = "print('hello, world')";
    private static final String PRINTED = "hello, world\n";
    /** Prints the session process's pid and working directory (see {@link #sessionPid}). */
    private static final String WHO = "import os; print(os.getpid(), os.getcwd())";
    private static final int BLOCKS = 10;
    private static final long SECOND = 1_000_000_000L;
    private static final double MB = 1024.0 * 1024.0;

    private final CompareOptions options;

    Workloads(CompareOptions options) {
        this.options = options;
    }

    /**
     * Untimed traffic for {@code warmupSeconds}, from as many concurrent sessions as the
     * throughput workload uses: the JIT compiles Tether's paths (client's and server's),
     * Python's caches fill, both sides' connections are open.
     */
    void warmUp(Peer peer) throws IOException, InterruptedException {
        progress(peer, "warm-up, %d s from %d sessions", options.warmupSeconds(), options.sessions());
        List<PeerSession> sessions = openSessions(peer, options.sessions());
        long now = System.nanoTime();
        drive(sessions, now, now + options.warmupSeconds() * SECOND, () -> { });
        close(sessions);
    }

    /** Start until the first answer, and the part of it before the first execution was sent. */
    record Start(Latency start, Latency open) {
    }

    // (1) Starts in turns, one server after the other; each session is ended untimed.
    Map<Peer, Start> starts(List<Peer> peers) throws IOException, InterruptedException {
        progress(peers, "start x %d each, in turns", options.starts());
        int n = options.starts();
        Map<Peer, long[]> whole = new LinkedHashMap<>();
        Map<Peer, long[]> open = new LinkedHashMap<>();
        peers.forEach(p -> {
            whole.put(p, new long[n]);
            open.put(p, new long[n]);
        });
        for (int i = -2; i < n; i++) {
            for (Peer p : peers) {
                p.awaitIdle();
                long t0 = System.nanoTime();
                PeerSession s = p.open();
                long t1 = System.nanoTime();
                s.execute("x = 0");
                long t2 = System.nanoTime();
                s.close();
                if (i >= 0) {
                    whole.get(p)[i] = t2 - t0;
                    open.get(p)[i] = t1 - t0;
                }
            }
        }
        Map<Peer, Start> result = new LinkedHashMap<>();
        peers.forEach(p -> result.put(p, new Start(Stats.latency(whole.get(p)), Stats.latency(open.get(p)))));
        return result;
    }

    /** How a lane opens its session: a peer's own way ({@link Peer#open}, {@link Peer#openLean}, …). */
    interface Opener {
        PeerSession open() throws IOException, InterruptedException;
    }

    /**
     * One server with one client, for the round trips: {@code warmNanos} of untimed round
     * trips first when the client's code is new to this JVM (its JIT compiles it then).
     */
    record Lane(Peer peer, String client, Opener opener, long warmNanos) {
        String label() {
            return peer.name() + (client.isEmpty() ? "" : " (" + client + ")");
        }
    }

    // (2) and (3): one warm session per server, one execution at a time, in blocks taking turns.
    Map<Peer, Latency> roundTrips(List<Peer> peers, String code) throws IOException, InterruptedException {
        List<Lane> lanes = peers.stream().map(p -> new Lane(p, "", p::open, 0)).toList();
        Map<Peer, Latency> result = new LinkedHashMap<>();
        laneRoundTrips(lanes, code).forEach((lane, l) -> result.put(lane.peer(), l));
        return result;
    }

    /** The round trips of {@code code}, each lane on a session of its own, the lanes taking turns in blocks. */
    Map<Lane, Latency> laneRoundTrips(List<Lane> lanes, String code) throws IOException, InterruptedException {
        System.out.printf("  %s: %s x %d each, in %d blocks taking turns%n",
                String.join(", ", lanes.stream().map(Lane::label).toList()), code, options.executions(), BLOCKS);
        int n = options.executions();
        int warm = Math.max(10, n / 10);
        Map<Lane, PeerSession> sessions = new LinkedHashMap<>();
        Map<Lane, long[]> nanos = new LinkedHashMap<>();
        Map<Lane, Integer> done = new LinkedHashMap<>();
        try {
            for (Lane lane : lanes) {
                PeerSession s = lane.opener().open();
                sessions.put(lane, s);
                s.execute("x = 0");
                int untimed = 0;
                long until = System.nanoTime() + lane.warmNanos();
                while (untimed < warm || System.nanoTime() < until) {
                    check(code, s.execute(code));
                    untimed++;
                }
                done.put(lane, untimed + n);
                nanos.put(lane, new long[n]);
            }
            for (int b = 0; b < BLOCKS; b++) {
                for (Lane lane : lanes) {
                    PeerSession s = sessions.get(lane);
                    long[] t = nanos.get(lane);
                    for (int i = b * n / BLOCKS; i < (b + 1) * n / BLOCKS; i++) {
                        long t0 = System.nanoTime();
                        Peer.Reply r = s.execute(code);
                        t[i] = System.nanoTime() - t0;
                        check(code, r);
                    }
                }
            }
            if (code.equals(INCREMENT)) {
                for (Lane lane : lanes) {
                    checkCounter(lane.label(), sessions.get(lane), done.get(lane));
                }
            }
        } finally {
            close(sessions.values());
        }
        Map<Lane, Latency> result = new LinkedHashMap<>();
        nanos.forEach((lane, t) -> result.put(lane, Stats.latency(t)));
        return result;
    }

    /** Fails unless {@code x} in the session is {@code increments}. */
    static void checkCounter(String who, PeerSession s, int increments) throws IOException, InterruptedException {
        String x = s.execute("x").result();
        if (!Integer.toString(increments).equals(x)) {
            throw new IllegalStateException(who + ": x is " + x + " after " + increments + " increments");
        }
    }

    /**
     * The first {@code n} round trips of {@link #INCREMENT} on a session that ran {@code x = 0},
     * each timed, none untimed before them; the counter is checked at the end.
     */
    static Latency firstExecutions(String who, PeerSession s, int n) throws IOException, InterruptedException {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            s.execute(INCREMENT);
            t[i] = System.nanoTime() - t0;
        }
        checkCounter(who, s, n);
        return Stats.latency(t);
    }

    private static void check(String code, Peer.Reply r) {
        if (code.equals(PRINT) && !PRINTED.equals(r.stdout())) {
            throw new IllegalStateException(code + " printed '" + r.stdout() + "'");
        }
    }

    // (4) N sessions per server, a client thread each, x = x + 1 back to back. The servers take
    // turns in 1 s windows (each after half a second untimed), throughputSeconds windows each.
    Map<Peer, Throughput> throughput(List<Peer> peers) throws IOException, InterruptedException {
        int n = options.sessions();
        int windows = options.throughputSeconds();
        progress(peers, "throughput, %d sessions each, %d windows of 1 s taking turns", n, windows);
        Map<Peer, List<PeerSession>> sessions = new LinkedHashMap<>();
        Map<Peer, long[]> counts = new LinkedHashMap<>(); // executions, server CPU ns, client CPU ns
        try {
            for (Peer p : peers) {
                sessions.put(p, openSessions(p, n));
                counts.put(p, new long[3]);
            }
            for (int w = 0; w < windows; w++) {
                for (Peer p : peers) {
                    long begin = System.nanoTime() + SECOND / 2;
                    long end = begin + SECOND;
                    long[][] cpu = new long[2][];
                    long done = drive(sessions.get(p), begin, end, () -> {
                        cpu[0] = cpuAt(begin, p.process());
                        cpu[1] = cpuAt(end, p.process());
                    });
                    long[] c = counts.get(p);
                    c[0] += done;
                    c[1] += cpu[1][0] - cpu[0][0];
                    c[2] += cpu[1][1] - cpu[0][1];
                }
            }
        } finally {
            for (List<PeerSession> s : sessions.values()) {
                close(s);
            }
        }
        Map<Peer, Throughput> result = new LinkedHashMap<>();
        counts.forEach((p, c) -> result.put(p, new Throughput(n, windows, c[0], c[0] / (double) windows,
                c[1] / 1e6 / c[0], c[2] / 1e6 / c[0])));
        return result;
    }

    private static List<PeerSession> openSessions(Peer peer, int n) throws IOException, InterruptedException {
        List<PeerSession> sessions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            PeerSession s = peer.open();
            sessions.add(s);
            s.execute("x = 0");
        }
        return sessions;
    }

    private static void close(Iterable<PeerSession> sessions) throws IOException, InterruptedException {
        for (PeerSession s : sessions) {
            s.close();
        }
    }

    /** What the calling thread does while the clients run. */
    private interface Meanwhile {
        void run() throws IOException, InterruptedException;
    }

    /**
     * A client thread per session running {@link #INCREMENT} back to back until
     * {@code end}; counts the executions that ended between {@code begin} and {@code end}.
     */
    private static long drive(List<PeerSession> sessions, long begin, long end, Meanwhile meanwhile)
            throws IOException, InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(sessions.size());
        try {
            List<Future<Long>> counts = new ArrayList<>();
            for (PeerSession s : sessions) {
                counts.add(pool.submit(() -> {
                    long counted = 0;
                    while (true) {
                        s.execute(INCREMENT);
                        long now = System.nanoTime();
                        if (now > end) {
                            return counted;
                        }
                        if (now >= begin) {
                            counted++;
                        }
                    }
                }));
            }
            meanwhile.run();
            long total = 0;
            for (Future<Long> f : counts) {
                total += get(f);
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    /** At {@code nanoTime}: the CPU time used so far by the server with its processes, and by this JVM. */
    private static long[] cpuAt(long nanoTime, ServerProcess server) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        return new long[] {ProcCpu.nanos(treeAnd(server, List.of())),
                ProcCpu.nanos(List.of(ProcessHandle.current().pid()))};
    }

    private static long get(Future<Long> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("a client failed: " + e.getCause(), e.getCause());
        }
    }

    /** Memory per idle session and the capacity run, from one growth. */
    record Grown(Memory memory, Capacity capacity) {
    }

    // (5) and (6): idle sessions opened one after another (each ran x = 0 and told its pid and directory).
    // The first memorySessions give the memory per session; then on to the budget or the cap.
    Grown grow(Peer peer) throws IOException, InterruptedException {
        progress(peer, "memory with %d idle sessions, then up to %d MiB or %d sessions", options.memorySessions(),
                options.budgetMb(), options.cap());
        ServerProcess server = peer.process();
        List<Long> pids = new ArrayList<>();
        settle();
        double serverPss = mb(ProcMemory.of(peer.serverPid()).pss());
        double helpersPss = mb(pss(server.descendants().stream().map(ProcessHandle::pid).toList()));
        double baseline = serverPss + helpersPss;
        long budget = options.budgetMb();
        Memory memory = null;
        int fits = 0;
        double fitsTotal = baseline;
        String stoppedBy = "cap";
        long t0 = System.nanoTime();
        int step = 1;
        while (pids.size() < options.cap()) {
            for (int i = 0; i < step && pids.size() < options.cap(); i++) {
                PeerSession s = peer.open();
                s.execute("x = 0");
                long pid = sessionPid(server, s.execute(WHO).stdout());
                server.adopt(pid);
                pids.add(pid);
                if (pids.size() == options.memorySessions()) {
                    settle();
                    memory = memory(pids, serverPss, helpersPss);
                }
            }
            double total = mb(pss(treeAnd(server, pids)));
            if (total > budget) {
                stoppedBy = "budget";
                break;
            }
            fits = pids.size();
            fitsTotal = total;
            step = nextStep(budget - total, (total - baseline) / pids.size());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double marginal = fits == 0 ? 0 : (fitsTotal - baseline) / fits;
        if (memory == null) {
            throw new IllegalStateException(peer.name() + ": the budget was used up before " + options.memorySessions()
                    + " sessions; raise --budget-mb");
        }
        return new Grown(memory, new Capacity(budget, options.cap(), fits, fitsTotal, baseline, marginal, stoppedBy,
                seconds));
    }

    /**
     * The pid, as this machine sees it, of the process that printed {@code "<pid> <cwd>"}: that
     * pid when it is below the server (Jupyter's kernels; Tether without session namespaces);
     * else the process below the server whose working directory is {@code cwd} (a Tether worker
     * in its own PID namespace sees itself as pid 2; its working directory is its own).
     */
    static long sessionPid(ServerProcess server, String printed) {
        String line = printed.strip();
        int space = line.indexOf(' ');
        long pid = Long.parseLong(line.substring(0, space));
        String cwd = line.substring(space + 1);
        List<ProcessHandle> below = server.descendants();
        if (below.stream().anyMatch(p -> p.pid() == pid)) {
            return pid;
        }
        for (ProcessHandle p : below) {
            try {
                if (java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc", Long.toString(p.pid()), "cwd"))
                        .toString().equals(cwd)) {
                    return p.pid();
                }
            } catch (IOException | UnsupportedOperationException gone) {
                // ended, or not ours to read
            }
        }
        throw new IllegalStateException("no process below the server is the session's (it said " + line + ")");
    }

    /**
     * How many sessions to open before measuring again: half the way to the budget at the
     * cost per session seen so far, so the run ends within a session or so of the budget
     * without reading every process's memory after every session.
     */
    static int nextStep(double remainingMb, double perSessionMb) {
        if (perSessionMb <= 0) {
            return 1;
        }
        return (int) Math.max(1, Math.min(100, remainingMb / perSessionMb / 2));
    }

    /** Memory per idle session from each session's process; the server's figures as measured before them. */
    private static Memory memory(List<Long> pids, double serverPss, double helpersPss) throws IOException {
        int n = pids.size();
        long[] pss = new long[n];
        long[] priv = new long[n];
        long[] rss = new long[n];
        for (int i = 0; i < n; i++) {
            ProcMemory m = ProcMemory.of(pids.get(i));
            pss[i] = m.pss();
            priv[i] = m.privateBytes();
            rss[i] = m.rss();
        }
        Arrays.sort(pss);
        Arrays.sort(priv);
        Arrays.sort(rss);
        return new Memory(n, mb(Stats.quantile(pss, 0.5)), mb(pss[0]), mb(pss[n - 1]), mb(Stats.quantile(priv, 0.5)),
                mb(Stats.quantile(rss, 0.5)), serverPss, helpersPss);
    }

    /** The server, everything below it now, and the session processes (which may have left its tree). */
    private static List<Long> treeAnd(ServerProcess server, List<Long> sessionPids) {
        Set<Long> all = new LinkedHashSet<>();
        all.add(server.pid());
        server.descendants().forEach(p -> all.add(p.pid()));
        all.addAll(sessionPids);
        return List.copyOf(all);
    }

    /** Total PSS of the processes, in bytes; one that ended meanwhile counts nothing. */
    static long pss(java.util.Collection<Long> pids) {
        long sum = 0;
        for (long pid : pids) {
            try {
                sum += ProcMemory.of(pid).pss();
            } catch (IOException gone) {
                // ended between listing and reading
            }
        }
        return sum;
    }

    /** A moment for just-started processes to finish what they do after their first answer. */
    private static void settle() throws InterruptedException {
        Thread.sleep(1_000);
    }

    private static double mb(double bytes) {
        return bytes / MB;
    }

    private static void progress(Peer peer, String format, Object... args) {
        progress(List.of(peer), format, args);
    }

    private static void progress(List<Peer> peers, String format, Object... args) {
        System.out.println("  " + String.join(", ", peers.stream().map(Peer::name).toList()) + ": "
                + String.format(format, args));
    }
}
