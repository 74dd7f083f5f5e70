package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or careless client sends at the HTTP door: ambiguous JSON, junk paths and
 * methods, runtimes that are not there, requests Jetty itself refuses. Each is a
 * problem+json answer with a stable code, and none of it changes anything or grows the
 * server's memory.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpHardeningTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static Api admin;
    static Api alice;

    @BeforeAll
    static void start() throws Exception {
        server = Api.start(dataDir, Map.of("python_pool_min_idle", "0"));
        admin = new Api(server.url(), Files.readString(TokenStore.open(dataDir).adminTokenFile()).trim());
        alice = new Api(server.url(), TokenStore.open(dataDir).create("alice", false).token());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static long created() {
        Api.Reply stats = admin.get("/v1/stats");
        // (it once came back without the figure in a full run: say what the server answered)
        assertThat(stats.json()).as("GET /v1/stats %d %s", stats.status(), stats.body()).containsKey("total_created");
        return ((Number) stats.json().get("total_created")).longValue();
    }

    private static void refused(Api.Reply r, String detail) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.code()).isEqualTo("invalid_request");
        assertThat((String) r.json().get("detail")).containsIgnoringCase(detail);
    }

    @Test
    void aBodyIsExactlyOneJsonObjectWithoutDuplicateKeys() {
        long before = created();
        refused(alice.post("/v1/execute", "{\"code\":\"1\"}{\"code\":\"2\"}"), "after the JSON object");
        refused(alice.post("/v1/sessions", "{\"metadata\":{}} {\"x\":1}"), "after the JSON object");
        refused(alice.post("/v1/sessions", "{\"metadata\":{}}\u0000"), "after the JSON object");
        refused(alice.post("/v1/sessions", "{\"metadata\":{}}\u0000\u0000"), "after the JSON object");
        byte[] json = "{\"metadata\":{}}".getBytes(StandardCharsets.UTF_8);
        byte[] bom = new byte[json.length + 3];
        bom[0] = (byte) 0xEF;
        bom[1] = (byte) 0xBB;
        bom[2] = (byte) 0xBF;
        System.arraycopy(json, 0, bom, 3, json.length);
        refused(alice.post("/v1/sessions", bom), "byte order mark");
        refused(alice.post("/v1/execute", "{\"code\":\"1\",\"code\":\"2\"}"), "duplicate field 'code'");
        refused(alice.post("/v1/sessions", "{\"metadata\":{\"a\":1,\"a\":2}}"), "duplicate field 'a'");
        assertThat(created()).isEqualTo(before);

        Api.Reply spaced = alice.post("/v1/sessions", " {\"metadata\":{}}\r\n\t ");
        assertThat(spaced.status()).as(spaced.body()).isEqualTo(201);
    }

    @Test
    void aRuntimeThatIsNotConfiguredIsABadRequestNotARetryableOutage() {
        long before = created();
        refused(alice.post("/v1/sessions", Map.of("runtime", "cobol")), "no runtime 'cobol'");
        refused(alice.post("/v1/sessions", Map.of("runtime", "jshell")), "no runtime 'jshell'");
        refused(alice.post("/v1/execute", Map.of("code", "1", "runtime", "cobol")), "no runtime 'cobol'");
        assertThat(created()).isEqualTo(before);
    }

    @Test
    void metricsAreForAdminsOnly() {
        Api.Reply mine = alice.get("/metrics");
        assertThat(mine.status()).isEqualTo(403);
        assertThat(mine.code()).isEqualTo("forbidden");
        assertThat(mine.body()).doesNotContain("tether_sessions_active");
        assertThat(new Api(server.url(), null).get("/metrics").code()).isEqualTo("unauthorized");
        Api.Reply all = admin.get("/metrics");
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.body()).contains("tether_sessions_active");
    }

    @Test
    void junkPathsMethodsAndEndReasonsDoNotGrowTheMetrics() {
        for (int i = 0; i < 2_000; i++) {
            Api.Reply r = switch (i % 4) {
                case 0 -> alice.get("/v1/sessions/s" + i + "/bogus" + i);
                case 1 -> alice.get("/bogus" + i + "/x");
                case 2 -> alice.send("BOGUS" + i, "/v1/stats", null, Map.of());
                default -> admin.get("/v1/bogus" + i);
            };
            assertThat(r.status()).as(r.body()).isIn(404, 405);
        }
        for (int i = 0; i < 20; i++) {
            String id = (String) alice.post("/v1/sessions", Map.of()).json().get("id");
            assertThat(alice.send("DELETE", "/v1/sessions/" + id + "?reason=bogus_reason_" + i, null, Map.of())
                    .status()).isEqualTo(200);
        }
        String metrics = admin.get("/metrics").body();
        assertThat(metrics).doesNotContainIgnoringCase("bogus")
                .contains("route=\"unmatched\"").contains("route=\"/v1/stats\"")
                .contains("tether_http_requests_seconds_bucket");
        assertThat(metrics.length()).as("bytes of /metrics").isLessThan(50_000);
    }

    @Test
    void jettysOwnRefusalsAreProblemsToo() throws Exception {
        Api.Reply ambiguous = alice.get("/v1/sessions/x/files/%2e%2e/x");
        assertThat(ambiguous.status()).isEqualTo(400);
        assertThat(ambiguous.code()).isEqualTo("invalid_request");

        String badHeader = rawExchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n");
        assertThat(badHeader).startsWith("HTTP/1.1 400").containsIgnoringCase("content-type: application/problem+json")
                .contains("\"code\":\"invalid_request\"");

        String hugeHeader = rawExchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(20_000)
                + "\r\n\r\n");
        assertThat(hugeHeader).startsWith("HTTP/1.1 431").containsIgnoringCase("content-type: application/problem+json")
                .contains("\"code\":\"invalid_request\"");
    }

    /** Sends one raw request and reads the whole answer (the server closes after an error). */
    private static String rawExchange(String request) throws Exception {
        try (Socket s = Api.raw(server.port(), request)) {
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
