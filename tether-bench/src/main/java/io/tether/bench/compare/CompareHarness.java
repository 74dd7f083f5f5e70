package io.tether.bench.compare;

import static io.tether.bench.compare.Results.JUPYTER_NODELAY;
import static io.tether.bench.compare.Results.JUPYTER_STOCK;
import static io.tether.bench.compare.Results.TETHER;
import static io.tether.bench.compare.Results.TETHER_EMPTY_POOL;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.bench.compare.Stats.Latency;
import io.tether.bench.compare.Workloads.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Tether's HTTP server and Jupyter Server with the IPython kernel, side by side on this
 * machine: the same bounded workloads on each (see {@link Workloads}), repeated with fresh
 * servers, with Tether's factor over Jupyter taken within each run. Writes
 * {@code results.json} and {@code results.md}; with {@code --docs DIR} also regenerates the
 * comparison section of {@code DIR/benchmarks.md}, its chart and a copy of the JSON.
 *
 * <pre>./tether compare [--repeats N] [--out DIR] [--docs DIR] [--quick] …  (--help lists all)</pre>
 *
 * Needs Jupyter Server and ipykernel for {@code --python} (Debian:
 * {@value JupyterPeer#INSTALL_HINT}); says so and exits with status 2 when they are
 * missing. Every server it starts is stopped, with everything below it, also when the run
 * fails or is interrupted; it exits with status 1 if a process it started was left behind.
 */
public final class CompareHarness {
    static final String CHART = "benchmarks-vs-jupyter.png";
    static final String JSON_FILE = "benchmarks-vs-jupyter.json";

    private final CompareOptions options;
    private final Workloads workloads;
    private final Path java;
    private final Path work;
    /** Servers running now, for the shutdown hook. */
    private final List<Peer> running = new CopyOnWriteArrayList<>();

    private CompareHarness(CompareOptions options, Path work) {
        this.options = options;
        this.workloads = new Workloads(options);
        this.java = Path.of(ProcessHandle.current().info().command().orElse("java"));
        this.work = work;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        CompareOptions options;
        try {
            if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
                System.out.print(CompareOptions.USAGE);
                return;
            }
            options = CompareOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.replot() != null) {
            JsonNode file = Report.JSON.readTree(options.replot().toFile());
            Report.Parsed parsed = Report.parse(file);
            CompareOptions measured = options.withCountsOf(file.path("options"));
            new CompareHarness(measured, null).write(parsed.results(), parsed.machine(),
                    command(parsed.command().split(" ")));
            return;
        }
        Optional<JsonNode> jupyter = JupyterPeer.installed(options.python());
        if (jupyter.isEmpty()) {
            System.err.println("""
                    compare: Jupyter Server with the IPython kernel is needed as the peer and is not installed for %s.
                    On Debian or Ubuntu:  sudo %s
                    (or pass --python with an interpreter that has jupyter_server and ipykernel)"""
                    .formatted(options.python(), JupyterPeer.INSTALL_HINT));
            System.exit(2);
            return;
        }
        // rwx--x--x, as Tether asks of the directories above a data directory: the sandbox's jail runs
        // session code as another user, who must be able to pass through them (mode 700 left the
        // jail out of the sandbox, so the servers ran without it)
        Path work = Files.createTempDirectory("tether-compare-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        CompareHarness h = new CompareHarness(options, work);
        Thread hook = new Thread(h::stopAll, "compare-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean ok = false;
        try {
            Machine machine = Machine.describe(jupyter.get(), repoOf(options.tetherJar()));
            Results results = h.runAll();
            h.write(results, machine, command(args));
            ok = true;
        } finally {
            h.stopAll();
            Runtime.getRuntime().removeShutdownHook(hook);
            List<ProcessHandle> left = leftBehind(work);
            if (!left.isEmpty()) {
                System.err.println("compare: processes left behind: " + left.stream()
                        .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList());
                System.exit(1);
            }
            if (ok) {
                delete(work);
            } else {
                System.err.println("compare: failed; server logs kept in " + work);
            }
        }
    }

    /**
     * The command as a reader would type it: {@code ./tether compare} and what was measured,
     * without the paths the launcher adds (where the jar, the results and the docs are).
     */
    static String command(String... args) {
        List<String> shown = new ArrayList<>(List.of("./tether", "compare"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--tether-jar") || a.equals("--out") || a.equals("--docs")) {
                i++;
            } else if (!a.equals("./tether") && !a.equals("compare") && !a.isEmpty()) {
                shown.add(a);
            }
        }
        return String.join(" ", shown);
    }

    private Results runAll() throws IOException, InterruptedException {
        List<Results.Run> runs = new ArrayList<>();
        prime(options.workloads().contains(Workload.COLDSTART) ? COLD : List.of(TETHER));
        for (int run = 1; run <= options.repeats(); run++) {
            List<String> order = new ArrayList<>(List.of(TETHER, JUPYTER_STOCK, JUPYTER_NODELAY));
            Collections.rotate(order, -(run - 1)); // who goes first in each turn changes from run to run
            double loadBefore = Machine.loadAverage();
            System.out.printf("run %d of %d: %s (load %.2f)%n", run, options.repeats(), order, loadBefore);
            Map<String, Parts> parts = new LinkedHashMap<>();
            order.forEach(name -> parts.put(name, new Parts()));
            parts.put(TETHER_EMPTY_POOL, new Parts());
            if (options.workloads().contains(Workload.COLDSTART)) {
                cold(run, order, parts);
            }
            long[] cpu0 = Machine.cpuTicks();
            long t0 = System.nanoTime();
            timed(run, order, parts); // returns with every server stopped and reaped: their CPU is in ours
            long[] cpu1 = Machine.cpuTicks();
            double seconds = (System.nanoTime() - t0) / 1e9;
            // NaN without timed workloads (--workloads coldstart alone): a few ticks over no time say nothing
            double others = seconds < 1 ? Double.NaN
                    : ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / 100.0 / seconds;
            double loadAfter = Machine.loadAverage();
            System.out.printf(Locale.ROOT, "  timed workloads done: load %.2f, other tenants used %.2f CPUs%n", loadAfter,
                    others);
            for (String name : order) {
                if (!name.equals(JUPYTER_STOCK) && options.workloads().contains(Workload.MEMORY)) {
                    alone(run, name, parts.get(name));
                }
            }
            if (options.workloads().contains(Workload.CAPACITY10K)) {
                manySessions(run, parts.get(TETHER));
            }
            Map<String, PeerFigures> figures = new LinkedHashMap<>();
            parts.forEach((name, p) -> p.figures(name).ifPresent(f -> figures.put(name, f)));
            runs.add(new Results.Run(run, order, loadBefore, loadAfter, Double.isNaN(others) ? others
                    : Math.max(0, others), figures));
        }
        return new Results(runs);
    }

    /** What one server measured in a run, filled in by the phases. */
    private static final class Parts {
        Workloads.Start start;
        Latency execute;
        Latency print;
        PeerFigures.Throughput throughput;
        Workloads.Grown grown;
        Latency executeLean;
        Latency executeClient;
        PeerFigures.ColdStart coldStart;
        PeerFigures.Capacity10k capacity10k;

        Optional<PeerFigures> figures(String name) {
            if (start == null && execute == null && print == null && throughput == null && grown == null
                    && executeLean == null && executeClient == null && coldStart == null && capacity10k == null) {
                return Optional.empty();
            }
            return Optional.of(new PeerFigures(name, start == null ? null : start.start(),
                    start == null ? null : start.open(), execute, print, throughput,
                    grown == null ? null : grown.memory(), grown == null ? null : grown.capacity(), executeLean,
                    executeClient, coldStart, capacity10k));
        }
    }

    /**
     * The timed workloads, with the servers running side by side and taking turns: Tether
     * (and, for starts only, Tether with an empty pool) and both Jupyter variants.
     */
    private void timed(int run, List<String> order, Map<String, Parts> parts) throws IOException, InterruptedException {
        Set<Workload> chosen = options.workloads();
        boolean starts = chosen.contains(Workload.START);
        if (!starts && !chosen.contains(Workload.EXECUTE) && !chosen.contains(Workload.PRINT)
                && !chosen.contains(Workload.THROUGHPUT) && !chosen.contains(Workload.LEAN)) {
            return;
        }
        List<Peer> peers = new ArrayList<>();
        Peer emptyPool = null;
        try {
            for (String name : order) {
                peers.add(start(name, run, "timed"));
                if (name.equals(TETHER) && starts) {
                    emptyPool = start(TETHER_EMPTY_POOL, run, "timed");
                }
            }
            List<Peer> all = new ArrayList<>(peers);
            if (emptyPool != null) {
                all.add(all.indexOf(byName(peers, TETHER)) + 1, emptyPool);
            }
            for (Peer p : all) {
                workloads.warmUp(p);
            }
            if (starts) {
                workloads.starts(all).forEach((p, s) -> parts.get(p.name()).start = s);
            }
            if (chosen.contains(Workload.EXECUTE)) {
                workloads.roundTrips(peers, Workloads.INCREMENT).forEach((p, l) -> parts.get(p.name()).execute = l);
            }
            if (chosen.contains(Workload.LEAN)) {
                lean(peers, parts);
            }
            if (chosen.contains(Workload.PRINT)) {
                workloads.roundTrips(peers, Workloads.PRINT).forEach((p, l) -> parts.get(p.name()).print = l);
            }
            if (chosen.contains(Workload.THROUGHPUT)) {
                workloads.throughput(peers).forEach((p, t) -> parts.get(p.name()).throughput = t);
            }
        } finally {
            stopAll();
        }
    }

    /**
     * The round trips with the lean client of each server, and through Tether's Java client,
     * all lanes taking turns; the new clients' lanes get untimed round trips first.
     */
    private void lean(List<Peer> peers, Map<String, Parts> parts) throws IOException, InterruptedException {
        long warm = ReportText.leanWarmSeconds(options) * 1_000_000_000L;
        List<Workloads.Lane> lanes = new ArrayList<>();
        for (Peer p : peers) {
            if (p instanceof TetherPeer t) {
                lanes.add(new Workloads.Lane(p, "lean", p::openLean, warm));
                lanes.add(new Workloads.Lane(p, "tether-client", t::openClient, warm));
            } else {
                lanes.add(new Workloads.Lane(p, "lean", p::openLean, 0));
            }
        }
        workloads.laneRoundTrips(lanes, Workloads.INCREMENT).forEach((lane, l) -> {
            Parts part = parts.get(lane.peer().name());
            if (lane.client().equals("lean")) {
                part.executeLean = l;
            } else {
                part.executeClient = l;
            }
        });
    }

    /** The servers whose cold start is measured: Tether and Jupyter as usually started (stock). */
    private static final List<String> COLD = List.of(TETHER, JUPYTER_STOCK);

    /**
     * An untimed launch of Tether (and of Jupyter when cold starts are measured) before the
     * first run: Tether's launcher makes its ahead-of-time cache on the first launch after a
     * build (and writes it at exit), as a user's first start does; the measured servers are
     * launched after it, and two servers started at once do not both record the cache. It
     * also leaves both servers' files in the page cache, alike.
     */
    private void prime(List<String> names) throws IOException, InterruptedException {
        for (String name : names) {
            System.out.println("priming: an untimed launch of " + name);
            Peer p = start(name, 0, "prime");
            try {
                Peer.PeerSession s = p.openLean();
                s.execute("x = 0");
                s.close();
            } finally {
                stopAll();
            }
            if (name.equals(TETHER) && !aotCacheFresh()) {
                System.out.println("  warning: the launcher's ahead-of-time cache was not written (or the JDK is "
                        + "older than 25): the cold starts below may be without it");
            }
        }
    }

    /** Whether the launcher's ahead-of-time cache beside the jar is there and newer than the jar. */
    private boolean aotCacheFresh() throws IOException {
        Path jar = options.tetherJar().toAbsolutePath();
        Path cache = jar.resolveSibling("tether-serve.aot");
        return Files.isRegularFile(cache) && Files.size(cache) > 0
                && Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(jar)) > 0;
    }

    /**
     * Each cold-started server launched afresh in this run's order: from its process start
     * until a session answered its first execution, then its first executions.
     */
    private void cold(int run, List<String> order, Map<String, Parts> parts) throws IOException, InterruptedException {
        for (String name : order) {
            if (!COLD.contains(name)) {
                continue;
            }
            Peer p = start(name, run, "cold");
            try {
                Peer.PeerSession s = p.openLean();
                s.execute("x = 0");
                long answered = System.nanoTime();
                ServerProcess server = p.process();
                double firstAnswerMs = (answered - server.startedNanos()) / 1e6;
                Latency first = Workloads.firstExecutions(name, s, options.firstExecutions());
                s.close();
                parts.get(name).coldStart = new PeerFigures.ColdStart(server.readyMs(), firstAnswerMs, first);
                System.out.printf(Locale.ROOT, "  %s: cold start %.0f ms (ready %.0f ms); first %,d executes:"
                        + " median %.2f ms%n", name, firstAnswerMs, server.readyMs(), options.firstExecutions(),
                        first.medianMs());
            } finally {
                stopAll();
            }
        }
    }

    /** The capacity10k workload on a Tether server of its own, nothing else running. */
    private void manySessions(int run, Parts parts) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("run-" + run).resolve("capacity10k").resolve(TETHER));
        TetherPeer peer = TetherPeer.start(TETHER, java, options.tetherJar(), dir, 2,
                ReportText.maxWorkers10k(options), ManySessions.prefix(options), ManySessions.settings(options));
        running.add(peer);
        try {
            parts.capacity10k = ManySessions.run(peer, options);
        } finally {
            stopAll();
        }
    }

    private static Peer byName(List<Peer> peers, String name) {
        return peers.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * Memory and capacity on a fresh server with nothing else running: processes of other
     * servers that map the same files (every Python process maps the interpreter) would
     * take a share of those pages' PSS.
     */
    private void alone(int run, String name, Parts parts) throws IOException, InterruptedException {
        Peer peer = start(name, run, "memory");
        try {
            workloads.warmUp(peer);
            parts.grown = workloads.grow(peer);
        } finally {
            stopAll();
        }
    }

    /** Starts a server with its files under {@code <work>/run-N/<phase>/<name>}. */
    private Peer start(String name, int run, String phase) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("run-" + run).resolve(phase).resolve(name));
        Peer peer = switch (name) {
            case TETHER -> TetherPeer.start(name, java, options.tetherJar(), dir, 2, 4096);
            case TETHER_EMPTY_POOL -> TetherPeer.start(name, java, options.tetherJar(), dir, 0, 4096);
            case JUPYTER_STOCK -> JupyterPeer.start(name, options.python(), JupyterPeer.Sockets.STOCK, dir);
            case JUPYTER_NODELAY -> JupyterPeer.start(name, options.python(), JupyterPeer.Sockets.NODELAY, dir);
            default -> throw new IllegalArgumentException(name);
        };
        running.add(peer);
        return peer;
    }

    private void write(Results results, Machine machine, String command) throws IOException {
        Files.createDirectories(options.out());
        byte[] json = Report.JSON.writeValueAsBytes(Report.json(results, options, machine, command));
        Files.write(options.out().resolve("results.json"), json); // first: the figures survive a failing chart
        Path chart = options.out().resolve(CHART);
        Chart.write(results, options, chart);
        String section = Report.markdown(results, options, machine, CHART, command);
        Files.writeString(options.out().resolve("results.md"), section);
        System.out.println();
        System.out.println(section);
        System.out.println("wrote " + options.out().resolve("results.json") + ", results.md and " + CHART);
        if (options.docs() != null) {
            Path page = options.docs().resolve("benchmarks.md");
            Files.copy(chart, options.docs().resolve(CHART), StandardCopyOption.REPLACE_EXISTING);
            Files.write(options.docs().resolve(JSON_FILE), json);
            Files.writeString(page, Report.replaceSection(Files.exists(page) ? Files.readString(page) : "# Benchmarks\n",
                    section));
            System.out.println("regenerated " + page + ", " + CHART + " and " + JSON_FILE + " in " + options.docs());
        }
    }

    private void stopAll() {
        for (Peer p : running) {
            try {
                p.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        running.clear();
    }

    /** The checkout the jar was built in ({@code <repo>/tether-cli/target/tether.jar}). */
    private static Path repoOf(Path jar) {
        Path target = jar.toAbsolutePath().normalize().getParent();
        Path module = target == null ? null : target.getParent();
        return module == null || module.getParent() == null ? Path.of(".") : module.getParent();
    }

    /**
     * This JVM's live descendants, and any process whose command line names the work
     * directory (a Jupyter kernel's connection file is there, and kernels leave their
     * server's process tree when it dies).
     */
    private static List<ProcessHandle> leftBehind(Path work) throws InterruptedException {
        String mark = work.toString();
        List<ProcessHandle> left = List.of();
        for (int i = 0; i < 50; i++) {
            left = Stream.concat(ProcessHandle.current().descendants(), ProcessHandle.allProcesses()
                            .filter(p -> p.info().commandLine().map(c -> c.contains(mark)).orElse(false)))
                    .filter(ProcessHandle::isAlive).distinct().toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        return left;
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
