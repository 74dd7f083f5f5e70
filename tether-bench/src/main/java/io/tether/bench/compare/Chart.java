package io.tether.bench.compare;

import static io.tether.bench.compare.Results.JUPYTER_NODELAY;
import static io.tether.bench.compare.Results.JUPYTER_STOCK;
import static io.tether.bench.compare.Results.TETHER;
import static io.tether.bench.compare.Results.TETHER_EMPTY_POOL;

import io.tether.bench.compare.Results.Factor;
import io.tether.bench.compare.Results.Goal;
import io.tether.bench.compare.Stats.Spread;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/**
 * The page's chart: one small bar chart per workload (medians over the runs, logarithmic
 * axis, since the sides differ by orders of magnitude), each titled with Tether's factor
 * and the goal, drawn with XChart and put together into one PNG.
 */
final class Chart {
    private static final int PANEL_WIDTH = 440;
    private static final int PANEL_HEIGHT = 330;
    private static final int COLUMNS = 3;
    private static final int TITLE_HEIGHT = 44;

    private record Bar(String peer, String label, Color color) {
    }

    private static final List<Bar> BARS = List.of(
            new Bar(TETHER, "Tether", new Color(0x1f, 0x77, 0xb4)),
            new Bar(TETHER_EMPTY_POOL, "Tether, no pool", new Color(0x9e, 0xc5, 0xe8)),
            new Bar(JUPYTER_STOCK, "Jupyter", new Color(0xa0, 0xa0, 0xa0)),
            new Bar(JUPYTER_NODELAY, "Jupyter, NODELAY", new Color(0xff, 0x7f, 0x0e)));

    private record Panel(String title, String unit, ToDoubleFunction<PeerFigures> figure, Predicate<PeerFigures> has,
                         Factor factor) {
    }

    private Chart() {
    }

    static void write(Results results, CompareOptions options, Path png) throws IOException {
        List<Panel> panels = List.of(
                new Panel("Start → first answer", "ms, median", p -> p.start().medianMs(),
                        p -> p.start() != null, Factor.START),
                new Panel("Execute x = x + 1", "ms, median", p -> p.execute().medianMs(), p -> p.execute() != null,
                        Factor.EXECUTE),
                new Panel("Execute x = x + 1, lean clients", "ms, median", p -> p.executeLean().medianMs(),
                        p -> p.executeLean() != null, Factor.EXECUTE_LEAN),
                new Panel("Execute print(…)", "ms, median", p -> p.print().medianMs(), p -> p.print() != null,
                        Factor.PRINT),
                new Panel("Throughput, " + options.sessions() + " sessions", "executions/s",
                        p -> p.throughput().perSecond(), p -> p.throughput() != null, Factor.THROUGHPUT),
                new Panel("Idle session", "MB PSS per process", p -> p.memory().sessionPssMb(),
                        p -> p.memory() != null, Factor.MEMORY),
                new Panel(String.format(Locale.ROOT, "Sessions in %,d MiB", options.budgetMb()), "idle sessions",
                        p -> p.capacity().sessions(), p -> p.capacity() != null, Factor.CAPACITY),
                new Panel("Cold start → first answer", "ms", p -> p.coldStart().firstAnswerMs(),
                        p -> p.coldStart() != null, Factor.COLD_START));
        int rows = (panels.size() + COLUMNS - 1) / COLUMNS;
        BufferedImage image = new BufferedImage(PANEL_WIDTH * COLUMNS, TITLE_HEIGHT + PANEL_HEIGHT * rows,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            int n = results.runs().size();
            g.drawString(String.format(Locale.ROOT, "Tether vs Jupyter Server + ipykernel, same machine, loopback "
                    + "(median of %d run%s; log scale)", n, n == 1 ? "" : "s"), 16, 28);
            for (int i = 0; i < panels.size(); i++) {
                int x = (i % COLUMNS) * PANEL_WIDTH;
                int y = TITLE_HEIGHT + (i / COLUMNS) * PANEL_HEIGHT;
                Panel p = panels.get(i);
                if (BARS.stream().anyMatch(bar -> results.figure(bar.peer, p.figure, p.has) != null)) {
                    g.drawImage(BitmapEncoder.getBufferedImage(panel(results, p)), x, y, null);
                } else {
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                    g.drawString(p.title + ": not measured in this run", x + 20, y + PANEL_HEIGHT / 2);
                }
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer");
        }
    }

    private static CategoryChart panel(Results results, Panel p) {
        Spread factor = results.factor(p.factor);
        CategoryChart c = new CategoryChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT)
                .title(p.title + subtitle(factor, p.factor)).yAxisTitle(p.unit).build();
        CategoryStyler s = c.getStyler();
        s.setYAxisLogarithmic(true);
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        s.setLegendPadding(4);
        s.setXAxisTicksVisible(false);
        s.setLabelsVisible(true);
        s.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        s.setLabelsFontColorAutomaticEnabled(false);
        s.setLabelsFontColor(Color.BLACK);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridVerticalLinesVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
        double min = Double.MAX_VALUE;
        double max = 0;
        boolean whole = true;
        for (Bar bar : BARS) {
            Spread v = results.figure(bar.peer, p.figure, p.has);
            if (v != null && v.median() > 0) {
                c.addSeries(bar.label, List.of(" "), List.of(v.median())).setFillColor(bar.color);
                min = Math.min(min, v.median());
                max = Math.max(max, v.median());
                whole &= v.median() == Math.rint(v.median());
            }
        }
        // XChart formats the bar labels with the axis pattern: as few decimals as the smallest bar needs.
        s.setYAxisDecimalPattern(min < 1 ? "#,##0.##" : min < 10 && !whole ? "#,##0.#" : "#,##0");
        if (max > 0) {
            // XChart anchors bars at zero unless told otherwise, which a logarithmic axis cannot show:
            // whole decades around the values, with room above the tallest bar for its label.
            s.setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
            s.setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 2))));
        }
        return c;
    }

    /** {@code : Tether 480× faster (goal 100×)}, or nothing when unmeasured. */
    private static String subtitle(Spread factor, Factor f) {
        if (factor == null) {
            return "";
        }
        String what = switch (f) {
            case THROUGHPUT -> "higher";
            case MEMORY -> "smaller";
            case CAPACITY -> "more";
            default -> "faster";
        };
        String goal = Results.GOALS.stream().filter(g -> g.factor() == f).findFirst().map(Goal::bound)
                .map(a -> String.format(Locale.ROOT, " (goal %.0f×)", a)).orElse("");
        return ": Tether " + Report.factor(factor.median()) + " " + what + goal;
    }

}
