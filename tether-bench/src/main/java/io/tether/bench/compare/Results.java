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
        PRINT("print", true, p -> p.print() == null ? null : p.print().medianMs()),
        PRINT_P99("print_p99", true, p -> p.print() == null ? null : p.print().p99Ms()),
        THROUGHPUT("throughput", false, p -> p.throughput() == null ? null : p.throughput().perSecond()),
        SERVER_CPU("server_cpu", true, p -> p.throughput() == null ? null : p.throughput().serverCpuMs()),
        MEMORY("memory", true, p -> p.memory() == null ? null : p.memory().sessionPssMb()),
        CAPACITY("capacity", false, p -> p.capacity() == null ? null : (double) p.capacity().sessions());

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

    /**
     * A goal of the issue: Tether's factor at least {@code atLeast}.
     *
     * @param text what the goal says, for the page
     */
    record Goal(Factor factor, double atLeast, String text) {
    }

    static final List<Goal> GOALS = List.of(
            new Goal(Factor.START, 100, "Session start to first answer ≥ 100× faster than a Jupyter kernel start"),
            new Goal(Factor.EXECUTE, 20, "Trivial execution round trip over HTTP ≥ 20× faster than Jupyter's "
                    + "(tuned) websocket round trip"),
            new Goal(Factor.THROUGHPUT, 20, "Throughput with 8 concurrent sessions ≥ 20× Jupyter's"),
            new Goal(Factor.MEMORY, 15, "Memory per idle live session ≥ 15× smaller than an idle ipykernel"));

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

    /** Whether the goal is met by the median of the runs' factors; {@code null} when unmeasured. */
    Boolean met(Goal goal) {
        Spread s = factor(goal.factor());
        return s == null ? null : s.median() >= goal.atLeast();
    }
}
