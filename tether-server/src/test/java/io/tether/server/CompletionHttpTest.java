package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Completion and inspection over real HTTP on loopback, from the live namespaces of real
 * Python and JShell workers; every answer is held to docs/openapi.json by {@link Api}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CompletionHttpTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static Api alice;
    static Api bob;

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of("runtimes", "python,jshell"));
        TokenStore tokens = TokenStore.open(dataDir);
        alice = new Api(server.url(), tokens.create("alice", false).token());
        bob = new Api(server.url(), tokens.create("bob", false).token());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static String session(String runtime) {
        Api.Reply r = alice.post("/v1/sessions", Map.of("runtime", runtime));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return (String) r.json().get("id");
    }

    static void execute(String id, String code) {
        Api.Reply r = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
        assertThat(r.json()).as(r.body()).containsEntry("status", "ok");
    }

    static Map<String, Object> ask(Api api, String id, String what, String code, Object cursor) {
        Map<String, Object> body = new HashMap<>(Map.of("code", code));
        if (cursor != null) {
            body.put("cursor", cursor);
        }
        Api.Reply r = api.post("/v1/sessions/" + id + "/" + what, body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    @SuppressWarnings("unchecked")
    static List<String> matches(Map<String, Object> completion) {
        return (List<String>) completion.get("matches");
    }

    @Test
    void pythonCompletesTheAttributesOfAModuleTheCodeImports() {
        String id = session("python");
        Map<String, Object> c = ask(alice, id, "complete", "import os; os.pa", null);
        assertThat(matches(c)).contains("path", "pardir");
        assertThat(c).containsEntry("cursor_start", 14).containsEntry("cursor_end", 16);
    }

    @Test
    void aVariableFromAnEarlierExecutionCompletesAtACursorInTheMiddle() {
        String id = session("python");
        execute(id, "temperature_readings = [20.5, 21.0]");
        String code = "print(temperature_r)";
        Map<String, Object> c = ask(alice, id, "complete", code, code.indexOf(')'));
        assertThat(c).containsEntry("matches", List.of("temperature_readings"))
                .containsEntry("cursor_start", 6).containsEntry("cursor_end", 19);
        assertThat(matches(ask(alice, id, "complete", "temperature_readings.app", null)))
                .containsExactly("append");
    }

    @Test
    void inspectingLenGivesItsSignatureAndDocstring() {
        String id = session("python");
        Map<String, Object> i = ask(alice, id, "inspect", "len(", null);
        assertThat(i).containsEntry("found", true);
        assertThat((String) ((Map<?, ?>) i.get("data")).get("text/plain")).contains("len(obj, /)")
                .contains("Return the number of items in a container.");
        assertThat(ask(alice, id, "inspect", "no_such_name", 2)).containsEntry("found", false)
                .containsEntry("data", Map.of());
    }

    @Test
    void jshellCompletesTheMethodsOfALiveVariable() {
        String id = session("jshell");
        execute(id, "String greeting = \"hello\";");
        Map<String, Object> c = ask(alice, id, "complete", "greeting.toUpp", null);
        assertThat(matches(c)).contains("toUpperCase(");
        assertThat(c).containsEntry("cursor_start", 9).containsEntry("cursor_end", 14);
        Map<String, Object> i = ask(alice, id, "inspect", "greeting.toUpperCase(", null);
        assertThat(i).containsEntry("found", true);
        assertThat((String) ((Map<?, ?>) i.get("data")).get("text/plain")).contains("toUpperCase()");
    }

    @Test
    void anotherOwnersSessionDoesNotExist() {
        String id = session("python");
        for (String what : List.of("complete", "inspect")) {
            Api.Reply r = bob.post("/v1/sessions/" + id + "/" + what, Map.of("code", "o", "cursor", 1));
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.code()).isEqualTo("session_not_found");
        }
    }

    @Test
    void aCursorOutsideTheCodeOrABadBodyIsRefused() {
        String id = session("python");
        String code = "naïve";
        for (Map<String, Object> body : List.<Map<String, Object>>of(Map.of("code", code, "cursor", -1),
                Map.of("code", code, "cursor", 6), Map.of("code", code, "cursor", 1.5),
                Map.of("code", code, "cursor", "1"), Map.of("cursor", 1), Map.of("code", code, "line", 1))) {
            for (String what : List.of("complete", "inspect")) {
                Api.Reply r = alice.post("/v1/sessions/" + id + "/" + what, body);
                assertThat(r.status()).as("%s %s", what, body).isEqualTo(400);
                assertThat(r.code()).isEqualTo("invalid_request");
                assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            }
        }
        assertThat(alice.post("/v1/sessions/" + id + "/complete", Map.of("code", code, "cursor", 5)).status())
                .as("the end of the code, in code points").isEqualTo(200);
        String plain = session("none");
        assertThat(alice.post("/v1/sessions/" + plain + "/complete", Map.of("code", "x")).code())
                .isEqualTo("invalid_request");
    }

    @Test
    void whileCodeRunsTheSessionAnswersBusyAtOnce() throws Exception {
        String id = session("python");
        execute(id, "import time");
        CompletableFuture<Api.Reply> running = CompletableFuture.supplyAsync(
                () -> alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "time.sleep(30)")));
        io.tether.testing.Eventually.eventually(java.time.Duration.ofSeconds(20), "execution 2 runs",
                () -> "running".equals(alice.get("/v1/sessions/" + id + "/executions/2").json().get("status")));
        long start = System.nanoTime();
        Api.Reply busy = alice.post("/v1/sessions/" + id + "/complete", Map.of("code", "ti"));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.code()).isEqualTo("session_busy");
        alice.post("/v1/sessions/" + id + "/interrupt", null);
        assertThat(running.get(30, TimeUnit.SECONDS).json()).containsEntry("status", "interrupted");
        assertThat(matches(ask(alice, id, "complete", "ti", null))).contains("time");
    }
}
