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
                + "websocket round trip | 40× (32–50×) | **met** |");
        assertThat(md).contains("| 1 | tether, jupyter-stock, jupyter-nodelay | 2.0 → 3.0 | 0.50 | 425× |");
        assertThat(md).contains("other tenants of the machine kept 0.50 CPUs busy");
        assertThat(md).contains("Jupyter Server 1.23.3, ipykernel 6.17.0");
        assertThat(md).contains("Factors that moved by more than 30 %");
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
