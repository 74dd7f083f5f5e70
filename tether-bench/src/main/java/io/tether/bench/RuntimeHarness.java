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
import io.tether.runtime.sandbox.Sandbox;
import io.tether.session.EndReason;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.store.InMemorySessionStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * End-to-end figures for live interpreter sessions, measured side by side in one run:
 * the execute round trip against a bare exec-over-pipes floor, session creation with and
 * without a warm pool, memory per idle Python session, a bounded capacity run, and the
 * JShell execute round trip. Every Python measurement is taken with the sandbox off and on
 * ({@code --sandbox both}, the default), in alternating blocks so that load drifts hit both
 * alike. Prints a Markdown table (an off and an on column) and writes JSON (see
 * docs/benchmarks.md, "Live interpreter sessions" and "Sandbox on and off").
 *
 * <pre>./tether runtimes-bench [--out FILE] [--sessions N] [--executions N] [--creates N]
 *                        [--sandbox off|on|both] [--settle MS]</pre>
 *
 * Every process it starts is closed before it exits; it fails if one is left behind.
 */
public final class RuntimeHarness {
    private static final String PYTHON = PythonRuntime.DEFAULT_EXECUTABLE.toString();
    private static final long GIB = 1L << 30;
    private static final long MEMORY_BUDGET = 24 * GIB;
    private static final Duration REFILL_WAIT = Duration.ofSeconds(10);
    /** Creates per block before the other mode takes its turn. */
    private static final int CREATE_BLOCK = 10;
    private static final List<String> SECTIONS = List.of("execute", "create", "memory", "datastack", "jshell");
    private static final List<String> DATA_STACK = List.of("numpy", "pandas", "matplotlib.pyplot");
    private static final String DATA_STACK_IMPORT = "import pandas, matplotlib.pyplot";

    private final int executions;
    private final int executeWarmup;
    private final int creates;
    private final int memorySessions;
    private final int capacitySessions;
    private final Duration settle;
    private final List<Mode> modes;
    private final List<String> sections;
    private final Map<String, String> json = new LinkedHashMap<>();
    private final List<String> rows = new ArrayList<>();
    private final List<String> noise = new ArrayList<>();
    private final Map<String, String> noiseJson = new LinkedHashMap<>();

    /** A way to run Python workers: the sandbox off, or on (every layer) with its own work root. */
    private record Mode(String name, Sandbox sandbox, Path workRoot) {
        PythonRuntime runtime(boolean forkServer) {
            return runtime(forkServer, List.of());
        }

        PythonRuntime runtime(boolean forkServer, List<String> preload) {
            PythonRuntime.Builder b = PythonRuntime.builder().forkServer(forkServer).sandbox(sandbox).preload(preload);
            if (workRoot != null) {
                b.workRoot(workRoot);
            }
            return b.build();
        }
    }

    private RuntimeHarness(int executions, int creates, int memorySessions, int capacitySessions, Duration settle,
                           List<Mode> modes, List<String> sections) {
        this.sections = sections;
        this.executions = executions;
        this.executeWarmup = Math.max(1, executions / 10);
        this.creates = creates;
        this.memorySessions = memorySessions;
        this.capacitySessions = capacitySessions;
        this.settle = settle;
        this.modes = modes;
    }

    private static final String USAGE = """
            usage: ./tether runtimes-bench [--executions N] [--sessions N] [--creates N]
                                           [--sandbox off|on|both] [--settle MS] [--out FILE]
              live Python/JShell sessions: execute round trips, creates (pool hit, fork-server
              miss, cold), memory per idle session and how many sessions were held
              --executions N  timed executions per case (5000)
              --sessions N    idle sessions held for the memory rows, at least 20 (300)
              --creates N     timed creates per kind, at least %d (200)
              --sandbox M     off, on or both (both)
              --settle MS     pause between creates, for the pool to refill (50)
              --only LIST     the sections to run, comma-separated, of execute, create,
                              memory, jshell, datastack (all)
              --out FILE      the figures as JSON (target/runtime-bench.json)
            """.formatted(CREATE_BLOCK);

    public static void main(String[] args) throws Exception {
        Usage.run(args, USAGE, RuntimeHarness::bench);
    }

