package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.tether.bench.compare.Results.Factor;
import io.tether.bench.compare.Stats.Spread;
import org.junit.jupiter.api.Test;

class ResultsTest {

    @Test
    void factorsAreTakenWithinEachRunAgainstTheBetterJupyter() {
        Results.Run run = Fixtures.run(1, 1.0);

        // start: the TCP_NODELAY variant started faster (850 ms) than stock (900 ms)
        assertThat(run.bestJupyter(Factor.START)).isEqualTo(Results.JUPYTER_NODELAY);
        assertThat(run.factors().get(Factor.START)).isCloseTo(850 / 2.0, within(1e-9));
        // round trip: 8 ms (TCP_NODELAY) over 0.2 ms
        assertThat(run.factors().get(Factor.EXECUTE)).isCloseTo(40, within(1e-9));
        // throughput: higher is better, so Tether's rate over Jupyter's better one
        assertThat(run.bestJupyter(Factor.THROUGHPUT)).isEqualTo(Results.JUPYTER_NODELAY);
        assertThat(run.factors().get(Factor.THROUGHPUT)).isCloseTo(4_000 / 160.0, within(1e-9));
        // memory: only the TCP_NODELAY server measured it
        assertThat(run.factors().get(Factor.MEMORY)).isCloseTo(55 / 1.5, within(1e-9));
        assertThat(run.factors().get(Factor.CAPACITY)).isCloseTo(900 / 34.0, within(1e-9));
    }

    @Test
    void aFactorAcrossRunsIsTheMedianOfThePerRunFactors() {
        Spread execute = Fixtures.results().factor(Factor.EXECUTE);

        // runs scale Tether's round trip by 1.0, 0.8 and 1.25: 8/0.2, 8/0.16, 8/0.25
        assertThat(execute.runs()).isEqualTo(3);
        assertThat(execute.median()).isCloseTo(40, within(1e-9));
        assertThat(execute.min()).isCloseTo(32, within(1e-9));
        assertThat(execute.max()).isCloseTo(50, within(1e-9));
    }

    @Test
    void goalsAreJudgedByTheMedianFactor() {
        Results r = Fixtures.results();

        assertThat(r.met(Results.GOALS.get(0))).isTrue();   // start ≥ 100×: 425×
        assertThat(r.met(Results.GOALS.get(1))).isTrue();   // execute ≥ 20×: 40×
        assertThat(r.met(Results.GOALS.get(2))).isTrue();   // throughput ≥ 20×: 25×
        assertThat(r.met(Results.GOALS.get(3))).isTrue();   // memory ≥ 15×: 36.7×
    }

    @Test
    void theNewGoalsAreTetherFiguresJudgedAgainstTheirBounds() {
        Results r = Fixtures.results();
        java.util.Map<String, Results.Goal> goals = new java.util.HashMap<>();
        Results.GOALS.forEach(g -> goals.put(g.key(), g));

        // lean: 8 ms (TCP_NODELAY) over 0.1 ms
        assertThat(r.goal(goals.get("execute_lean")).median()).isCloseTo(80, within(1e-9));
        assertThat(r.met(goals.get("execute_lean"))).isTrue();
        // the Java client's median minus the lean one's: 0.1 ms × 1.0, 0.8, 1.25
        Spread client = r.goal(goals.get("client_over_lean"));
        assertThat(client.median()).isCloseTo(0.1, within(1e-9));
        assertThat(client.max()).isCloseTo(0.125, within(1e-9));
        assertThat(r.met(goals.get("client_over_lean"))).isTrue();
        // p99 is exactly 3× the median in the fixtures: at most 3×, met
        assertThat(r.met(goals.get("execute_p99_over_median"))).isTrue();
        // cold start 0.4 s (0.32–0.5) ≤ 0.5 s; Jupyter's 2.5 s beside it
        assertThat(r.goal(goals.get("cold_start")).median()).isCloseTo(0.4, within(1e-9));
        assertThat(r.beside(goals.get("cold_start")).median()).isCloseTo(2.5, within(1e-9));
        assertThat(r.met(goals.get("cold_start"))).isTrue();
        // first executes 0.3k over the warmed lean 0.1k: 3× > 2×
        assertThat(r.goal(goals.get("first_over_warmed")).median()).isCloseTo(3, within(1e-9));
        assertThat(r.met(goals.get("first_over_warmed"))).isFalse();
        // capacity10k: run 1 only, 9,990 answered of 10,000
        assertThat(r.goal(goals.get("capacity10k")).runs()).isEqualTo(1);
        assertThat(r.met(goals.get("capacity10k"))).isFalse();
        assertThat(r.factor(Factor.COLD_START).median()).isCloseTo(2500 / 400.0, within(1e-9));
    }

    @Test
    void aWorkloadOneSideDidNotRunHasNoFactor() {
        Results.Run run = new Results.Run(1, java.util.List.of(Results.TETHER), 1, 1, 0,
                java.util.Map.of(Results.TETHER, Fixtures.run(1, 1).peer(Results.TETHER)));

        assertThat(run.factors()).isEmpty();
    }
}
