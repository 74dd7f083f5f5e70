package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rich outputs (Jupyter's display model) from a live worker: display(), _repr_*_ methods,
 * pandas and matplotlib (the real packages), their order with printed output, and caps.
 */
class RichOutputTest extends PythonRuntimeFixture {
    Worker worker;
    long number;
    final List<String> heard = new ArrayList<>();

    @BeforeEach
    void start() {
        worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
    }

    @AfterEach
    void close() {
        worker.close();
    }

    ExecutionResult ok(String code) {
        heard.clear();
        ExecutionResult r = worker.execute(new ExecutionRequest(++number, code, Duration.ofSeconds(60)),
                new OutputListener() {
                    @Override
                    public void output(Stream stream, String text) {
                        heard.add(stream + ":" + text);
                    }

                    @Override
                    public void display(Output.DisplayData output) {
                        heard.add("display:" + output.data().keySet());
                    }
                });
        assertThat(r.status()).as("%s → %s", code, r).isEqualTo(ExecutionStatus.OK);
        return r;
    }

    static List<Output.DisplayData> displays(ExecutionResult r) {
        return r.outputs().stream().filter(o -> o instanceof Output.DisplayData)
                .map(o -> (Output.DisplayData) o).toList();
    }

    static BufferedImage png(Map<String, Object> bundle) throws Exception {
        assertThat(bundle).containsKey("image/png");
        byte[] bytes = Base64.getDecoder().decode((String) bundle.get("image/png"));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        assertThat(image).as("a PNG javax.imageio can decode").isNotNull();
        return image;
    }

    @Test
    void displaysComeInOrderWithPrintedOutput() {
        ExecutionResult r = ok("""
                import sys
                class Page:
                    def _repr_html_(self):
                        return '<b>page</b>'
                    def __repr__(self):
                        return 'Page()'
                print('a')
                display(Page())
                print('b', end='')  # still in sys.stdout's buffer: display() flushes it first
                display(42, 'text')
                sys.stderr.write('c\\n')
                display(Page())
                print('d')
                7""");
        assertThat(r.outputs()).extracting(o -> o.kind() + (o instanceof Output.StreamText t ? ":" + t.name()
                + ":" + t.text() : o instanceof Output.DisplayData d ? ":" + d.data().get("text/plain")
                : ":" + ((Output.ExecuteResult) o).data().get("text/plain"))).containsExactly(
                "stream:stdout:a\n", "display_data:Page()", "stream:stdout:b", "display_data:42",
                "display_data:'text'", "stream:stderr:c\n", "display_data:Page()", "stream:stdout:d\n",
                "execute_result:7");
        assertThat(displays(r).get(0).data()).containsEntry("text/html", "<b>page</b>");
        assertThat(heard).containsExactly("STDOUT:a\n", "display:[text/plain, text/html]", "STDOUT:b",
                "display:[text/plain]", "display:[text/plain]", "STDERR:c\n", "display:[text/plain, text/html]",
                "STDOUT:d\n");
        // the gathered fields are unchanged
        assertThat(r.stdout()).isEqualTo("a\nbd\n");
        assertThat(r.stderr()).isEqualTo("c\n");
        assertThat(r.result()).isEqualTo(Map.of("text/plain", "7", "application/json", 7L));
        assertThat(r.truncated()).isFalse();
    }

    @Test
    void everyReprMethodIsHonouredAndBinaryTypesAreBase64() {
        ok("""
                class Rich:
                    def _repr_html_(self): return '<i>h</i>'
                    def _repr_markdown_(self): return '*m*'
                    def _repr_latex_(self): return '$x^2$'
                    def _repr_svg_(self): return '<svg/>'
                    def _repr_png_(self): return b'\\x89PNG-bytes'
                    def _repr_jpeg_(self): return (b'\\xff\\xd8jpeg', {'width': 3})
                    def _repr_json_(self): return {'k': [1, 2]}
                    def __repr__(self): return 'Rich()'
                class Bundled:
                    def _repr_mimebundle_(self, include=None, exclude=None):
                        return {'text/plain': 'B', 'application/vnd.custom+json': {'a': 1}}, {'text/plain': {'m': 1}}
                    def _repr_html_(self): return '<p>also</p>'
                """);
        ExecutionResult r = ok("Rich()");
        Map<String, Object> data = r.result();
        assertThat(data).containsEntry("text/plain", "Rich()").containsEntry("text/html", "<i>h</i>")
                .containsEntry("text/markdown", "*m*").containsEntry("text/latex", "$x^2$")
                .containsEntry("image/svg+xml", "<svg/>").containsEntry("application/json", Map.of("k", List.of(1L, 2L)));
        assertThat(Base64.getDecoder().decode((String) data.get("image/png"))).isEqualTo("\u0089PNG-bytes"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(Base64.getDecoder().decode((String) data.get("image/jpeg"))).startsWith(0xff, 0xd8);
        Output last = r.outputs().get(r.outputs().size() - 1);
        assertThat(last).isInstanceOf(Output.ExecuteResult.class);
        assertThat(((Output.ExecuteResult) last).metadata()).containsEntry("image/jpeg", Map.of("width", 3L));

        Output.DisplayData d = displays(ok("display(Bundled())")).get(0);
        assertThat(d.data()).containsEntry("text/plain", "B").containsEntry("text/html", "<p>also</p>")
                .containsEntry("application/vnd.custom+json", Map.of("a", 1L));
        assertThat(d.metadata()).containsEntry("text/plain", Map.of("m", 1L));

        Output.DisplayData raw = displays(ok("from tether import display as show\n"
                + "show({'text/plain': 'r', 'text/markdown': '# hi'}, raw=True)")).get(0);
        assertThat(raw.data()).isEqualTo(Map.of("text/plain", "r", "text/markdown", "# hi"));
    }

    @Test
    void aFailingReprMethodIsLeftOutAndSaysWhy() {
        ExecutionResult r = ok("class Bad:\n    def _repr_html_(self): raise ValueError('no html')\n"
                + "    def __repr__(self): return 'Bad()'\nBad()");
        assertThat(r.result()).isEqualTo(Map.of("text/plain", "Bad()"));
        assertThat(r.stderr()).isEqualTo("Bad._repr_html_ failed: ValueError: no html\n");
        ExecutionResult proxy = ok("class Anything:\n    def __getattr__(self, name): return lambda *a, **k: '<b>x</b>'\n"
                + "    def __repr__(self): return 'Anything()'\nAnything()");
        assertThat(proxy.result()).as("an object that claims every method").isEqualTo(Map.of("text/plain", "Anything()"));
    }

    @Test
    void aDataFrameComesBackAsAnHtmlTable() {
        ExecutionResult r = ok("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})");
        assertThat((String) r.result().get("text/html")).contains("<table", "<td>x</td>");
        assertThat((String) r.result().get("text/plain")).contains("a  b");
    }

    @Test
    void matplotlibIsNotLoadedUntilTheCodeImportsIt() {
        assertThat(ok("import sys, os\n['matplotlib' in sys.modules, 'MPLBACKEND' in os.environ]").result())
                .containsEntry("application/json", List.of(false, false));
    }

    @Test
    void aFigureDrawnInACellComesBackAsAPngAndIsClosed() throws Exception {
        ExecutionResult r = ok("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('drawn')");
        List<Output.DisplayData> shown = displays(r);
        assertThat(shown).hasSize(1);
        BufferedImage image = png(shown.get(0).data());
        assertThat(image.getWidth()).isEqualTo(640);
        assertThat(image.getHeight()).isEqualTo(480);
        assertThat((String) shown.get(0).data().get("text/plain")).startsWith("<Figure size 640x480");
        assertThat(r.outputs().get(0)).isEqualTo(new Output.StreamText(OutputListener.Stream.STDOUT, "drawn\n"));
        assertThat(r.stderr()).isEmpty();
        assertThat(ok("plt.get_fignums()").result()).containsEntry("application/json", List.of());
    }

    @Test
    void showEmitsAtOnceAndAFigureHasItsOwnSize() throws Exception {
        ExecutionResult r = ok("""
                import matplotlib.pyplot as plt
                plt.figure(figsize=(3, 2), dpi=100)
                plt.bar([1, 2], [3, 4])
                plt.show()
                print('after')
                fig = plt.figure(figsize=(2, 2), dpi=50)
                fig""");
        assertThat(r.outputs()).extracting(Output::kind)
                .containsExactly("display_data", "stream", "execute_result");
        BufferedImage first = png(displays(r).get(0).data());
        assertThat(first.getWidth()).isEqualTo(300);
        assertThat(first.getHeight()).isEqualTo(200);
        BufferedImage result = png(r.result());
        assertThat(result.getWidth()).isEqualTo(100);
        assertThat(result.getHeight()).isEqualTo(100);
    }

    @Test
    void aHugeImageIsLeftOutAndMarkedTruncated() {
        ExecutionResult r = ok("""
                class Huge:
                    def _repr_png_(self):
                        return b'\\x89PNG' + bytes(50 << 20)
                    def __repr__(self):
                        return 'Huge()'
                display(Huge())
                print('still here')
                Huge()""");
        Output.DisplayData d = displays(r).get(0);
        assertThat(d.data()).isEqualTo(Map.of("text/plain", "Huge()"));
        assertThat(d.truncated()).isTrue();
        assertThat(r.result()).isEqualTo(Map.of("text/plain", "Huge()"));
        assertThat(((Output.ExecuteResult) r.outputs().get(r.outputs().size() - 1)).truncated()).isTrue();
        assertThat(r.truncated()).isTrue();
        assertThat(r.stdout()).isEqualTo("still here\n");

        // keys and metadata count too: a bundle of 200,000 types fits neither in the cap nor in a frame
        ExecutionResult many = ok("class Many:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n"
                + "        return {'text/x-%d' % i: 'v' for i in range(200_000)}, {'m%d' % i: i for i in range(200_000)}\n"
                + "display(Many())\n1");
        assertThat(displays(many).get(0).truncated()).isTrue();
        assertThat(displays(many).get(0).data().size()).isBetween(2, 200_000);
        assertThat(displays(many).get(0).metadata()).isEmpty();
        assertThat(many.result()).containsEntry("application/json", 1L);
    }

    @Test
    void anInterruptDuringDisplaysLeavesTheChannelWhole() throws Exception {
        // Display frames larger than the socket's buffer, and a reader that stalls on the
        // first: the worker is blocked halfway through writing the next one when the interrupt
        // arrives (unless signals wait meanwhile, half a frame is left on the channel and the
        // worker is lost).
        try (Worker big = runtime.start(new WorkerOptions(new WorkerLimits(256L << 20, 1 << 20, 0, null, 0, 0, 0,
                WorkerLimits.DEFAULTS.killGrace())))) {
            CountDownLatch first = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(() -> big.execute(
                    new ExecutionRequest(1, "while True:\n    display({'text/plain': 'x' * 3_000_000}, raw=True)",
                            Duration.ofSeconds(30)),
                    new OutputListener() {
                        @Override
                        public void output(Stream stream, String text) {
                        }

                        @Override
                        public void display(Output.DisplayData output) {
                            if (first.getCount() > 0) {
                                first.countDown();
                                try { // the worker keeps writing meanwhile, and blocks
                                    interrupted.await(20, TimeUnit.SECONDS);
                                    Thread.sleep(300);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                        }
                    }));
            assertThat(first.await(20, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200); // not a wait for time to pass: the worker builds the next frame and blocks writing it
            big.interrupt();
            interrupted.countDown();
            ExecutionResult r = running.get(30, TimeUnit.SECONDS);
            assertThat(r.status()).as("%s", r.error()).isEqualTo(ExecutionStatus.INTERRUPTED);
            assertThat(displays(r)).isNotEmpty().allSatisfy(d -> assertThat(d.data().get("text/plain"))
                    .isEqualTo("x".repeat(3_000_000)));
            ExecutionResult next = big.execute(new ExecutionRequest(2, "1 + 1", Duration.ofSeconds(10)),
                    OutputListener.NONE);
            assertThat(next.result()).containsEntry("application/json", 2L);
        }
    }

    @Test
    void displaysOfOneExecutionShareTheOutputCap() {
        // 400 KB of base64 each: two fit in the default 1 MiB, the third does not.
        ExecutionResult r = ok("""
                class Img:
                    def _repr_png_(self):
                        return bytes(300_000)
                for _ in range(3):
                    display(Img())""");
        List<Output.DisplayData> shown = displays(r);
        assertThat(shown).hasSize(3);
        assertThat(shown.get(0).data()).containsKey("image/png");
        assertThat(shown.get(1).data()).containsKey("image/png");
        assertThat(shown.get(2).data()).doesNotContainKey("image/png");
        assertThat(shown.get(2).truncated()).isTrue();
        assertThat(r.truncated()).isTrue();
        // the next execution has the whole cap again
        assertThat(displays(ok("display(Img())")).get(0).data()).containsKey("image/png");
    }
}