    private static void bench(String[] args) throws Exception {
        Path out = Path.of("target/runtime-bench.json");
        int executions = 5_000;
        int sessions = 300;
        int creates = 200;
        long settleMs = 50;
        String sandbox = "both";
        List<String> sections = SECTIONS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(value(args, ++i));
                case "--executions" -> executions = Usage.wholeNumber("--executions", value(args, ++i), 1);
                case "--sessions" -> sessions = Usage.wholeNumber("--sessions", value(args, ++i), 20);
                case "--creates" -> creates = Usage.wholeNumber("--creates", value(args, ++i), CREATE_BLOCK);
                case "--settle" -> settleMs = Usage.wholeNumber("--settle", value(args, ++i), 0);
                case "--sandbox" -> sandbox = value(args, ++i);
                case "--only" -> {
                    sections = List.of(value(args, ++i).split(","));
                    for (String section : sections) {
                        if (!SECTIONS.contains(section)) {
                            throw new Usage.BadArgument("--only takes sections of " + SECTIONS + ", not " + section);
                        }
                    }
                }
                default -> throw new Usage.BadArgument("unknown option " + args[i]);
            }
        }
        List<Mode> modes = switch (sandbox) {
            case "off" -> List.of(off());
            case "on" -> List.of(on());
            case "both" -> List.of(off(), on());
            default -> throw new Usage.BadArgument("--sandbox must be off, on or both, was " + sandbox);
        };
        RuntimeHarness h = new RuntimeHarness(executions, creates - creates % CREATE_BLOCK, 20, sessions,
                Duration.ofMillis(settleMs), modes, sections);
        try {
            h.run(out);
        } finally {
            for (Mode m : modes) {
                if (m.workRoot() != null) {
                    deleteTree(m.workRoot());
                }
            }
        }
    }

    private static Mode off() {
        return new Mode("off", Sandbox.off(), null);
    }

    /**
     * The sandbox with every layer, or a failure naming what is missing. Its work root is a
     * fresh directory under the temporary directory, 0755 like its ancestors must be when
     * Tether runs as root (the jail's user has to reach it).
     */
    private static Mode on() throws IOException {
        Path root = Files.createTempDirectory("tether-bench-sandbox-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Sandbox sandbox = Sandbox.builder().workRoot(root).build();
        if (!sandbox.missing().isEmpty()) {
            deleteTree(root);
            throw new IllegalStateException("the sandbox is missing layers here, so --sandbox on would not measure "
                    + "it: " + sandbox.summary());
        }
        return new Mode("on", sandbox, root);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new Usage.BadArgument(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private void run(Path out) throws Exception {
        String machine = machine();
        System.out.println(machine);
        json.put("machine", quote(machine));
        json.put("date", quote(java.time.Instant.now().toString()));
        for (Mode m : modes) {
            System.out.println("sandbox " + m.name() + ": " + m.sandbox().summary());
            json.put("sandbox_" + m.name(), quote(m.sandbox().summary()));
        }
        json.put("creates_per_mode", Integer.toString(creates));
        json.put("settle_ms", Long.toString(settle.toMillis()));
        HostLoad all = HostLoad.now();
        timed("execute", this::executeRoundTrip);
        timed("create", this::createLatency);
        timed("memory", this::memoryAndCapacity);
        timed("datastack", this::dataStack);
        timed("jshell", this::jshellRoundTrip);
        noise.add("whole run: " + HostLoad.now().since(all));
        List<ProcessHandle> left = leftBehind();
        json.put("processes_left_behind", Integer.toString(left.size()));
        json.put("load", noiseJson.entrySet().stream().map(e -> quote(e.getKey()) + ": " + e.getValue())
                .collect(Collectors.joining(", ", "{", "}")));

        System.out.println();
        StringBuilder head = new StringBuilder("| measurement | n per mode |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (Mode m : modes) {
            head.append(" ").append(m.name()).append(": median | ").append(m.name()).append(": p99 |");
            rule.append("---|---|");
        }
        System.out.println(head.append(" goal | note |"));
        System.out.println(rule.append("---|---|"));
        rows.forEach(System.out::println);
        System.out.println();
        noise.forEach(n -> System.out.println("- " + n));
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

    private interface Section {
        void run() throws Exception;
    }

    private void timed(String name, Section section) throws Exception {
        if (!sections.contains(name)) {
            return;
        }
        HostLoad start = HostLoad.now();
        section.run();
        HostLoad end = HostLoad.now();
        noise.add(name + ": " + end.since(start));
        noiseJson.put(name, end.json(start));
    }

    /** One timed sample of a lane; {@code i} numbers the samples. */
    private interface Lane {
        long time(int i) throws Exception;
    }

    /**
     * Runs {@code lanes} in {@code blocks} blocks of {@code perBlock} samples each, the
     * lanes' order rotated every block, and returns their samples.
     */
    private static Map<String, long[]> alternate(Map<String, Lane> lanes, int blocks, int perBlock) throws Exception {
        Map<String, long[]> samples = new LinkedHashMap<>();
        lanes.keySet().forEach(k -> samples.put(k, new long[blocks * perBlock]));
        List<String> order = new ArrayList<>(lanes.keySet());
        for (int b = 0; b < blocks; b++) {
            for (String lane : order) {
                long[] into = samples.get(lane);
                for (int i = b * perBlock; i < (b + 1) * perBlock; i++) {
                    into[i] = lanes.get(lane).time(i);
                }
            }
            Collections.rotate(order, 1);
        }
        return samples;
    }

    // 1. x = x + 1 through the session manager in each mode, and through the bare floor, interleaved.
    private void executeRoundTrip() throws Exception {
        section("execute round trip, python: %,d after %,d warm-up, interleaved with the floor, sandbox %s",
                executions, executeWarmup, names());
        byte[] floorCode = ExecFloor.utf8("x = x + 1");
        int blocks = 10;
        int perBlock = Math.max(1, executions / blocks);
        List<SessionManager> managers = new ArrayList<>();
        Map<String, Lane> lanes = new LinkedHashMap<>();
        Map<Mode, String> ids = new LinkedHashMap<>();
        try (ExecFloor bare = new ExecFloor(PYTHON)) {
            for (Mode mode : modes) {
                RecordingRuntime python = new RecordingRuntime(mode.runtime(true));
                SessionManager m = manager(python);
                managers.add(m);
                String id = m.create(pythonSpec()).id();
                ids.put(mode, id);
                // The same worker without the manager: splits Tether's cost into manager and worker protocol.
                Worker worker = python.started().getFirst();
                ok(m.execute(id, "x = 0", null, null));
                for (int i = 0; i < executeWarmup; i++) {
                    ok(m.execute(id, "x = x + 1", null, null));
                }
                lanes.put("tether-" + mode.name(), i -> {
                    long t0 = System.nanoTime();
                    ok(m.execute(id, "x = x + 1", null, null));
                    return System.nanoTime() - t0;
                });
                lanes.put("worker-" + mode.name(), i -> {
                    long t0 = System.nanoTime();
                    ok(worker.execute(new ExecutionRequest(0, "x = x + 1", null), OutputListener.NONE));
                    return System.nanoTime() - t0;
                });
                // Each a different cell text, on both sides: what a cell costs the first time it runs.
                lanes.put("fresh-" + mode.name(), i -> {
                    String code = "x = x + 1  # " + i;
                    long t0 = System.nanoTime();
                    ok(m.execute(id, code, null, null));
                    return System.nanoTime() - t0;
                });
            }
            bare.exec(ExecFloor.utf8("x = 0"));
            for (int i = 0; i < executeWarmup; i++) {
                bare.exec(floorCode);
            }
            lanes.put("floor", i -> {
                long t0 = System.nanoTime();
                bare.exec(floorCode);
                return System.nanoTime() - t0;
            });
            lanes.put("floor-fresh", i -> {
                byte[] code = ExecFloor.utf8("x = x + 1  # " + i);
                long t0 = System.nanoTime();
                bare.exec(code);
                return System.nanoTime() - t0;
            });
            Map<String, long[]> samples = alternate(lanes, blocks, perBlock);
            // manager, direct and fresh cells share each worker; the floor ran twice per block
            long expected = executeWarmup + 3L * perBlock * blocks;
            for (int k = 0; k < modes.size(); k++) {
                ExecutionResult check = ok(managers.get(k).execute(ids.get(modes.get(k)), "x", null, null));
                if (!String.valueOf(expected).equals(check.result().get("text/plain"))) {
                    throw new IllegalStateException("tether session (sandbox " + modes.get(k).name() + ") counted "
                            + check.result() + ", expected " + expected);
                }
            }
            bare.exec(ExecFloor.utf8("assert x == " + (executeWarmup + 2L * perBlock * blocks))); // a failed assert ends the floor
            Samples f = new Samples("floor", samples.get("floor"));
            Samples ff = new Samples("floor-fresh", samples.get("floor-fresh"));
            Map<String, Samples> t = perMode(samples, "tether-");
            Map<String, Samples> d = perMode(samples, "worker-");
            Map<String, Samples> tf = perMode(samples, "fresh-");
            row("execute `x = x + 1`, python session", t, "", s -> null, "SessionManager.execute");
            row("… the same worker's execute, no manager", d, "", s -> null, "Worker.execute");
            row("execute floor: bare exec over pipes (one, shared)", same(f), "", s -> null,
                    "same count, same interpreter flags");
            ratioRow("ratio Tether/floor", t, f, "≤ 1.5x");
            row("execute, a new cell text each time, python session", tf, "", s -> null,
                    "SessionManager.execute; no code reuse");
            row("… floor, a new cell text each time (one, shared)", same(ff), "", s -> null, "");
            ratioRow("ratio Tether/floor, new cell texts", tf, ff, "");
            json.put("execute_floor", f.json());
            json.put("execute_floor_fresh_cells", ff.json());
            for (Mode mode : modes) {
                String n = mode.name();
                json.put("execute_python_" + n, t.get(n).json());
                json.put("execute_python_worker_direct_" + n, d.get(n).json());
                json.put("execute_ratio_median_" + n, fmt(t.get(n).medianMicros() / f.medianMicros()));
                json.put("execute_ratio_p99_" + n, fmt(t.get(n).p99Micros() / f.p99Micros()));
                json.put("execute_python_fresh_cells_" + n, tf.get(n).json());
                json.put("execute_ratio_fresh_cells_median_" + n, fmt(tf.get(n).medianMicros() / ff.medianMicros()));
            }
        } finally {
            managers.forEach(SessionManager::close);
        }
    }

    private Map<String, Samples> perMode(Map<String, long[]> samples, String prefix) {
        Map<String, Samples> result = new LinkedHashMap<>();
        for (Mode m : modes) {
            result.put(m.name(), new Samples(prefix + m.name(), samples.get(prefix + m.name())));
        }
        return result;
    }

    private Map<String, Samples> same(Samples s) {
        Map<String, Samples> result = new LinkedHashMap<>();
        modes.forEach(m -> result.put(m.name(), s));
        return result;
    }

    // 4. The data stack: session start to `import pandas, matplotlib.pyplot` done, the fork
    // server plain and with python_preload, and what a preloaded session holds after it.
    private void dataStack() throws Exception {
        int preloaded = Math.max(CREATE_BLOCK, creates / 2 - creates / 2 % CREATE_BLOCK);
        section("data stack, python: create + `%s`, %d per mode preloaded, %d not, sandbox %s",
                DATA_STACK_IMPORT, preloaded, CREATE_BLOCK, names());
        Map<String, Samples> plain = createTimes("datastack-plain", true, List.of(), DATA_STACK_IMPORT,
                CREATE_BLOCK, settle);
        Map<String, Samples> fast = createTimes("datastack-preloaded", true, DATA_STACK, DATA_STACK_IMPORT,
                preloaded, settle);
        Map<String, Samples> createOnly = createTimes("datastack-create", true, DATA_STACK, null, preloaded, settle);
        row("create + `" + DATA_STACK_IMPORT + "` done, fork server without preload", plain, "", s -> null,
                "each session imports them itself");
        row("… with `python_preload = " + String.join(", ", DATA_STACK) + "`", fast, "", s -> null,
                settle.toMillis() + " ms pause before each");
        row("… the create alone, preloaded", createOnly, "", s -> null, "");
        Map<String, RecordingRuntime> runtimes = new LinkedHashMap<>();
        List<SessionManager> managers = new ArrayList<>();
        try {
            for (Mode mode : modes) {
                RecordingRuntime python = new RecordingRuntime(mode.runtime(true, DATA_STACK));
                runtimes.put(mode.name(), python);
                SessionManager m = manager(python);
                managers.add(m);
                for (int i = 0; i < 20; i++) {
                    ok(m.execute(m.create(pythonSpec()).id(), DATA_STACK_IMPORT + "\nx = 0", null, null));
                }
            }
            Thread.sleep(1_000); // spares forked
            Map<String, SessionFootprint> sample = new LinkedHashMap<>();
            for (Mode mode : modes) {
                sample.put(mode.name(), SessionFootprint.of(runtimes.get(mode.name()).started()));
            }
            memoryRow("idle preloaded session after the import, PSS of `Worker.pid()` and its descendants", sample,
                    "≤ 5 MB", f -> f.median(f.pss) <= 5 * MB, f -> mbText(f.median(f.pss)),
                    "20 sessions per mode: each also carries 1/22 of the fork server's pages");
            memoryRow("… Private_Clean + Private_Dirty (what each more session adds)", sample, "", f -> null,
                    f -> mbText(f.median(f.priv)), "");
            for (Mode mode : modes) {
                String n = mode.name();
                json.put("datastack_plain_" + n, plain.get(n).json());
                json.put("datastack_preloaded_" + n, fast.get(n).json());
                SessionFootprint f = sample.get(n);
                json.put("datastack_session_pss_median_mb_" + n, fmt(mb(f.median(f.pss))));
                json.put("datastack_session_private_median_mb_" + n, fmt(mb(f.median(f.priv))));
            }
        } finally {
            managers.forEach(SessionManager::close);
        }
    }

    // 2. Session create: pool hit (health check on, the default; and off), fork-server miss, cold spawn.
    private void createLatency() throws Exception {
        section("session create, python: %d per mode after 5 warm-up, blocks of %d alternating, sandbox %s",
                creates, CREATE_BLOCK, names());
        Map<String, Samples> hit = poolHits(true);
        Map<String, Samples> hitNoCheck = poolHits(false);
        Map<String, Samples> fork = forkMisses();
        Map<String, Samples> burst = createBursts();
        Map<String, Samples> cold = coldStarts(Math.max(CREATE_BLOCK, creates / 4 - creates / 4 % CREATE_BLOCK));
        row("create, pool hit (health check on, default)", hit, "< 0.5 ms", s -> s.medianMicros() < 500, "");
        row("create, pool hit (health check off)", hitNoCheck, "< 0.5 ms", s -> s.medianMicros() < 500, "");
        row("create, fork-server miss (no pool), spare ready", fork, "< 3 ms", s -> s.medianMicros() < 3_000,
                settle.toMillis() + " ms pause before each");
        row("… back to back, no spare ready", burst, "", s -> null, "2nd to 5th create of bursts of 5");
        row("create, cold spawn (no pool, no fork-server)", cold, "", s -> null, "");
        for (Mode mode : modes) {
            String n = mode.name();
            json.put("create_pool_hit_" + n, hit.get(n).json());
            json.put("create_pool_hit_no_health_check_" + n, hitNoCheck.get(n).json());
            json.put("create_fork_server_miss_" + n, fork.get(n).json());
            json.put("create_fork_server_back_to_back_" + n, burst.get(n).json());
            json.put("create_cold_" + n, cold.get(n).json());
        }
    }

    /** Times creates through a warm pool (minIdle 2) per mode, each a hit; each session ended untimed. */
    private Map<String, Samples> poolHits(boolean healthCheck) throws Exception {
        Map<String, Lane> lanes = new LinkedHashMap<>();
        Map<String, WarmPool> pools = new LinkedHashMap<>();
        List<SessionManager> managers = new ArrayList<>();
        try {
            for (Mode mode : modes) {
                WarmPool pool = WarmPool.builder(mode.runtime(true)).minIdle(2).healthCheck(healthCheck).build();
                SessionManager m = manager(pool);
                managers.add(m);
                pools.put(mode.name(), pool);
                Lane lane = i -> {
                    if (!pool.awaitIdle(2, REFILL_WAIT)) {
                        throw new IllegalStateException("the pool did not refill within " + REFILL_WAIT + ": "
                                + pool.stats());
                    }
                    long t0 = System.nanoTime();
                    String id = m.create(pythonSpec()).id();
                    long t = System.nanoTime() - t0;
                    m.end(id, EndReason.MANUAL);
                    return t;
                };
                for (int i = 0; i < 5; i++) {
                    lane.time(i);
                }
                lanes.put(mode.name(), lane);
            }
            Map<String, long[]> samples = alternate(lanes, creates / CREATE_BLOCK, CREATE_BLOCK);
            Map<String, Samples> result = new LinkedHashMap<>();
            for (Mode mode : modes) {
                WarmPoolStats stats = pools.get(mode.name()).stats();
                if (stats.misses() != 0 || stats.hits() != creates + 5L) {
                    throw new IllegalStateException("expected only hits (sandbox " + mode.name() + "): " + stats);
                }
                result.put(mode.name(), new Samples("hit-" + mode.name(), samples.get(mode.name())));
            }
            return result;
        } finally {
            managers.forEach(SessionManager::close);
        }
    }

    /**
     * Times creates on a fork-server runtime without a pool, per mode; before each, a pause
     * (untimed) so that the fork server's spare is ready, as it is unless creates come back
     * to back.
     */
    private Map<String, Samples> forkMisses() throws Exception {
        return createTimes("fork", true, creates, settle);
    }

    private Map<String, Samples> coldStarts(int count) throws Exception {
        return createTimes("cold", false, count, Duration.ZERO);
    }

    private Map<String, Samples> createTimes(String name, boolean forkServer, int count, Duration pause)
            throws Exception {
        return createTimes(name, forkServer, List.of(), null, count, pause);
    }

    /** As above; with {@code code}, each timed sample is the create and that first execution. */
    private Map<String, Samples> createTimes(String name, boolean forkServer, List<String> preload, String code,
                                             int count, Duration pause) throws Exception {
        Map<String, Lane> lanes = new LinkedHashMap<>();
        List<SessionManager> managers = new ArrayList<>();
        try {
            for (Mode mode : modes) {
                SessionManager m = manager(mode.runtime(forkServer, preload));
                managers.add(m);
                Lane lane = i -> {
                    if (!pause.isZero()) {
                        Thread.sleep(pause);
                    }
                    long t0 = System.nanoTime();
                    String id = m.create(pythonSpec()).id();
                    if (code != null) {
                        ok(m.execute(id, code, null, null));
                    }
                    long t = System.nanoTime() - t0;
                    m.end(id, EndReason.MANUAL);
                    return t;
                };
                for (int i = 0; i < 5; i++) {
                    lane.time(i);
                }
                lanes.put(mode.name(), lane);
            }
            Map<String, long[]> samples = alternate(lanes, count / CREATE_BLOCK, CREATE_BLOCK);
            Map<String, Samples> result = new LinkedHashMap<>();
            modes.forEach(mode -> result.put(mode.name(), new Samples(name + "-" + mode.name(),
                    samples.get(mode.name()))));
            return result;
        } finally {
            managers.forEach(SessionManager::close);
        }
    }

    /**
     * Creates in bursts of five, one right after the other, then ends them (untimed), the
     * modes taking turns burst by burst: the fork server's spare child is taken by the first,
     * so the next four wait for a new one (in the sandbox: launcher, init and interpreter).
     */
    private Map<String, Samples> createBursts() throws Exception {
        int burst = 5;
        int bursts = Math.max(1, creates / burst);
        Map<String, Lane> lanes = new LinkedHashMap<>();
        List<SessionManager> managers = new ArrayList<>();
        try {
            for (Mode mode : modes) {
                SessionManager m = manager(mode.runtime(true));
                managers.add(m);
                long[] times = new long[burst - 1];
                // One sample of this lane is one burst; its four timed creates are summed and kept apart.
                List<Long> all = new ArrayList<>();
                Lane lane = i -> {
                    Thread.sleep(settle);
                    List<String> ids = new ArrayList<>();
                    for (int k = 0; k < burst; k++) {
                        long t0 = System.nanoTime();
                        ids.add(m.create(pythonSpec()).id());
                        long t = System.nanoTime() - t0;
                        if (k > 0) {
                            times[k - 1] = t;
                        }
                    }
                    for (String id : ids) {
                        m.end(id, EndReason.MANUAL);
                    }
                    if (i >= 0) {
                        for (long t : times) {
                            all.add(t);
                        }
                    }
                    return 0;
                };
                lane.time(-1);
                lanes.put(mode.name(), lane);
                burstTimes.put(mode.name(), all);
            }
            alternate(lanes, bursts, 1);
            Map<String, Samples> result = new LinkedHashMap<>();
            modes.forEach(mode -> result.put(mode.name(), new Samples("burst-" + mode.name(),
                    burstTimes.get(mode.name()).stream().mapToLong(Long::longValue).toArray())));
            return result;
        } finally {
            managers.forEach(SessionManager::close);
        }
    }

    private final Map<String, List<Long>> burstTimes = new LinkedHashMap<>();

    // 3 and 4. Memory of idle sessions at 20 per mode, then a bounded run to N per mode and an extrapolation.
    private void memoryAndCapacity() throws Exception {
        section("memory per idle python session (%d per mode), then %d sessions per mode, sandbox %s",
                memorySessions, capacitySessions, names());
        gc();
        ProcMemory jvmBefore = ProcMemory.self();
        long heapBefore = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        Map<String, RecordingRuntime> runtimes = new LinkedHashMap<>();
        Map<String, SessionManager> managers = new LinkedHashMap<>();
        Map<String, Long> createNanos = new LinkedHashMap<>();
        List<Long> pids = new ArrayList<>();
        try {
            for (Mode mode : modes) {
                RecordingRuntime python = new RecordingRuntime(mode.runtime(true));
                runtimes.put(mode.name(), python);
                managers.put(mode.name(), manager(python));
                createNanos.put(mode.name(), 0L);
            }
            // The modes take turns, one session each, so both grow under the same conditions.
            for (int i = 0; i < memorySessions; i++) {
                for (Mode mode : modes) {
                    SessionManager m = managers.get(mode.name());
                    ok(m.execute(m.create(pythonSpec()).id(), "x = 0", null, null));
                }
            }
            Thread.sleep(1_000); // spares forked, first-execution work done
            Map<String, SessionFootprint> sample = new LinkedHashMap<>();
            for (Mode mode : modes) {
                sample.put(mode.name(), SessionFootprint.of(runtimes.get(mode.name()).started()));
            }
            memoryRow("idle python session, PSS of `Worker.pid()` and its descendants", sample, "≤ 3 MB",
                    f -> f.median(f.pss) <= 3 * MB, f -> mbText(f.median(f.pss)),
                    memorySessions + " sessions per mode, forked");
            memoryRow("… processes per session", sample, "", f -> null, f -> Integer.toString(f.processes), "");
            memoryRow("… PSS of the first process (in the sandbox the session's init)", sample, "", f -> null,
                    f -> mbText(f.median(f.firstPss)), "");
            memoryRow("… PSS of the interpreter (in the sandbox the init's child)", sample, "", f -> null,
                    f -> mbText(f.median(f.lastPss)), "");
            memoryRow("… Private_Clean + Private_Dirty", sample, "", f -> null, f -> mbText(f.median(f.priv)), "");
            memoryRow("… RSS (shared pages counted in full)", sample, "", f -> null, f -> mbText(f.median(f.rss)), "");
            memoryRow("… minor page faults (first process / interpreter)", sample, "", f -> null,
                    f -> f.median(f.firstFaults) + (f.processes > 1 ? " / " + f.median(f.lastFaults) : ""),
                    "copy-on-write faults included");
            for (Mode mode : modes) {
                SessionFootprint f = sample.get(mode.name());
                String n = mode.name();
                json.put("memory_session_pss_median_mb_" + n, fmt(mb(f.median(f.pss))));
                json.put("memory_session_processes_" + n, Integer.toString(f.processes));
                json.put("memory_first_process_pss_median_mb_" + n, fmt(mb(f.median(f.firstPss))));
                json.put("memory_interpreter_pss_median_mb_" + n, fmt(mb(f.median(f.lastPss))));
                json.put("memory_session_private_median_mb_" + n, fmt(mb(f.median(f.priv))));
                json.put("memory_session_rss_median_mb_" + n, fmt(mb(f.median(f.rss))));
                json.put("memory_first_process_minflt_median_" + n, Long.toString(f.median(f.firstFaults)));
                json.put("memory_interpreter_minflt_median_" + n, Long.toString(f.median(f.lastFaults)));
            }
            json.put("memory_sessions", Integer.toString(memorySessions));

            // Here in blocks of CREATE_BLOCK per mode: one by one, each create would compete with
            // the other mode's spare being made.
            for (int i = memorySessions; i < capacitySessions; i += CREATE_BLOCK) {
                for (Mode mode : modes) {
                    SessionManager m = managers.get(mode.name());
                    for (int k = i; k < Math.min(capacitySessions, i + CREATE_BLOCK); k++) {
                        long t0 = System.nanoTime();
                        ok(m.execute(m.create(pythonSpec()).id(), "x = 0", null, null));
                        createNanos.merge(mode.name(), System.nanoTime() - t0, Long::sum);
                    }
                }
            }
            Map<String, SessionFootprint> all = new LinkedHashMap<>();
            for (Mode mode : modes) {
                List<Worker> workers = runtimes.get(mode.name()).started();
                workers.forEach(w -> pids.add(w.pid()));
                long alive = workers.stream().mapToLong(Worker::pid).distinct()
                        .filter(p -> p > 0 && ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)).count();
                SessionManager m = managers.get(mode.name());
                if (alive != capacitySessions || m.stats().active() != capacitySessions) {
                    throw new IllegalStateException("expected " + capacitySessions + " live workers (sandbox "
                            + mode.name() + "), found " + alive + " (active sessions " + m.stats().active() + ")");
                }
                all.put(mode.name(), SessionFootprint.of(workers));
            }
            gc();
            ProcMemory jvmAfter = ProcMemory.self();
            long heapAfter = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            int threads = ManagementFactory.getThreadMXBean().getThreadCount();
            int total = capacitySessions * modes.size();
            // The JVM's PSS moves with what the collector commits and uncommits; the live heap
            // after full collections is what the sessions hold in it.
            double jvmPerSession = Math.max(0, heapAfter - heapBefore) / (double) total;
            int grown = capacitySessions - memorySessions;
            memoryRow(capacitySessions + " idle python sessions: create + first execute, serial, blocks of " + CREATE_BLOCK, all, "", f -> null,
                    f -> grown == 0 ? "–" : String.format(Locale.ROOT, "%.1f ms each",
                            createNanos.get(f.mode) / 1e6 / grown), "sessions beyond the memory sample");
            memoryRow("… sessions' total PSS", all, "", f -> null,
                    f -> String.format(Locale.ROOT, "%.0f MB (%.2f MB each)", mb(f.sum(f.pss)),
                            mb(f.sum(f.pss)) / capacitySessions), "");
            memoryRow("… sessions' total Private", all, "", f -> null,
                    f -> String.format(Locale.ROOT, "%.0f MB", mb(f.sum(f.priv))), "");
            rows.add(String.format(Locale.ROOT, "| … JVM, all modes together: live heap after full GCs | %d | "
                    + "%.0f → %.0f MB |%s | %.1f KB per session; JVM PSS %.0f → %.0f MB, %d JVM threads |",
                    total, mb(heapBefore), mb(heapAfter), " |".repeat(2 * modes.size() - 1), jvmPerSession / 1024,
                    mb(jvmBefore.pss()), mb(jvmAfter.pss()), threads));
            memoryRow("idle python sessions in 24 GB, estimated from the per-session PSS (workers only)", all,
                    "≥ 2,000", f -> CapacityEstimate.sessions(MEMORY_BUDGET, f.sum(f.pss), capacitySessions)
                            .stream().mapToObj(n -> n >= 2_000).findFirst().orElse(null),
                    f -> CapacityEstimate.text(MEMORY_BUDGET, f.sum(f.pss), capacitySessions),
                    "summed PSS of the sessions' processes / sessions; the JVM is not counted");
            for (Mode mode : modes) {
                SessionFootprint f = all.get(mode.name());
                String n = mode.name();
                json.put("capacity_create_ms_each_" + n, fmt(createNanos.get(n) / 1e6 / Math.max(1, grown)));
                json.put("capacity_sessions_pss_total_mb_" + n, fmt(mb(f.sum(f.pss))));
                json.put("capacity_sessions_private_total_mb_" + n, fmt(mb(f.sum(f.priv))));
                CapacityEstimate.sessions(MEMORY_BUDGET, f.sum(f.pss), capacitySessions).ifPresent(
                        fit -> json.put("capacity_in_24gb_estimated_from_session_pss_" + n, Long.toString(fit)));
            }
            json.put("capacity_sessions_per_mode", Integer.toString(capacitySessions));
            json.put("capacity_jvm_pss_before_mb", fmt(mb(jvmBefore.pss())));
            json.put("capacity_jvm_pss_after_mb", fmt(mb(jvmAfter.pss())));
            json.put("capacity_jvm_threads", Integer.toString(threads));
            json.put("capacity_jvm_heap_per_session_kb", fmt(jvmPerSession / 1024));
        } finally {
            managers.values().forEach(SessionManager::close);
        }
        awaitDead(pids);
    }

    private static final long MB = 1L << 20;

    /** The memory of a set of sessions: per session, its processes' PSS etc. summed. */
    private static final class SessionFootprint {
        String mode;
        int processes;
        long[] pss;
        long[] priv;
        long[] rss;
        long[] firstPss;
        long[] lastPss;
        long[] firstFaults;
        long[] lastFaults;

        static SessionFootprint of(List<Worker> workers) throws IOException {
            SessionFootprint f = new SessionFootprint();
            int n = workers.size();
            f.pss = new long[n];
            f.priv = new long[n];
            f.rss = new long[n];
            f.firstPss = new long[n];
            f.lastPss = new long[n];
            f.firstFaults = new long[n];
            f.lastFaults = new long[n];
            for (int i = 0; i < n; i++) {
                long pid = workers.get(i).pid();
                List<ProcMemory> each = new ArrayList<>();
                List<Long> pids = new ArrayList<>();
                pids.add(pid);
                ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
                ProcMemory sum = ProcMemory.tree(pid, each);
                f.pss[i] = sum.pss();
                f.priv[i] = sum.privateBytes();
                f.rss[i] = sum.rss();
                f.firstPss[i] = each.getFirst().pss();
                f.lastPss[i] = each.getLast().pss();
                f.firstFaults[i] = ProcMemory.minorFaults(pid);
                f.lastFaults[i] = ProcMemory.minorFaults(pids.getLast());
                f.processes = Math.max(f.processes, each.size());
            }
            return f;
        }

        long median(long[] values) {
            long[] v = values.clone();
            java.util.Arrays.sort(v);
            return v[v.length / 2];
        }

        long sum(long[] values) {
            return java.util.Arrays.stream(values).sum();
        }
    }

    private void memoryRow(String what, Map<String, SessionFootprint> byMode, String goal,
                           java.util.function.Function<SessionFootprint, Boolean> met,
                           java.util.function.Function<SessionFootprint, String> text, String note) {
        StringBuilder b = new StringBuilder("| ").append(what).append(" | ");
        byMode.values().stream().findFirst().ifPresent(f -> b.append(f.pss.length));
        b.append(" |");
        List<String> verdicts = new ArrayList<>();
        for (Mode mode : modes) {
            SessionFootprint f = byMode.get(mode.name());
            f.mode = mode.name();
            b.append(" ").append(text.apply(f)).append(" | |");
            Boolean ok = met.apply(f);
            if (ok != null) {
                verdicts.add(mode.name() + ": " + goal(ok));
            }
        }
        b.append(" ").append(goal).append(" | ").append(String.join(", ", verdicts));
        if (!note.isEmpty()) {
            b.append(verdicts.isEmpty() ? "" : "; ").append(note);
        }
        rows.add(b.append(" |").toString());
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
        row("execute `x = x + 1`, jshell session (sandbox off; one, shared)", same(j), "", s -> null,
                "SessionManager.execute");
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

    /** A latency row: median and p99 per mode; {@code met} says whether a mode meets the goal (null: no goal). */
    private void row(String what, Map<String, Samples> byMode, String goal,
                     java.util.function.Function<Samples, Boolean> met, String note) {
        StringBuilder b = new StringBuilder("| ").append(what).append(" | ");
        b.append(String.format(Locale.ROOT, "%,d", byMode.values().iterator().next().count())).append(" |");
        List<String> verdicts = new ArrayList<>();
        for (Mode mode : modes) {
            Samples s = byMode.get(mode.name());
            b.append(" ").append(us(s.medianMicros())).append(" | ").append(us(s.p99Micros())).append(" |");
            Boolean ok = met.apply(s);
            if (ok != null) {
                verdicts.add(mode.name() + ": " + goal(ok));
            }
        }
        b.append(" ").append(goal).append(" | ").append(String.join(", ", verdicts));
        if (!note.isEmpty()) {
            b.append(verdicts.isEmpty() ? "" : "; ").append(note);
        }
        rows.add(b.append(" |").toString());
    }

    private void ratioRow(String what, Map<String, Samples> tether, Samples floor, String goal) {
        StringBuilder b = new StringBuilder("| ").append(what).append(" | |");
        List<String> verdicts = new ArrayList<>();
        for (Mode mode : modes) {
            Samples s = tether.get(mode.name());
            double ratio = s.medianMicros() / floor.medianMicros();
            b.append(String.format(Locale.ROOT, " %.2fx | %.2fx |", ratio, s.p99Micros() / floor.p99Micros()));
            if (!goal.isEmpty()) {
                verdicts.add(mode.name() + ": " + (ratio <= 1.5 ? "met" : "not met") + " (median)");
            }
        }
        rows.add(b.append(" ").append(goal).append(" | ").append(String.join(", ", verdicts)).append(" |").toString());
    }

    private String names() {
        return modes.stream().map(Mode::name).collect(Collectors.joining(" and "));
    }

    private static String mbText(long bytes) {
        return String.format(Locale.ROOT, "%.2f MB", mb(bytes));
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException e) {
            // best effort
        }
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
