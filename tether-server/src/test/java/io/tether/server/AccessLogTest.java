package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log (setting {@code access_log}) as a real server writes it through slf4j-simple,
 * which prints to the {@code System.err} of the moment: so the test swaps that stream.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AccessLogTest {
    private static final String LOGGER = "io.tether.server.access";

    @TempDir
    Path dataDir;

    /**
     * The access-log lines {@code call} made the server print. The line is written as the
     * request finishes, which may be just after the client has the whole response: so this
     * waits up to {@code wait} for a first line, then a moment for any further one.
     */
    private static List<String> accessLines(Supplier<Api.Reply> call, Duration wait) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            call.get();
            long deadline = System.nanoTime() + wait.toNanos();
            while (lines(captured).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10); // the server thread writes the line after the response went out
            }
            Thread.sleep(100); // a second line would come as soon
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        } finally {
            System.setErr(original);
        }
        return lines(captured);
    }

    private static List<String> accessLines(Supplier<Api.Reply> call) {
        return accessLines(call, Duration.ofSeconds(5));
    }

    private static List<String> lines(ByteArrayOutputStream captured) {
        synchronized (captured) {
            return Arrays.stream(captured.toString(StandardCharsets.UTF_8).split("\n"))
                    .filter(l -> l.contains(LOGGER)).toList();
        }
    }

    @Test
    void eachRequestLogsOneLineWithRouteStatusOwnerAndSessionButNoToken() {
        try (TetherServer server = Api.start(dataDir, Map.of("runtimes", "", "python_pool_min_idle", "0",
                "access_log", "true"))) {
            String token = TokenStore.open(dataDir).create("alice", false).token();
            Api alice = new Api(server.url(), token);
            Api.Reply[] created = new Api.Reply[1];
            // captured too: its line is written after the answer went out, and must not land in the next capture
            assertThat(accessLines(() -> created[0] = alice.post("/v1/sessions", Map.of()))).hasSize(1);
            String id = created[0].header("Tether-Session");
            assertThat(id).isNotBlank();

            List<String> got = accessLines(() -> alice.get("/v1/sessions/" + id + "?limit=7"));
            assertThat(got).hasSize(1);
            assertThat(got.get(0)).contains(" INFO ", "GET /v1/sessions/{id} 200 ", "owner=alice", "session=" + id)
                    .containsPattern(" \\d+\\.\\dms ").doesNotContain(token).doesNotContain("limit");

            List<String> create = accessLines(() -> alice.post("/v1/sessions", Map.of()));
            assertThat(create).singleElement().asString().contains("POST /v1/sessions 201 ", "owner=alice")
                    .doesNotContain("session=-");

            String wrong = "tk_not_a_real_token_" + token;
            List<String> refused = accessLines(() -> alice.as(wrong).get("/v1/sessions/" + id));
            assertThat(refused).singleElement().asString().contains("GET /v1/sessions/{id} 401 ", "owner=-", "session=-")
                    .doesNotContain(wrong).doesNotContain(token);

            List<String> unmatched = accessLines(() -> alice.get("/v1/nothing/" + token));
            assertThat(unmatched).singleElement().asString().contains("GET unmatched 404 ", "session=-")
                    .doesNotContain(token);
        }
    }

    @Test
    void accessLogFalseLogsNothing() {
        try (TetherServer server = Api.start(dataDir, Map.of("runtimes", "", "python_pool_min_idle", "0",
                "access_log", "false"))) {
            Api alice = new Api(server.url(), TokenStore.open(dataDir).create("alice", false).token());
            List<String> got = accessLines(() -> alice.post("/v1/sessions", Map.of()), Duration.ofMillis(500));
            assertThat(got).isEmpty();
        }
    }
}
