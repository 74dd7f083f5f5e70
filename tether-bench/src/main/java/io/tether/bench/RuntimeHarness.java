package io.tether.bench;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.jshell.JShellRuntime;
import io.tether.runtime.pool.WarmPool;
import io.tether.runtime.pool.WarmPoolStats;
import io.tether.runtime.python.PythonRuntime;
import io.tether.session.EndReason;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.store.InMemorySessionStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * End-to-end figures for live interpreter sessions, measured side by side in one run:
 * the execute round trip against a bare exec-over-pipes floor, session creation with and
 * without a warm pool, memory per idle Python session, a bounded capacity run, and the
 * JShell execute round trip. Prints a Markdown table and writes JSON (see
 * docs/benchmarks.md, "Live interpreter sessions").
 *
 * <pre>./tether runtimes-bench [--out FILE] [--sessions N] [--executions N]</pre>
 *
 * Every process it starts is closed before it exits; it fails if one is left behind.
 */
public final class RuntimeHarness {
    private static final String PYTHON = PythonRuntime.DEFAULT_EXECUTABLE.toString();
    private static final long GIB = 1L << 30;
    private static final long MEMORY_BUDGET = 24 * GIB;
    private static final Duration REFILL_WAIT = Duration.ofSeconds(10);

    private final int executions;
    private final int executeWarmup;
    private final int creates;
    private final int memorySessions;
    private final int capacitySessions;
    private final Map<String, String> json = new LinkedHashMap<>();
    private final List<String> rows = new ArrayList<>();

