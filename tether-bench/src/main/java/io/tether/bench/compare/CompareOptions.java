package io.tether.bench.compare;

import io.tether.bench.compare.Workloads.Workload;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * How much the comparison measures and where it writes, from the command line of
 * {@code ./tether compare}. Every workload is bounded: by a count, a duration, or a memory
 * budget and a session cap.
 *
 * @param repeats          runs; each starts every server afresh, and ratios are taken within a run
 * @param starts           timed session starts per server and run (after two untimed ones)
 * @param executions       timed round trips per workload (after a tenth as many untimed)
 * @param warmupSeconds    traffic a fresh server gets from {@code sessions} clients before anything is timed
 * @param sessions         concurrent sessions of the throughput workload
 * @param throughputSeconds how long the throughput workload counts (after a second untimed)
 * @param memorySessions   idle sessions whose processes give the memory per session
 * @param budgetMb         the memory budget of the capacity run, MiB of PSS
 * @param cap              the most sessions the capacity run opens
 * @param out              directory for results.json and results.md
 * @param docs             the docs directory to regenerate (benchmarks.md section, chart, JSON), or {@code null}
 * @param python           the interpreter Jupyter runs on (Tether's workers use their own setting)
 * @param tetherJar        the server jar ({@code tether-cli/target/tether.jar})
 * @param replot           a result file to write the outputs from again, without measuring; or {@code null}
 * @param workloads        the workloads to run (all but capacity10k by default)
 * @param firstExecutions  timed round trips right after a cold start (none untimed before them)
 * @param capacitySessions idle sessions the capacity10k workload opens on Tether
 * @param memoryStopGb     the capacity10k workload stops opening sessions when the machine's used memory
 *                         (MemTotal − MemAvailable) reaches this many GiB
 */
record CompareOptions(int repeats, int starts, int executions, int warmupSeconds, int sessions,
                      int throughputSeconds, int memorySessions, long budgetMb, int cap, Path out, Path docs,
                      Path python, Path tetherJar, Path replot, Set<Workload> workloads, int firstExecutions,
                      int capacitySessions, int memoryStopGb) {

    CompareOptions {
        workloads = Set.copyOf(workloads);
    }

    static final String USAGE = """
            usage: ./tether compare [options]
              --repeats N             runs, each with fresh servers (3)
              --starts N              timed session starts per server (10)
              --executions N          timed round trips per latency workload (500)
              --warmup-seconds N      traffic from all sessions before timing, per server (15)
              --sessions N            concurrent sessions for throughput (8)
              --throughput-seconds N  counted seconds of the throughput workload (5)
              --memory-sessions N     idle sessions measured for memory per session (10)
              --budget-mb N           memory budget of the capacity run, MiB PSS (2048)
              --cap N                 most sessions the capacity run opens (2000)
              --out DIR               results.json and results.md (target/compare)
              --docs DIR              also regenerate DIR/benchmarks.md's section, chart and JSON
                                      (./tether compare passes the checkout's docs/)
              --no-docs               leave the docs alone
              --python PATH           interpreter with jupyter_server and ipykernel (/usr/bin/python3)
              --tether-jar PATH       the server jar (tether-cli/target/tether.jar)
              --replot FILE           measure nothing: write the table, chart and page again from a
                                      results.json (the counts come from the file)
              --first-executions N    timed round trips right after a cold start (1000)
              --capacity-sessions N   idle Tether sessions the capacity10k workload opens (10000)
              --memory-stop-gb N      capacity10k stops opening sessions when the machine's used
                                      memory (MemTotal - MemAvailable) reaches N GiB (20)
              --workloads LIST        only these, comma-separated: start, execute, print, throughput,
                                      memory (memory per session and the capacity run), lean (execute
                                      with a raw-socket HTTP client, and through tether-client),
                                      coldstart (a fresh server's first answer and first executions),
                                      capacity10k (10,000 idle Tether sessions: opt-in, never in the
                                      default; raises the server's open-file limit with prlimit and
                                      needs pid_max and memory for them); default: all but capacity10k.
                                      Leaves the docs alone unless --docs follows it
              --quick                 a smoke run: 1 repeat, small counts, 256 MiB budget, cap 40,
                                      100 first executions; leaves the docs alone unless --docs follows it
            """;

    static CompareOptions defaults() {
        return parse();
    }

    /** @throws IllegalArgumentException for an unknown option or a bad value, with the usage */
    static CompareOptions parse(String... args) {
        int repeats = 3, starts = 10, executions = 500, warmup = 15, sessions = 8, seconds = 5, memory = 10, cap = 2000;
        int first = 1000, capacity = 10_000, stopGb = 20;
        long budget = 2048;
        Path out = Path.of("target/compare");
        Path docs = null;
        Path python = Path.of("/usr/bin/python3");
        Path jar = Path.of("tether-cli/target/tether.jar");
        Path replot = null;
        Set<Workload> workloads = Workload.defaults();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--quick")) {
                repeats = 1;
                starts = 3;
                executions = 50;
                warmup = 2;
                seconds = 1;
                memory = 3;
                budget = 256;
                cap = 40;
                first = 100;
                docs = null; // a smoke run's figures do not belong on the page
                continue;
            }
            if (a.equals("--no-docs")) {
                docs = null;
                continue;
            }
            if (!USAGE.contains("  " + a + " ")) {
                throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value\n" + USAGE);
            }
            String v = args[++i];
            switch (a) {
                case "--repeats" -> repeats = positive(a, v);
                case "--starts" -> starts = positive(a, v);
                case "--executions" -> executions = positive(a, v);
                case "--warmup-seconds" -> warmup = positive(a, v);
                case "--sessions" -> sessions = positive(a, v);
                case "--throughput-seconds" -> seconds = positive(a, v);
                case "--memory-sessions" -> memory = positive(a, v);
                case "--budget-mb" -> budget = positive(a, v);
                case "--cap" -> cap = positive(a, v);
                case "--out" -> out = Path.of(v);
                case "--docs" -> docs = Path.of(v);
                case "--python" -> python = Path.of(v);
                case "--tether-jar" -> jar = Path.of(v);
                case "--replot" -> replot = Path.of(v);
                case "--workloads" -> {
                    workloads = workloads(v);
                    docs = null; // a page of some rows only would replace the full run's section
                }
                case "--first-executions" -> first = positive(a, v);
                case "--capacity-sessions" -> capacity = positive(a, v);
                case "--memory-stop-gb" -> stopGb = positive(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
        }
        if (memory > cap) {
            throw new IllegalArgumentException("--memory-sessions (" + memory + ") must not exceed --cap (" + cap + ")");
        }
        return new CompareOptions(repeats, starts, executions, warmup, sessions, seconds, memory, budget, cap, out,
                docs, python, jar, replot, workloads, first, capacity, stopGb);
    }

    private static Set<Workload> workloads(String list) {
        Set<Workload> w = EnumSet.noneOf(Workload.class);
        for (String name : list.split(",")) {
            try {
                w.add(Workload.valueOf(name.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--workloads: unknown workload '" + name + "'; allowed: "
                        + EnumSet.allOf(Workload.class).toString().toLowerCase(Locale.ROOT), e);
            }
        }
        return w;
    }

    /** These options with the counts a result file was measured with (its {@code options}). */
    CompareOptions withCountsOf(com.fasterxml.jackson.databind.JsonNode o) {
        return new CompareOptions(o.path("repeats").asInt(repeats), o.path("starts").asInt(starts),
                o.path("executions").asInt(executions), o.path("warmup_seconds").asInt(warmupSeconds),
                o.path("sessions").asInt(sessions), o.path("throughput_seconds").asInt(throughputSeconds),
                o.path("memory_sessions").asInt(memorySessions), o.path("budget_mb").asLong(budgetMb),
                o.path("cap").asInt(cap), out, docs, python, tetherJar, replot, workloads,
                o.path("first_executions").asInt(firstExecutions), o.path("capacity_sessions").asInt(capacitySessions),
                o.path("memory_stop_gb").asInt(memoryStopGb));
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT, "%s must be a whole number above 0, was '%s'",
                option, value));
    }
}
