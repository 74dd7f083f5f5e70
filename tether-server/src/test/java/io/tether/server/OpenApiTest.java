package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.server.auth.TokenStore;
import io.tether.server.http.OpenApiContract;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/openapi.json against the server: the same routes as its table, served without a token,
 * and the document's schemas catching an answer that drifted (the other server tests check
 * every answer they get through {@link Api}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenApiTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static Api alice;

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of());
        alice = new Api(server.url(), TokenStore.open(dataDir).create("alice", false).token());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theDocumentListsExactlyTheRoutesOfTheTable() {
        assertThat(OpenApiContract.documentRoutes()).isEqualTo(OpenApiContract.tableRoutes());
        assertThat(OpenApiContract.tableRoutes()).contains("GET /v1/sessions/{id}/files/{path}", "GET /v1/openapi.json",
                "GET /v1/sessions/{id}/executions");
        assertThat(OpenApiContract.opennessMismatches()).isEmpty();
    }

    @Test
    void everyResponseObjectRefusesFieldsTheDocumentDoesNotName() {
        JsonNode schemas = OpenApiContract.document().at("/components/schemas");
        List<String> open = new ArrayList<>();
        schemas.fields().forEachRemaining(e -> {
            JsonNode s = e.getValue();
            boolean free = e.getKey().equals("MimeBundle"); // a MIME bundle's keys are the value's media types
            if (!free && "object".equals(s.path("type").asText()) && !s.has("additionalProperties")) {
                open.add(e.getKey());
            }
        });
        assertThat(open).as("object schemas without additionalProperties").isEmpty();
    }

    @Test
    void theDocumentIsServedWithoutATokenAndIsTheOneInDocs() throws Exception {
        Api anonymous = alice.as(null);
        Api.Reply r = anonymous.get("/v1/openapi.json");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        Path committed = Path.of(System.getProperty("user.dir")).resolve("../docs/openapi.json");
        assertThat(r.body()).isEqualTo(Files.readString(committed));
        assertThat(r.json()).containsEntry("openapi", "3.1.0");
        assertThat(anonymous.send("POST", "/v1/openapi.json", "{}", Map.of()).status()).isEqualTo(405);
    }

    @Test
    void theDocumentIsStillSubjectToTheHostCheck() throws Exception {
        try (Socket s = Api.raw(server.port(), "GET /v1/openapi.json HTTP/1.1\r\nHost: evil.example\r\n"
                + "Connection: close\r\n\r\n")) {
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400").contains("invalid_request").doesNotContain("\"openapi\"");
        }
    }

    @Test
    void anAnswerWithAFieldTheDocumentLacksIsAViolation() {
        String id = (String) alice.post("/v1/sessions", Map.of()).json().get("id");
        Api.Reply real = alice.get("/v1/sessions/" + id);
        Map<String, String> json = Map.of("content-type", "application/json");
        assertThat(OpenApiContract.violations("GET", "/v1/sessions/" + id, 200, json, real.body())).isEmpty();
        String drifted = real.body().replaceFirst("\\{", "{\"surprise\":1,");
        assertThat(OpenApiContract.violations("GET", "/v1/sessions/" + id, 200, json, drifted))
                .singleElement().asString().contains("surprise");
        assertThat(OpenApiContract.violations("GET", "/v1/sessions/" + id, 418, json, real.body()))
                .singleElement().asString().contains("status 418 is not documented");
        String wrongCode = "{\"type\":\"https://tether.dev/problems/internal\",\"title\":\"Internal error\",\"status\":404,"
                + "\"code\":\"internal\",\"detail\":\"x\"}";
        assertThat(OpenApiContract.violations("GET", "/v1/sessions/" + id, 404,
                Map.of("content-type", "application/problem+json"), wrongCode))
                .isNotEmpty();
    }

    @Test
    void eachEventOfAnExecutionStreamFitsItsSchema() {
        String id = (String) alice.post("/v1/sessions", Map.of("runtime", "python")).json().get("id");
        List<String> names = new ArrayList<>();
        for (String code : List.of("import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7",
                "print('before')\n1 / 0")) {
            // Api checks each event's data against the document; the names show every event was there
            Api.Reply r = alice.send("POST", "/v1/sessions/" + id + "/executions", Map.of("code", code),
                    Map.of("Accept", "text/event-stream"));
            assertThat(r.header("content-type")).startsWith("text/event-stream");
            assertThat(OpenApiContract.violations("POST", "/v1/sessions/" + id + "/executions", 200,
                    Map.of("content-type", r.header("content-type"), "tether-execution", r.header("tether-execution")),
                    r.body())).isEmpty();
            OpenApiContract.events(r.body()).forEach(e -> names.add(e[0]));
        }
        assertThat(names).containsExactly("start", "stdout", "stderr", "result", "end",
                "start", "stdout", "error", "end");
        String drifted = "event: start\ndata: {\"session_id\":\"" + id + "\",\"number\":1,\"extra\":true}\n\n"
                + "event: progress\ndata: {}\n\n";
        assertThat(OpenApiContract.violations("POST", "/v1/sessions/" + id + "/executions", 200,
                Map.of("content-type", "text/event-stream; charset=utf-8", "tether-execution", "1"), drifted))
                .hasSize(2);
        assertThat(OpenApiContract.violations("POST", "/v1/sessions/" + id + "/executions", 200,
                Map.of("content-type", "text/event-stream; charset=utf-8"), ""))
                .containsExactly("header Tether-Execution is missing");
    }
}
