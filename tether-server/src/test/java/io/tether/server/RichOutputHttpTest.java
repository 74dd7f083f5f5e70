package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.http.OpenApiContract;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rich outputs end to end: real Python workers (sandbox as the server's default), real
 * matplotlib and pandas, real HTTP on loopback and the SQLite store. Every answer is held to
 * docs/openapi.json by {@link Api}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RichOutputHttpTest {
    private static final Map<String, String> SSE = Map.of("Accept", "text/event-stream");

    @TempDir
    static Path dataDir;
    static TetherServer server;
    static Api alice;

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of());
        alice = new Api(server.url(), io.tether.server.auth.TokenStore.open(dataDir).create("alice", false).token());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String newSession() {
        Api.Reply r = alice.post("/v1/sessions", Map.of("runtime", "python"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return (String) r.json().get("id");
    }

    private static Map<String, Object> execute(String id, String code) {
        Api.Reply r = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, Object> e = r.json();
        assertThat(e.get("status")).as(r.body().length() > 2000 ? r.body().substring(0, 2000) : r.body())
                .isEqualTo("ok");
        return e;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> outputs(Map<String, Object> execution) {
        return (List<Map<String, Object>>) execution.get("outputs");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(Map<String, Object> output) {
        return (Map<String, Object>) output.get("data");
    }

    private static BufferedImage png(Map<String, Object> data) throws Exception {
        byte[] bytes = Base64.getDecoder().decode((String) data.get("image/png"));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        assertThat(image).as("a PNG ImageIO decodes").isNotNull();
        return image;
    }

    /** Each output as "type:name-or-text/plain". */
    private static List<String> shapes(List<Map<String, Object>> outputs) {
        List<String> list = new ArrayList<>();
        for (Map<String, Object> o : outputs) {
            list.add(o.get("output_type") + ":" + ("stream".equals(o.get("output_type"))
                    ? o.get("name") + ":" + o.get("text") : data(o).get("text/plain")));
        }
        return list;
    }

    @Test
    void aMatplotlibPlotIsAPngInTheAnswerTheRecordAndTheHistory() throws Exception {
        String id = newSession();
        Map<String, Object> e = execute(id, """
                import matplotlib.pyplot as plt
                plt.figure(figsize=(4, 3), dpi=100)
                plt.plot([1, 2, 3], [3, 1, 2])
                print('drawn')""");
        List<Map<String, Object>> outputs = outputs(e);
        assertThat(outputs).extracting(o -> o.get("output_type")).containsExactly("stream", "display_data");
        BufferedImage image = png(data(outputs.get(1)));
        assertThat(image.getWidth()).isEqualTo(400);
        assertThat(image.getHeight()).isEqualTo(300);
        assertThat(outputs.get(1)).containsEntry("truncated", false);
        assertThat(e).containsEntry("stdout", "drawn\n").containsEntry("result", null);

        // the kept execution (SQLite, after the end) and the history list carry the same outputs
        Map<String, Object> kept = alice.get("/v1/sessions/" + id + "/executions/1").json();
        assertThat(kept.get("outputs")).isEqualTo(outputs);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> items = (List<Map<String, Object>>) alice
                .get("/v1/sessions/" + id + "/executions?output=true").json().get("items");
        assertThat(items.get(0).get("outputs")).isEqualTo(outputs);
    }

    @Test
    void aPlotOverServerSentEventsIsADisplayEventInOrderWithPrints() throws Exception {
        String id = newSession();
        Api.Reply r = alice.send("POST", "/v1/sessions/" + id + "/executions", Map.of("code", """
                import sys
                import matplotlib.pyplot as plt
                print('before')
                plt.figure(figsize=(3, 2), dpi=100)
                plt.bar([1, 2], [3, 4])
                plt.show()
                print('oops', file=sys.stderr)
                display({'a': 1})
                print('after')"""), SSE);
        assertThat(r.status()).isEqualTo(200);
        List<String> order = new ArrayList<>();
        Map<String, Object> figure = null;
        Map<String, Object> end = null;
        for (String[] event : OpenApiContract.events(r.body())) {
            @SuppressWarnings("unchecked")
            Map<String, Object> json = Api.JSON.readValue(event[1], Map.class);
            switch (event[0]) {
                case "stdout", "stderr" -> order.add(event[0] + ":" + json.get("text"));
                case "display" -> {
                    order.add("display:" + data(json).keySet());
                    if (figure == null) {
                        figure = json;
                    }
                }
                case "end" -> end = json;
                default -> { }
            }
        }
        assertThat(order).containsExactly("stdout:before\n", "display:[text/plain, image/png]", "stderr:oops\n",
                "display:[text/plain]", "stdout:after\n");
        BufferedImage image = png(data(figure));
        assertThat(image.getWidth()).isEqualTo(300);
        assertThat(image.getHeight()).isEqualTo(200);
        assertThat(shapes(outputs(end))).containsExactly("stream:stdout:before\n",
                "display_data:" + data(figure).get("text/plain"), "stream:stderr:oops\n",
                "display_data:{'a': 1}", "stream:stdout:after\n");
    }

    @Test
    void aRunningExecutionsRecordHasItsDisplaysSoFar() throws Exception {
        String id = newSession();
        java.util.concurrent.CompletableFuture<Api.Reply> running = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> alice.post("/v1/sessions/" + id + "/executions", Map.of("code",
                        "print('a')\ndisplay('shown')\nprint('ready', flush=True)\nimport time\ntime.sleep(60)")));
        String path = "/v1/sessions/" + id + "/executions/1";
        io.tether.testing.Eventually.eventually(java.time.Duration.ofSeconds(30), "the code printed ready",
                () -> String.valueOf(alice.get(path).json().get("stdout")).contains("ready"));
        Map<String, Object> soFar = alice.get(path).json();
        assertThat(soFar).containsEntry("status", "running");
        assertThat(shapes(outputs(soFar))).containsExactly("stream:stdout:a\n", "display_data:'shown'",
                "stream:stdout:ready\n");

        assertThat(alice.post("/v1/sessions/" + id + "/interrupt", null).status()).isEqualTo(204);
        Map<String, Object> ended = running.get(30, TimeUnit.SECONDS).json();
        assertThat(ended).containsEntry("status", "interrupted");
        assertThat(shapes(outputs(ended)).subList(0, 3)).isEqualTo(shapes(outputs(soFar)));
    }

    @Test
    void displayOrderRelativeToPrintsIsKeptInTheOutputs() {
        String id = newSession();
        Map<String, Object> e = execute(id, """
                print('a')
                display('shown')
                print('b', end='')
                display(2)
                print('c')
                3""");
        assertThat(shapes(outputs(e))).containsExactly("stream:stdout:a\n", "display_data:'shown'",
                "stream:stdout:b", "display_data:2", "stream:stdout:c\n", "execute_result:3");
        assertThat(e).containsEntry("stdout", "a\nbc\n");
    }

    @Test
    void aDataFrameIsAnHtmlTable() {
        String id = newSession();
        Map<String, Object> e = execute(id, """
                import pandas as pd
                df = pd.DataFrame({'city': ['Oslo', 'Lima'], 'temp': [3, 19]})
                display(df)
                df""");
        List<Map<String, Object>> outputs = outputs(e);
        assertThat(outputs).extracting(o -> o.get("output_type")).containsExactly("display_data", "execute_result");
        for (Map<String, Object> o : outputs) {
            assertThat((String) data(o).get("text/html")).contains("<table").contains("Oslo");
            assertThat((String) data(o).get("text/plain")).contains("Lima");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) e.get("result");
        assertThat((String) result.get("text/html")).contains("<table");
    }

    @Test
    void aFiftyMegabyteImageIsLeftOutAndMarkedAndTheAnswerStaysSmall() {
        String id = newSession();
        String code = """
                class Huge:
                    def _repr_png_(self):
                        return b'\\x89PNG' + bytes(50 << 20)
                    def __repr__(self):
                        return 'Huge()'
                display(Huge())
                print('still here')""";
        Api.Reply r = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
        assertThat(r.body().length()).isLessThan(64 * 1024);
        Map<String, Object> e = r.json();
        assertThat(e).containsEntry("status", "ok").containsEntry("truncated", true).containsEntry("stdout",
                "still here\n");
        Map<String, Object> display = outputs(e).get(0);
        assertThat(display).containsEntry("output_type", "display_data").containsEntry("truncated", true);
        assertThat(data(display)).isEqualTo(Map.of("text/plain", "Huge()"));

        Api.Reply stream = alice.send("POST", "/v1/sessions/" + id + "/executions", Map.of("code", "display(Huge())"),
                SSE);
        assertThat(stream.body().length()).isLessThan(64 * 1024);
        assertThat(stream.body()).contains("event: display\ndata: {\"data\":{\"text/plain\":\"Huge()\"},"
                + "\"metadata\":{},\"truncated\":true}");
    }
}
