package io.tether.bench.compare;

import io.tether.bench.compare.Stats.Latency;
import io.tether.bench.compare.Stats.Spread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * The figures of every run and what follows from them: Tether's factor over Jupyter per
 * workload, computed within each run (so what slowed the machine during a run slowed both
 * sides alike), and each figure's spread across runs. Immutable.
 *
 * @param runs the runs, in order
 */
record Results(List<Run> runs) {
    static final String TETHER = "tether";
    static final String TETHER_EMPTY_POOL = "tether-empty-pool";
    static final String JUPYTER_STOCK = "jupyter-stock";
    static final String JUPYTER_NODELAY = "jupyter-nodelay";
    static final List<String> JUPYTERS = List.of(JUPYTER_STOCK, JUPYTER_NODELAY);

    Results {
        runs = List.copyOf(runs);
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no runs");
        }
    }

    /**
     * One run: every server started afresh, one after another in {@code order}.
     *
     * @param loadBefore the 1-minute load average when the timed workloads began
     * @param loadAfter  the 1-minute load average when they ended (before memory and capacity,
     *                   whose hundreds of processes would count in it)
     * @param otherCpus  CPUs that other tenants of the machine kept busy during the timed
     *                   workloads, on average; {@code NaN} when not measured
     */
    record Run(int run, List<String> order, double loadBefore, double loadAfter, double otherCpus,
               Map<String, PeerFigures> peers) {
        Run {
            order = List.copyOf(order);
            peers = Map.copyOf(peers);
        }

        PeerFigures peer(String name) {
            return peers.get(name);
        }

        /**
         * Tether's factor over Jupyter per workload: Jupyter's time (memory) over Tether's for
         * start, execute, print and memory; Tether's rate (sessions) over Jupyter's for
         * throughput and capacity. Jupyter's figure is its better variant in this run.
         */
        Map<Factor, Double> factors() {
            Map<Factor, Double> f = new LinkedHashMap<>();
            for (Factor factor : Factor.values()) {
                Double v = factor.of(this);
                if (v != null) {
                    f.put(factor, v);
                }
            }
            return f;
        }

        /** The Jupyter variant with the better figure for {@code factor} in this run, or {@code null}. */
        String bestJupyter(Factor factor) {
            String best = null;
            double bestValue = Double.NaN;
            for (String j : JUPYTERS) {
                PeerFigures p = peers.get(j);
                Double v = p == null ? null : factor.figure.apply(p);
                if (v == null) {
                    continue;
                }
                if (best == null || (factor.lowerIsBetter ? v < bestValue : v > bestValue)) {
                    best = j;
                    bestValue = v;
                }
            }
            return best;
        }
    }

    /** A workload's figure, and how Tether's factor over Jupyter is taken from it. */
    enum Factor {
        START("start", true, p -> p.start() == null ? null : p.start().medianMs()),
        START_P99("start_p99", true, p -> p.start() == null ? null : p.start().p99Ms()),
        EXECUTE("execute", true, p -> p.execute() == null ? null : p.execute().medianMs()),
        EXECUTE_P99("execute_p99", true, p -> p.execute() == null ? null : p.execute().p99Ms()),
        EXECUTE_LEAN("execute_lean", true, p -> p.executeLean() == null ? null : p.executeLean().medianMs()),
        PRINT("print", true, p -> p.print() == null ? null : p.print().medianMs()),
        PRINT_P99("print_p99", true, p -> p.print() == null ? null : p.print().p99Ms()),
        THROUGHPUT("throughput", false, p -> p.throughput() == null ? null : p.throughput().perSecond()),
        SERVER_CPU("server_cpu", true, p -> p.throughput() == null ? null : p.throughput().serverCpuMs()),
        MEMORY("memory", true, p -> p.memory() == null ? null : p.memory().sessionPssMb()),
        CAPACITY("capacity", false, p -> p.capacity() == null ? null : (double) p.capacity().sessions()),
        COLD_START("cold_start", true, p -> p.coldStart() == null ? null : p.coldStart().firstAnswerMs());

        final String key;
        final boolean lowerIsBetter;
        final Function<PeerFigures, Double> figure;

        Factor(String key, boolean lowerIsBetter, Function<PeerFigures, Double> figure) {
            this.key = key;
            this.lowerIsBetter = lowerIsBetter;
            this.figure = figure;
        }

        /** Tether's factor in one run, or {@code null} when a side did not measure it. */
        Double of(Run run) {
            PeerFigures tether = run.peer(TETHER);
            String j = run.bestJupyter(this);
            Double t = tether == null ? null : figure.apply(tether);
            if (t == null || j == null || t <= 0) {
                return null;
            }
            double other = figure.apply(run.peer(j));
            return lowerIsBetter ? other / t : t / other;
        }
    }

    /** How a goal's figure is shown: a factor or ratio ({@code 25×}), milliseconds, seconds, a count. */
    enum Unit {
        TIMES, MS, SECONDS, COUNT
    }

    /**
     * A goal of the issue: a figure taken in each run, summarized across runs like the factors,
     * and met when the median of the runs' figures is at least (or at most) {@code bound}.
     *
     * @param key     its name in the result file
     * @param text    what the goal says, for the page
     * @param factor  the factor it judges, or {@code null} for a figure of Tether's own
     * @param atMost  whether the figure must stay at or below {@code bound} (else at or above)
     * @param measure the figure in one run, or {@code null} when that run did not measure it
     * @param beside  Jupyter's figure to show beside it (its better variant), or {@code null} for none
     */
    record Goal(String key, String text, Factor factor, double bound, boolean atMost, Unit unit,
                Function<Run, Double> measure, Function<Run, Double> beside) {

        static Goal factor(Factor factor, double atLeast, String text) {
            return new Goal(factor.key, text, factor, atLeast, false, Unit.TIMES, factor::of, null);
        }

        boolean met(double median) {
            return atMost ? median <= bound : median >= bound;
        }
    }

    /** Tether's figure of one kind in a run, or {@code null}. */
    private static Double tether(Run run, Function<PeerFigures, Double> figure) {
        PeerFigures t = run.peer(TETHER);
        return t == null ? null : figure.apply(t);
    }

    /** The better Jupyter variant's figure in a run (lower is better), or {@code null}. */
    private static Double bestJupyter(Run run, Function<PeerFigures, Double> figure) {
        Double best = null;
        for (String j : JUPYTERS) {
            PeerFigures p = run.peer(j);
            Double v = p == null ? null : figure.apply(p);
            if (v != null && (best == null || v < best)) {
                best = v;
            }
        }
        return best;
    }

    /** Tether's Java client's median round trip minus the lean client's, in ms. */
    static Double clientOverLean(PeerFigures p) {
        return p.executeClient() == null || p.executeLean() == null ? null
                : p.executeClient().medianMs() - p.executeLean().medianMs();
    }

    /** The execute round trip's p99 over its median. */
    static Double p99OverMedian(PeerFigures p) {
        return p.execute() == null || p.execute().medianMs() <= 0 ? null : p.execute().p99Ms() / p.execute().medianMs();
    }

    /** A cold start's process start → first answer, in seconds. */
    static Double coldStartSeconds(PeerFigures p) {
        return p.coldStart() == null ? null : p.coldStart().firstAnswerMs() / 1000;
    }

    /** The median of the first executions after a cold start over the warmed lean round trip's median. */
    static Double firstOverWarmed(PeerFigures p) {
        return p.coldStart() == null || p.coldStart().first() == null || p.executeLean() == null
                || p.executeLean().medianMs() <= 0 ? null
                : p.coldStart().first().medianMs() / p.executeLean().medianMs();
    }

    /** Idle sessions that were created and answered their execution in the capacity10k run. */
    static Double capacityAnswered(PeerFigures p) {
        return p.capacity10k() == null ? null : (double) p.capacity10k().answered();
    }

    static final List<Goal> GOALS = List.of(
            Goal.factor(Factor.START, 100, "Session start to first answer ≥ 100× faster than a Jupyter kernel start"),
            Goal.factor(Factor.EXECUTE, 20, "Trivial execution round trip over HTTP ≥ 20× faster than Jupyter's "
                    + "(tuned) websocket round trip"),
            Goal.factor(Factor.THROUGHPUT, 20, "Throughput with 8 concurrent sessions ≥ 20× Jupyter's"),
            Goal.factor(Factor.MEMORY, 15, "Memory per idle live session ≥ 15× smaller than an idle ipykernel"),
            Goal.factor(Factor.EXECUTE_LEAN, 25, "Execute round trip `x = x + 1` with a lean client on each side "
                    + "≥ 25× faster"),
            new Goal("client_over_lean", "Round trip through Tether's Java client ≤ the lean client's + 0.15 ms",
                    null, 0.15, true, Unit.MS, r -> tether(r, Results::clientOverLean), null),
            new Goal("execute_p99_over_median", "Execute p99 ≤ 3× Tether's own median", null, 3, true, Unit.TIMES,
                    r -> tether(r, Results::p99OverMedian), null),
            new Goal("cold_start", "Cold start: process start of `./tether serve` → first execute answered ≤ 0.5 s",
                    null, 0.5, true, Unit.SECONDS, r -> tether(r, Results::coldStartSeconds),
                    r -> bestJupyter(r, Results::coldStartSeconds)),
            new Goal("first_over_warmed", "First executes after a cold start, median ≤ 2× the warmed median", null,
                    2, true, Unit.TIMES, r -> tether(r, Results::firstOverWarmed),
                    r -> bestJupyter(r, Results::firstOverWarmed)),
            new Goal("capacity10k", "10,000 idle Python sessions created, each answering an execution", null,
                    10_000, false, Unit.COUNT, r -> tether(r, Results::capacityAnswered), null));

    /** A goal's figure across the runs that measured it, or {@code null}. */
    Spread goal(Goal goal) {
        double[] v = runs.stream().map(goal.measure()).filter(Objects::nonNull).mapToDouble(Double::doubleValue)
                .toArray();
        return v.length == 0 ? null : Stats.spread(v);
    }

    /** Jupyter's figure beside a goal across runs, or {@code null}. */
    Spread beside(Goal goal) {
        if (goal.beside() == null) {
            return null;
        }
        double[] v = runs.stream().map(goal.beside()).filter(Objects::nonNull).mapToDouble(Double::doubleValue)
                .toArray();
        return v.length == 0 ? null : Stats.spread(v);
    }

    /** Tether's factor across runs, or {@code null} when no run measured it. */
    Spread factor(Factor factor) {
        double[] v = runs.stream().map(r -> factor.of(r)).filter(Objects::nonNull).mapToDouble(Double::doubleValue)
                .toArray();
        return v.length == 0 ? null : Stats.spread(v);
    }

    /** A figure of one server across the runs that measured it, or {@code null}. */
    Spread figure(String peer, ToDoubleFunction<PeerFigures> figure, Predicate<PeerFigures> has) {
        List<Double> v = new ArrayList<>();
        for (Run r : runs) {
            PeerFigures p = r.peer(peer);
            if (p != null && has.test(p)) {
                v.add(figure.applyAsDouble(p));
            }
        }
        return v.isEmpty() ? null : Stats.spread(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** A latency quantile of one workload of one server across runs. */
    Spread latency(String peer, Function<PeerFigures, Latency> workload,
                   ToDoubleFunction<Latency> quantile) {
        return figure(peer, p -> quantile.applyAsDouble(workload.apply(p)), p -> workload.apply(p) != null);
    }

    /** Whether the goal is met by the median of the runs' figures; {@code null} when unmeasured. */
    Boolean met(Goal goal) {
        Spread s = goal(goal);
        return s == null ? null : goal.met(s.median());
    }
}
