package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import io.tether.server.http.OpenApiContract;
import io.tether.testing.Eventually;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * input() over HTTP with real Python workers: input_request events on a streamed execution
 * answered by {@code POST /v1/sessions/{id}/input}, stdin text on a plain one, EOFError
 * without either, and the timeout and interrupts while the code waits.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InputApiTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static Api alice;
    static Api bob;

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of("sse_keepalive", "100ms", "runtimes", "python,jshell"));
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

    static String newSession() {
        Api.Reply r = alice.post("/v1/sessions", Map.of("runtime", "python"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return (String) r.json().get("id");
    }

    static CompletableFuture<Api.Reply> stream(String id, Map<String, Object> body) {
        return CompletableFuture.supplyAsync(() -> alice.send("POST", "/v1/sessions/" + id + "/executions", body,
                Map.of("Accept", "text/event-stream")));
    }

    /** Answers the session's input request as soon as it waits (409 until then). */
    static void answer(String id, String value) {
        Eventually.eventually(Duration.ofSeconds(30), "the execution waits for input", () -> {
            Api.Reply r = alice.post("/v1/sessions/" + id + "/input", Map.of("value", value));
            if (r.status() == 409) {
                assertThat(r.code()).isEqualTo("no_input_requested");
                return false;
            }
            assertThat(r.status()).as(r.body()).isEqualTo(204);
            return true;
        });
    }

    static List<String[]> events(Api.Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return OpenApiContract.events(r.body());
    }

    @Test
    void inputRoundTripOverServerSentEvents() throws Exception {
        String id = newSession();
        var reply = stream(id, Map.of("code", "print('hi', flush=True)\nname = input('Name? ')\nprint('hello ' + name)"));
        answer(id, "Ada");
        List<String[]> events = events(reply.get(60, TimeUnit.SECONDS));
        assertThat(events).extracting(e -> e[0]).containsExactly("start", "stdout", "input_request", "stdout", "end");
        assertThat(events.get(2)[1]).isEqualTo("{\"prompt\":\"Name? \",\"password\":false}");
        assertThat(events.get(3)[1]).isEqualTo("{\"text\":\"hello Ada\\n\"}");
        assertThat(events.get(4)[1]).contains("\"status\":\"ok\"").contains("\"stdout\":\"hi\\nhello Ada\\n\"");
    }

    @Test
    void jshellSystemInAsksOverServerSentEventsAndReadsStdinText() throws Exception {
        Api.Reply created = alice.post("/v1/sessions", Map.of("runtime", "jshell"));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = (String) created.json().get("id");
        var reply = stream(id, Map.of("code", "System.out.print(\"Name? \");\n"
                + "new Scanner(System.in).nextLine().toUpperCase()"));
        answer(id, "ada");
        List<String[]> events = events(reply.get(60, TimeUnit.SECONDS));
        assertThat(events).extracting(e -> e[0]).containsSubsequence("stdout", "input_request", "end");
        assertThat(events).anySatisfy(e -> assertThat(e).containsExactly("input_request",
                "{\"prompt\":\"\",\"password\":false}"));
        assertThat(events.get(events.size() - 1)[1]).contains("\"status\":\"ok\"").contains("ADA");

        Api.Reply plain = alice.post("/v1/sessions/" + id + "/executions",
                Map.of("code", "new BufferedReader(new InputStreamReader(System.in)).readLine()", "stdin", "line one\n"));
        assertThat(plain.body()).contains("\"application/json\":\"line one\"");
    }

    @Test
    void getpassIsFlaggedPassword() throws Exception {
        String id = newSession();
        var reply = stream(id, Map.of("code", "import getpass\nlen(getpass.getpass('Token: '))"));
        answer(id, "s3cret");
        List<String[]> events = events(reply.get(60, TimeUnit.SECONDS));
        assertThat(events).anySatisfy(e -> assertThat(e).containsExactly("input_request",
                "{\"prompt\":\"Token: \",\"password\":true}"));
        assertThat(events).anySatisfy(e -> assertThat(e[0]).isEqualTo("result"));
        assertThat(events.get(events.size() - 1)[1]).contains("\"text/plain\":\"6\"").doesNotContain("s3cret");
    }

    @Test
    void aPlainExecutionReadsItsStdinTextThenRaisesEofErrorSayingHowToGiveInput() {
        String id = newSession();
        Api.Reply r = alice.post("/v1/sessions/" + id + "/executions",
                Map.of("code", "a = input()\nb = input('b? ')\nprint(a + b)", "stdin", "one\ntwo\n"));
        assertThat(r.json()).as(r.body()).containsEntry("status", "ok").containsEntry("stdout", "b? onetwo\n");

        Api.Reply none = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "input('x? ')"));
        assertThat(none.json()).containsEntry("status", "error");
        @SuppressWarnings("unchecked")
        Map<String, Object> error = (Map<String, Object>) none.json().get("error");
        assertThat(error).containsEntry("name", "EOFError");
        assertThat((String) error.get("value")).contains("\"stdin\"").contains("Accept: text/event-stream")
                .contains("POST /v1/sessions/{id}/input");

        Api.Reply auto = alice.send("POST", "/v1/execute", Map.of("code", "input() * 2", "stdin", "ab"),
                Map.of("Tether-Session", id));
        assertThat(auto.body()).contains("\"text/plain\":\"'abab'\"");
    }

    @Test
    void answeringWhenNothingWaitsIsAClearConflictAndBadAnswersAreRefused() {
        String id = newSession();
        Api.Reply idle = alice.post("/v1/sessions/" + id + "/input", Map.of("value", "x"));
        assertThat(idle.status()).isEqualTo(409);
        assertThat(idle.code()).isEqualTo("no_input_requested");
        assertThat(alice.post("/v1/sessions/" + id + "/input", Map.of("value", "a\nb")).code())
                .isEqualTo("invalid_request");
        assertThat(alice.post("/v1/sessions/" + id + "/input", Map.of()).code()).isEqualTo("invalid_request");
        assertThat(alice.post("/v1/sessions/" + id + "/input", Map.of("value", "x", "other", 1)).code())
                .isEqualTo("invalid_request");
        assertThat(bob.post("/v1/sessions/" + id + "/input", Map.of("value", "x")).code())
                .isEqualTo("session_not_found");
        Api.Reply plain = alice.post("/v1/sessions", Map.of());
        assertThat(alice.post("/v1/sessions/" + plain.json().get("id") + "/input", Map.of("value", "x")).code())
                .isEqualTo("invalid_request");
    }

    @Test
    void theTimeoutKeepsRunningWhileTheCodeWaits() throws Exception {
        String id = newSession();
        var reply = stream(id, Map.of("code", "input('never: ')", "timeout", 1));
        List<String[]> events = events(reply.get(60, TimeUnit.SECONDS));
        assertThat(events).extracting(e -> e[0]).contains("input_request");
        assertThat(events.get(events.size() - 1)[1]).contains("\"status\":\"timeout\"");
        assertThat(alice.post("/v1/sessions/" + id + "/input", Map.of("value", "late")).code())
                .isEqualTo("no_input_requested");
    }

    @Test
    void anInterruptEndsTheWait() throws Exception {
        String id = newSession();
        alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "kept = 5"));
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/v1/sessions/" + id + "/executions"))
                .header("Authorization", "Bearer " + alice.token).header("Accept", "text/event-stream")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"code\": \"input('wait: ')\"}")).build();
        HttpResponse<Stream<String>> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofLines());
        StringBuilder seen = new StringBuilder();
        Iterator<String> lines = r.body().iterator();
        while (lines.hasNext()) {
            String line = lines.next();
            seen.append(line).append('\n');
            if (line.equals("event: input_request")) {
                // It waits now: the interrupt must end the wait.
                assertThat(alice.post("/v1/sessions/" + id + "/interrupt", null).status()).isEqualTo(204);
            }
        }
        assertThat(seen).contains("event: input_request").contains("\"status\":\"interrupted\"");
        assertThat(alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "kept")).body())
                .contains("\"text/plain\":\"5\"");
    }
}