    private RuntimeHarness(int executions, int creates, int memorySessions, int capacitySessions) {
        this.executions = executions;
        this.executeWarmup = Math.max(1, executions / 10);
        this.creates = creates;
        this.memorySessions = memorySessions;
        this.capacitySessions = capacitySessions;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target/runtime-bench.json");
        int executions = 5_000;
        int sessions = 300;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(value(args, ++i));
                case "--executions" -> executions = Integer.parseInt(value(args, ++i));
                case "--sessions" -> sessions = Integer.parseInt(value(args, ++i));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; allowed: --out FILE, --executions N (5000), --sessions N (300)");
            }
        }
        if (sessions < 20) {
            throw new IllegalArgumentException("--sessions must be at least 20 (the memory sample), was " + sessions);
        }
        RuntimeHarness h = new RuntimeHarness(executions, 50, 20, sessions);
        h.run(out);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private void run(Path out) throws Exception {
        String machine = machine();
        System.out.println(machine);
        json.put("machine", quote(machine));
        json.put("date", quote(java.time.Instant.now().toString()));
        executeRoundTrip();
        createLatency();
        memoryAndCapacity();
        jshellRoundTrip();
        List<ProcessHandle> left = leftBehind();
        json.put("processes_left_behind", Integer.toString(left.size()));

        System.out.println();
        System.out.println("| measurement | n | median | p99 | goal | note |");
        System.out.println("|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(out, json.entrySet().stream()
                .map(e -> "  " + quote(e.getKey()) + ": " + e.getValue())
                .collect(Collectors.joining(",\n", "{\n", "\n}\n")));
        System.out.println("\nwrote " + out);
        if (!left.isEmpty()) {
            throw new IllegalStateException("processes left behind: " + left.stream()
                    .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList());
        }
    }

    // 1. x = x + 1 through the session manager, and through the bare floor, interleaved.
    private void executeRoundTrip() throws Exception {
        section("execute round trip, python: %,d after %,d warm-up, interleaved with the floor", executions,
                executeWarmup);
        byte[] floorCode = ExecFloor.utf8("x = x + 1");
        int blocks = 10;
        int perBlock = Math.max(1, executions / blocks);
        long[] tether = new long[perBlock * blocks];
        long[] floor = new long[perBlock * blocks];
        long[] direct = new long[perBlock * blocks];
        // Each a different cell text, on both sides: what a cell costs the first time it runs.
        long[] tetherFresh = new long[perBlock * blocks];
        long[] floorFresh = new long[perBlock * blocks];
        RecordingRuntime python = new RecordingRuntime(PythonRuntime.builder().build());
        try (SessionManager m = manager(python);
             ExecFloor bare = new ExecFloor(PYTHON)) {
            String id = m.create(pythonSpec()).id();
            // The same worker without the manager: splits Tether's cost into manager and worker protocol.
            Worker worker = python.started().getFirst();
            ok(m.execute(id, "x = 0", null, null));
            bare.exec(ExecFloor.utf8("x = 0"));
            for (int i = 0; i < executeWarmup; i++) {
                ok(m.execute(id, "x = x + 1", null, null));
                bare.exec(floorCode);
            }
            // Alternating blocks: drift (another tenant on the host, frequency) hits both alike.
            for (int b = 0; b < blocks; b++) {
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    long t0 = System.nanoTime();
                    ok(m.execute(id, "x = x + 1", null, null));
                    tether[i] = System.nanoTime() - t0;
                }
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    long t0 = System.nanoTime();
                    bare.exec(floorCode);
                    floor[i] = System.nanoTime() - t0;
                }
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    long t0 = System.nanoTime();
                    ok(worker.execute(new ExecutionRequest(0, "x = x + 1", null), OutputListener.NONE));
                    direct[i] = System.nanoTime() - t0;
                }
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    String code = "x = x + 1  # " + i;
                    long t0 = System.nanoTime();
                    ok(m.execute(id, code, null, null));
                    tetherFresh[i] = System.nanoTime() - t0;
                }
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    byte[] code = ExecFloor.utf8("x = x + 1  # " + i);
                    long t0 = System.nanoTime();
                    bare.exec(code);
                    floorFresh[i] = System.nanoTime() - t0;
                }
            }
            // manager, direct and fresh cells share the worker; the floor ran twice per block
            long expected = executeWarmup + 3L * perBlock * blocks;
            long expectedFloor = executeWarmup + 2L * perBlock * blocks;
            ExecutionResult check = ok(m.execute(id, "x", null, null));
            if (!String.valueOf(expected).equals(check.result().get("text/plain"))) {
                throw new IllegalStateException("tether session counted " + check.result() + ", expected " + expected);
            }
            bare.exec(ExecFloor.utf8("assert x == " + expectedFloor)); // a failed assert ends the floor: exec throws
        }
        Samples t = new Samples("tether", tether);
        Samples f = new Samples("floor", floor);
        Samples d = new Samples("worker", direct);
        Samples tf = new Samples("tether-fresh", tetherFresh);
        Samples ff = new Samples("floor-fresh", floorFresh);
        double ratio = t.medianMicros() / f.medianMicros();
        double ratioP99 = t.p99Micros() / f.p99Micros();
        double ratioFresh = tf.medianMicros() / ff.medianMicros();
        row("execute `x = x + 1`, python session", t, "", "SessionManager.execute");
        row("… the same worker's execute, no manager", d, "", "Worker.execute");
        row("execute floor: bare exec over pipes", f, "", "same count, same interpreter flags");
        rows.add(String.format(Locale.ROOT, "| ratio Tether/floor | | %.2fx | %.2fx | ≤ 1.5x | %s |", ratio, ratioP99,
                ratio <= 1.5 ? "met (median)" : "not met (median)"));
        row("execute, a new cell text each time, python session", tf, "", "SessionManager.execute; no code reuse");
        row("… floor, a new cell text each time", ff, "", "");
        rows.add(String.format(Locale.ROOT, "| ratio Tether/floor, new cell texts | | %.2fx | %.2fx | | |", ratioFresh,
                tf.p99Micros() / ff.p99Micros()));
        json.put("execute_python", t.json());
        json.put("execute_python_worker_direct", d.json());
        json.put("execute_floor", f.json());
        json.put("execute_ratio_median", fmt(ratio));
        json.put("execute_ratio_p99", fmt(ratioP99));
        json.put("execute_python_fresh_cells", tf.json());
        json.put("execute_floor_fresh_cells", ff.json());
        json.put("execute_ratio_fresh_cells_median", fmt(ratioFresh));
    }

    // 2. Session create: pool hit (health check on, the default; and off), fork-server miss, cold spawn.
    private void createLatency() throws Exception {
        section("session create, python: %d each after 5 warm-up", creates);
        Samples hit = poolHits(true);
        Samples hitNoCheck = poolHits(false);
        Samples fork = createTimes("fork", PythonRuntime.builder().forkServer(true).build());
        Samples burst = createBursts(PythonRuntime.builder().forkServer(true).build());
        Samples c = createTimes("cold", PythonRuntime.builder().forkServer(false).build());
        row("create, pool hit (health check on, default)", hit, "< 0.5 ms", goal(hit.medianMicros() < 500));
        row("create, pool hit (health check off)", hitNoCheck, "< 0.5 ms", goal(hitNoCheck.medianMicros() < 500));
        row("create, fork-server miss (no pool)", fork, "< 3 ms", goal(fork.medianMicros() < 3_000));
        row("… back to back, no spare ready", burst, "", "2nd to 5th create of bursts of 5");
        row("create, cold spawn (no pool, no fork-server)", c, "", "");
        json.put("create_pool_hit", hit.json());
        json.put("create_pool_hit_no_health_check", hitNoCheck.json());
        json.put("create_fork_server_miss", fork.json());
        json.put("create_fork_server_back_to_back", burst.json());
        json.put("create_cold", c.json());
    }

    /** Times session creates (each ended untimed) on a runtime without a pool. */
    private Samples createTimes(String name, PythonRuntime runtime) throws Exception {
        long[] times = new long[creates];
        try (SessionManager m = manager(runtime)) {
            for (int i = -5; i < creates; i++) {
                long t0 = System.nanoTime();
                String id = m.create(pythonSpec()).id();
                long t = System.nanoTime() - t0;
                m.end(id, EndReason.MANUAL);
                if (i >= 0) {
                    times[i] = t;
                }
            }
        }
        return new Samples(name, times);
    }

    /**
     * Creates in bursts of five, one right after the other, then ends them (untimed): the
     * fork server's spare child is taken by the first, so the next four wait for forks.
     */
    private Samples createBursts(PythonRuntime runtime) throws Exception {
        int burst = 5;
        long[] times = new long[Math.max(1, creates / burst) * (burst - 1)];
        try (SessionManager m = manager(runtime)) {
            for (int b = -1, n = 0; n < times.length; b++) {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < burst; i++) {
                    long t0 = System.nanoTime();
                    ids.add(m.create(pythonSpec()).id());
                    long t = System.nanoTime() - t0;
                    if (b >= 0 && i > 0 && n < times.length) {
                        times[n++] = t;
                    }
                }
                for (String id : ids) {
                    m.end(id, EndReason.MANUAL);
                }
            }
        }
        return new Samples("fork-burst", times);
    }

    private Samples poolHits(boolean healthCheck) throws Exception {
        long[] nanos = new long[creates];
        WarmPool pool = WarmPool.builder(PythonRuntime.builder().build()).minIdle(2).healthCheck(healthCheck).build();
        try (SessionManager m = manager(pool)) {
            for (int i = -5; i < creates; i++) {
                if (!pool.awaitIdle(2, REFILL_WAIT)) {
                    throw new IllegalStateException("the pool did not refill within " + REFILL_WAIT + ": " + pool.stats());
                }
                long t0 = System.nanoTime();
                String id = m.create(pythonSpec()).id();
                long t = System.nanoTime() - t0;
                m.end(id, EndReason.MANUAL);
                if (i >= 0) {
                    nanos[i] = t;
                }
            }
            WarmPoolStats stats = pool.stats();
            if (stats.misses() != 0 || stats.hits() != creates + 5L) {
                throw new IllegalStateException("expected only hits: " + stats);
            }
        }
        return new Samples("hit", nanos);
    }

    // 3 and 4. Memory of idle sessions at 20, then a bounded run to N and an extrapolation.
    private void memoryAndCapacity() throws Exception {
        section("memory per idle python session (%d), then %d sessions", memorySessions, capacitySessions);
        gc();
        ProcMemory jvmBefore = ProcMemory.self();
        RecordingRuntime python = new RecordingRuntime(PythonRuntime.builder().build());
        List<Long> pids = new ArrayList<>();
        try (SessionManager m = manager(python)) {
            for (int i = 0; i < memorySessions; i++) {
                ok(m.execute(m.create(pythonSpec()).id(), "x = 0", null, null));
            }
            List<ProcMemory> sample = workerMemory(python.started());
            long[] pss = sample.stream().mapToLong(ProcMemory::pss).sorted().toArray();
            long[] priv = sample.stream().mapToLong(ProcMemory::privateBytes).sorted().toArray();
            long[] rss = sample.stream().mapToLong(ProcMemory::rss).sorted().toArray();
            double pssMb = mb(pss[pss.length / 2]);
            double privMb = mb(priv[priv.length / 2]);
            rows.add(String.format(Locale.ROOT, "| memory per idle python worker (forked), %d sessions: PSS | %d | %.1f MB | | ≤ 3 MB | %s |",
                    memorySessions, pss.length, pssMb, goal(pssMb <= 3)));
            rows.add(String.format(Locale.ROOT, "| … Private_Clean+Private_Dirty | %d | %.1f MB | | | RSS %.1f MB |",
                    priv.length, privMb, mb(rss[rss.length / 2])));
            json.put("memory_sessions", Integer.toString(memorySessions));
            json.put("memory_worker_pss_median_mb", fmt(pssMb));
            json.put("memory_worker_private_median_mb", fmt(privMb));
            json.put("memory_worker_rss_median_mb", fmt(mb(rss[rss.length / 2])));

            long t0 = System.nanoTime();
            for (int i = memorySessions; i < capacitySessions; i++) {
                ok(m.execute(m.create(pythonSpec()).id(), "x = 0", null, null));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<Worker> workers = python.started();
            workers.forEach(w -> pids.add(w.pid()));
            long alive = pids.stream().distinct().filter(p -> p > 0 && ProcessHandle.of(p).map(ProcessHandle::isAlive)
                    .orElse(false)).count();
            if (alive != capacitySessions || m.stats().active() != capacitySessions) {
                throw new IllegalStateException("expected " + capacitySessions + " live workers, found " + alive
                        + " (active sessions " + m.stats().active() + ")");
            }
            List<ProcMemory> all = workerMemory(workers);
            long workersPss = all.stream().mapToLong(ProcMemory::pss).sum();
            long workersPriv = all.stream().mapToLong(ProcMemory::privateBytes).sum();
            gc();
            ProcMemory jvmAfter = ProcMemory.self();
            int threads = ManagementFactory.getThreadMXBean().getThreadCount();
            double jvmPerSession = (jvmAfter.pss() - jvmBefore.pss()) / (double) capacitySessions;
            double perSession = workersPss / (double) capacitySessions + jvmPerSession;
            long fit = (long) ((MEMORY_BUDGET - jvmBefore.pss()) / perSession);
            int grown = capacitySessions - memorySessions;
            rows.add(String.format(Locale.ROOT, "| %d idle python sessions: create time | %d | %.1f s total | | | %s |",
                    capacitySessions, capacitySessions, seconds, grown == 0 ? "none created beyond the memory sample"
                            : String.format(Locale.ROOT, "%.1f ms each, serial", seconds * 1000 / grown)));
            rows.add(String.format(Locale.ROOT, "| … workers' total PSS (private) | %d | %.0f MB (%.0f MB) | | | %.2f MB PSS per worker |",
                    capacitySessions, mb(workersPss), mb(workersPriv), mb(workersPss) / capacitySessions));
            rows.add(String.format(Locale.ROOT, "| … JVM PSS before → after | | %.0f → %.0f MB | | | %.0f KB per session, %d JVM threads |",
                    mb(jvmBefore.pss()), mb(jvmAfter.pss()), jvmPerSession / 1024, threads));
            rows.add(String.format(Locale.ROOT, "| idle python sessions in 24 GB (extrapolated) | | ~%,d | | 2,000 | %s |",
                    fit, goal(fit >= 2_000)));
            json.put("capacity_sessions", Integer.toString(capacitySessions));
            json.put("capacity_create_seconds", fmt(seconds));
            json.put("capacity_workers_pss_total_mb", fmt(mb(workersPss)));
            json.put("capacity_workers_private_total_mb", fmt(mb(workersPriv)));
            json.put("capacity_jvm_pss_before_mb", fmt(mb(jvmBefore.pss())));
            json.put("capacity_jvm_pss_after_mb", fmt(mb(jvmAfter.pss())));
            json.put("capacity_jvm_threads", Integer.toString(threads));
            json.put("capacity_per_session_mb", fmt(mb((long) perSession)));
            json.put("capacity_in_24gb_extrapolated", Long.toString(fit));
        }
        awaitDead(pids);
    }

    // 5. x = x + 1 through the session manager on a JShell session.
    private void jshellRoundTrip() throws Exception {
        int n = Math.max(1, executions / 10);
        int warm = Math.max(1, n / 5);
        section("execute round trip, jshell: %d after %d warm-up", n, warm);
        long[] nanos = new long[n];
        RecordingRuntime jshell = new RecordingRuntime(JShellRuntime.create());
        List<Long> pids = new ArrayList<>();
        try (SessionManager m = manager(jshell)) {
            String id = m.create(SessionSpec.builder("bench").runtime("jshell").noIdleTimeout().build()).id();
            jshell.started().forEach(w -> pids.add(w.pid()));
            ok(m.execute(id, "int x = 0;", null, null));
            for (int i = 0; i < warm; i++) {
                ok(m.execute(id, "x = x + 1", null, null));
            }
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                ok(m.execute(id, "x = x + 1", null, null));
                nanos[i] = System.nanoTime() - t0;
            }
        }
        awaitDead(pids);
        Samples j = new Samples("jshell", nanos);
        row("execute `x = x + 1`, jshell session", j, "", "SessionManager.execute");
        json.put("execute_jshell", j.json());
    }

    private static SessionManager manager(SessionRuntime runtime) {
        return SessionManager.builder().store(new InMemorySessionStore()).reaperInterval(Duration.ZERO)
                .runtime(runtime).build().start();
    }

    private static SessionSpec pythonSpec() {
        return SessionSpec.builder("bench").runtime("python").noIdleTimeout().build();
    }

    private static ExecutionResult ok(ExecutionResult r) {
        if (r.status() != ExecutionStatus.OK) {
            throw new IllegalStateException("execution " + r.number() + " ended " + r.status() + ": " + r.error());
        }
        return r;
    }

    private static List<ProcMemory> workerMemory(List<Worker> workers) throws IOException {
        List<ProcMemory> result = new ArrayList<>();
        for (Worker w : workers) {
            result.add(ProcMemory.of(w.pid()));
        }
        return result;
    }

    /** Waits (5 s at most) until every pid has exited; closing a session kills its worker. */
    private static void awaitDead(List<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (long pid : pids) {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("worker " + pid + " outlived its session");
                }
                Thread.sleep(10);
            }
        }
    }

    private static List<ProcessHandle> leftBehind() throws InterruptedException {
        List<ProcessHandle> left = List.of();
        for (int i = 0; i < 50; i++) {
            left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return left;
    }

    private static void gc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
    }

    private static String machine() throws Exception {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        Process v = new ProcessBuilder(PYTHON, "--version").redirectErrorStream(true).start();
        String python = new String(v.getInputStream().readAllBytes()).trim();
        v.waitFor();
        return String.format(Locale.ROOT, "%d CPUs (%s), %.0f GB, Linux %s, java %s, %s",
                Runtime.getRuntime().availableProcessors(), cpu, memTotalGb(), System.getProperty("os.version"),
                Runtime.version(), python);
    }

    private static double memTotalGb() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0) / 1024.0 / 1024.0;
    }

    private void row(String what, Samples s, String goal, String note) {
        rows.add(String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s | %s |", what, s.count(), us(s.medianMicros()),
                us(s.p99Micros()), goal, note));
    }

    private static String us(double micros) {
        return micros >= 1000 ? String.format(Locale.ROOT, "%.2f ms", micros / 1000)
                : String.format(Locale.ROOT, "%.0f µs", micros);
    }

    private static String goal(boolean met) {
        return met ? "met" : "not met";
    }

    private static void section(String format, Object... args) {
        System.out.printf(Locale.ROOT, "… " + format + "%n", args);
    }

    private static double mb(long bytes) {
        return bytes / 1024.0 / 1024.0;
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
