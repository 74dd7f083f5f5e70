package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.bench.compare.Results.Factor;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    private final CompareOptions options = CompareOptions.parse();

    @Test
    void theResultFileHoldsEveryRunAndTheFactorsAndReadsBackTheSame() throws Exception {
        Results results = Fixtures.results();
        ObjectNode json = Report.json(results, options, Fixtures.machine(), "./tether compare");

        assertThat(json.path("runs").size()).isEqualTo(3);
        JsonNode run = json.path("runs").get(0);
        assertThat(run.path("peers").path("tether").path("execute").path("median_ms").asDouble()).isEqualTo(0.2);
        assertThat(run.path("tether_factors").path("execute").asDouble()).isEqualTo(40);
        assertThat(run.path("jupyter_figure_from").path("execute").asText()).isEqualTo("jupyter-nodelay");
        assertThat(json.path("tether_factors").path("execute").path("median").asDouble()).isEqualTo(40);
        assertThat(json.path("goals").get(1).path("met").asBoolean()).isTrue();

        Report.Parsed back = Report.parse(Report.JSON.readTree(Report.JSON.writeValueAsBytes(json)));
        assertThat(back.results()).isEqualTo(results);
        assertThat(back.machine()).isEqualTo(Fixtures.machine());
        assertThat(back.command()).isEqualTo("./tether compare");
    }

    @Test
    void theTableShowsMediansWithTheirSpreadAndTheGoals() {
        String md = Report.markdown(Fixtures.results(), options, Fixtures.machine(), "chart.png", "./tether compare");

        assertThat(md).contains("![Tether and Jupyter Server side by side](chart.png)");
        // Tether's round trip over the runs: 0.2, 0.16 and 0.25 ms
        assertThat(md).contains("| execute `x = x + 1`, median | 0.20 ms (0.16–0.25 ms) | 48.0 ms "
                + "| 8.00 ms | 40× (32–50×) |");
        assertThat(md).contains("| Trivial execution round trip over HTTP ≥ 20× faster than Jupyter's (tuned) "
                + "websocket round trip | 40× (32–50×) |  | **met** |");
        assertThat(md).contains("| 1 | tether, jupyter-stock, jupyter-nodelay | 2.0 → 3.0 | 0.50 | 425× |");
        assertThat(md).contains("other tenants of the machine kept 0.50 CPUs busy");
        assertThat(md).contains("Jupyter Server 1.23.3, ipykernel 6.17.0");
        assertThat(md).contains("Factors that moved by more than 30 %");
    }

    @Test
    void theNewRowsAndTheirGoalsAreOnThePage() {
        String md = Report.markdown(Fixtures.results(), options, Fixtures.machine(), "chart.png", "./tether compare");

        // lean: Tether 0.1 ms (0.08–0.125) against 8 ms (TCP_NODELAY): 80× (64–100×)
        assertThat(md).contains("| execute `x = x + 1`, lean client (Tether: raw HTTP/1.1 on a socket; Jupyter: "
                + "JDK WebSocket), median | 0.10 ms (0.08–0.13 ms) | 48.0 ms | 8.00 ms | 80× (64–100×) |");
        assertThat(md).contains("| Execute round trip `x = x + 1` with a lean client on each side ≥ 25× faster "
                + "| 80× (64–100×) |  | **met** |");
        // Java client 0.2k against lean 0.1k: 0.1 ms more (0.08–0.125), within 0.15 ms
        assertThat(md).contains("| … through Tether's Java client (tether-client), median | 0.20 ms (0.16–0.25 ms) "
                + "| – | – |  |");
        assertThat(md).contains("| Round trip through Tether's Java client ≤ the lean client's + 0.15 ms "
                + "| 0.100 ms (0.080–0.125 ms) | – | **met** |");
        // p99 is 3× the median in the fixtures: at the bound, met
        assertThat(md).contains("| … p99 ÷ median | 3.00× | 3.00× | 3.00× |  |");
        assertThat(md).contains("| Execute p99 ≤ 3× Tether's own median | 3.00× | – | **met** |");
        // cold start 400k ms against Jupyter stock's 2,500 ms; Jupyter's figure beside the goal
        assertThat(md).contains("| Cold start: process start of `./tether serve` → first execute answered ≤ 0.5 s "
                + "| 0.40 s (0.32–0.50 s) | 2.50 s | **met** |");
        assertThat(md).contains("| cold start: process start → first execute answered | 400.0 ms (320.0–500.0 ms) "
                + "| 2.50 s | – | 6.3× (5.0–7.8×) |");
        // first 1,000: 0.3k over the warmed lean 0.1k: 3×, not met; Jupyter 60 over 48
        assertThat(md).contains("| … the 1,000 executes after it, median (lean client) | 0.30 ms (0.24–0.38 ms) "
                + "| 60.0 ms | – |  |");
        assertThat(md).contains("| First executes after a cold start, median ≤ 2× the warmed median | 3.00× | 1.25× "
                + "| **not met** |");
        // capacity10k in run 1 only; Jupyter did not run it
        assertThat(md).contains("| 10,000 idle Python sessions created, each answering an execution | 9,990 | – "
                + "| **not met** |");
        assertThat(md).contains("**capacity10k**: 10,000 idle Python sessions on one Tether server (Jupyter: not run)");
        // kernel memory 900 → 9,891 MB over 9,991 sessions: 0.90 MB each
        assertThat(md).contains("| 1 | 9,991 | 9,990 | execute in session 9991 failed: HTTP 500 | 15,900 MB | 1.57 MB "
                + "| 200 MB | 0.90 MB | 95 s | 20,003 / 30,010 | 30,050 (65,536) | 65,536 | 0 (12.5 s) |");
        assertThat(md).contains("| execute (lean) | cold start |");
        assertThat(md).contains("raw HTTP/1.1").contains("tether-client").contains("--pool-owner-share 1");
    }

    @Test
    void theNewGoalsAreInTheResultFileAndAnOldFileWithoutTheNewRowsStillReads() throws Exception {
        ObjectNode json = Report.json(Fixtures.results(), options, Fixtures.machine(), "./tether compare");

        JsonNode cold = null;
        for (JsonNode g : json.path("goals")) {
            if (g.path("key").asText().equals("cold_start")) {
                cold = g;
            }
        }
        assertThat(cold).isNotNull();
        assertThat(cold.path("at_most").asDouble()).isEqualTo(0.5);
        assertThat(cold.path("measured_median").asDouble()).isEqualTo(0.4);
        assertThat(cold.path("jupyter_median").asDouble()).isEqualTo(2.5);
        assertThat(cold.path("met").asBoolean()).isTrue();
        assertThat(json.path("options").path("first_executions").asInt()).isEqualTo(1000);
        JsonNode tether = json.path("runs").get(0).path("peers").path("tether");
        assertThat(tether.path("execute_lean").path("median_ms").asDouble()).isEqualTo(0.1);
        assertThat(tether.path("cold_start").path("first_answer_ms").asDouble()).isEqualTo(400);
        assertThat(tether.path("capacity10k").path("answered").asInt()).isEqualTo(9_990);

        // a file written before these rows: the peers have none of the new fields
        for (JsonNode run : json.path("runs")) {
            for (JsonNode peer : run.path("peers")) {
                ((ObjectNode) peer).remove(java.util.List.of("execute_lean", "execute_client", "cold_start",
                        "capacity10k"));
            }
        }
        Results old = Report.parse(json).results();
        assertThat(old.runs().get(0).peer("tether").executeLean()).isNull();
        assertThat(old.factor(Factor.EXECUTE)).isNotNull();
        assertThat(old.met(Results.GOALS.get(5))).isNull();
        assertThat(Report.markdown(old, options, Fixtures.machine(), "c.png", "./tether compare"))
                .contains("| Cold start: process start of `./tether serve` → first execute answered ≤ 0.5 s "
                        + "| not measured | – |  |")
                .doesNotContain("idle Python sessions on one Tether server");
    }

    @Test
    void theSectionIsReplacedBetweenItsMarkersAndTheRestOfThePageKept() {
        String page = "# Benchmarks\n\nintro\n\n## Side by side with Jupyter Server\n\nhand-written\n\n"
                + Report.BEGIN + "\nold table\n" + Report.END + "\n\n## Later\n";

        String updated = Report.replaceSection(page, "new table\n");

        assertThat(updated).isEqualTo("# Benchmarks\n\nintro\n\n## Side by side with Jupyter Server\n\n"
                + "hand-written\n\n" + Report.BEGIN + "\nnew table\n" + Report.END + "\n\n## Later\n");
        assertThat(Report.replaceSection(updated, "new table\n")).isEqualTo(updated);
    }

    @Test
    void aPageWithoutTheSectionGetsItAppendedUnderItsHeading() {
        String updated = Report.replaceSection("# Benchmarks\n\nintro\n", "table");

        assertThat(updated).isEqualTo("# Benchmarks\n\nintro\n\n" + Report.HEADING + "\n\n" + Report.BEGIN
                + "\ntable\n" + Report.END + "\n");
    }

    @Test
    void aBrokenSectionIsNotGuessedAt() {
        assertThatThrownBy(() -> Report.replaceSection("x\n" + Report.END + "\n" + Report.BEGIN + "\n", "t"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Report.replaceSection("x\n" + Report.BEGIN + "\n", "t"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theChartIsAPng(@TempDir Path dir) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path png = dir.resolve("chart.png");

        Chart.write(Fixtures.results(), options, png);

        assertThat(ImageIO.read(png.toFile()).getWidth()).isGreaterThan(1000);
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }

    @Test
    void theChartDrawsAPanelOnlyOneSideMeasured(@TempDir Path dir) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Results tetherOnly = new Results(java.util.List.of(new Results.Run(1, java.util.List.of("tether"), 1, 1, 0,
                java.util.Map.of("tether", Fixtures.run(1, 1).peer("tether")))));

        Chart.write(tetherOnly, options, dir.resolve("chart.png"));

        assertThat(tetherOnly.factor(Factor.EXECUTE)).isNull();
        assertThat(dir.resolve("chart.png")).exists();
    }
}
