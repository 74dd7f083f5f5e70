package io.tether.server.mcp;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.server.Api;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /mcp} against a real server on loopback with real Python sessions, driven by the
 * MCP Java SDK's own client.
 */
class McpEndpointTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static String aliceToken;
    static String bobToken;
    static Api alice;

    private static final java.util.concurrent.Executor CALLERS =
            java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory());

    private final List<McpSyncClient> clients = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of());
        TokenStore tokens = TokenStore.open(dataDir);
        aliceToken = tokens.create("alice", false).token();
        bobToken = tokens.create("bob", false).token();
        alice = new Api(server.url(), aliceToken);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeClients() {
        clients.forEach(McpSyncClient::closeGracefully);
    }

    /** A client whose requests the test can see: their bodies and their MCP session header. */
    private static final class Seen {
        final List<String> bodies = new CopyOnWriteArrayList<>();
        final AtomicReference<String> mcpSession = new AtomicReference<>();
    }

    private McpSyncClient client(String token) {
        return client(token, new Seen(), null);
    }

    private McpSyncClient client(String token, Seen seen, List<McpSchema.ProgressNotification> progress) {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(server.url())
                .endpoint("/mcp")
                .httpRequestCustomizer((builder, method, uri, body, context) -> {
                    builder.header("Authorization", "Bearer " + token);
                    if (body != null) {
                        seen.bodies.add(body);
                    }
                    builder.copy().build().headers().firstValue("mcp-session-id").ifPresent(seen.mcpSession::set);
                })
                .build();
        McpClient.SyncSpec spec = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(60));
        if (progress != null) {
            spec.progressConsumer(progress::add);
        }
        McpSyncClient c = spec.build();
        clients.add(c);
        c.initialize();
        return c;
    }

    private static CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
        return c.callTool(new CallToolRequest(tool, args));
    }

    private static String text(CallToolResult r) {
        return r.content().stream().filter(TextContent.class::isInstance).map(x -> ((TextContent) x).text())
                .collect(Collectors.joining("\n"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> structured(CallToolResult r) {
        return (Map<String, Object>) r.structuredContent();
    }

    @Test
    @SuppressWarnings("unchecked")
    void listsItsEightToolsEachWithAnInputSchema() {
        McpSyncClient c = client(aliceToken);
        List<McpSchema.Tool> tools = c.listTools().tools();
        assertThat(tools).extracting(McpSchema.Tool::name).containsExactlyInAnyOrder("execute", "create_session",
                "end_session", "list_sessions", "interrupt", "list_files", "read_file", "write_file");
        McpSchema.Tool execute = tools.stream().filter(t -> t.name().equals("execute")).findFirst().orElseThrow();
        assertThat((Map<String, Object>) execute.inputSchema().get("properties")).containsKeys("code", "session", "runtime",
                "timeout", "stdin");
        assertThat((List<Object>) execute.inputSchema().get("required")).containsExactly("code");
        assertThat(execute.description()).contains("idle");
    }

    @Test
    void theAutomaticSessionKeepsStateBetweenCalls() {
        McpSyncClient c = client(aliceToken);
        CallToolResult first = call(c, "execute", Map.of("code", "x = 41"));
        assertThat(first.isError()).as(text(first)).isFalse();
        CallToolResult second = call(c, "execute", Map.of("code", "x + 1"));
        assertThat(second.isError()).as(text(second)).isFalse();
        assertThat(structured(second).get("result")).isEqualTo("42");
        assertThat(text(second)).contains("42");
        assertThat(structured(second).get("session")).isEqualTo(structured(first).get("session"));
    }

    @Test
    void executeReadsItsStdinArgumentAndWithoutItInputRaisesEofError() {
        McpSyncClient c = client(aliceToken);
        CallToolResult read = call(c, "execute", Map.of("code", "input('a? ') + '|' + input()", "stdin", "one\ntwo"));
        assertThat(read.isError()).as(text(read)).isFalse();
        assertThat(text(read)).contains("'one|two'");
        CallToolResult none = call(c, "execute", Map.of("code", "input()"));
        assertThat(text(none)).contains("EOFError").contains("stdin");
    }

    @Test
    void twoMcpSessionsDoNotShareState() {
        McpSyncClient one = client(aliceToken);
        McpSyncClient two = client(aliceToken);
        CallToolResult set = call(one, "execute", Map.of("code", "only_here = 1"));
        CallToolResult read = call(two, "execute", Map.of("code", "only_here"));
        assertThat(read.isError()).isTrue();
        assertThat(text(read)).contains("NameError");
        assertThat(structured(read).get("session")).isNotEqualTo(structured(set).get("session"));
    }

    @Test
    void deletingTheMcpSessionEndsItsAutomaticSession() {
        McpSyncClient c = client(aliceToken);
        String session = (String) structured(call(c, "execute", Map.of("code", "y = 1"))).get("session");
        assertThat(alice.get("/v1/sessions/" + session).json().get("status")).isEqualTo("active");
        c.closeGracefully(); // sends DELETE /mcp
        eventually(Duration.ofSeconds(10), "the automatic session ended",
                () -> !"active".equals(alice.get("/v1/sessions/" + session).json().get("status")));
        assertThat(alice.get("/v1/sessions/" + session).json().get("end_reason")).isEqualTo("mcp_session_ended");
    }

    @Test
    void aWrongTokenIsRefused() throws Exception {
        assertThatThrownBy(() -> client("not-a-token")).isInstanceOf(RuntimeException.class);
        Reply r = mcpPost("not-a-token", Map.of("jsonrpc", "2.0", "id", 1,
                "method", "ping"), Map.of("Accept", "application/json, text/event-stream"));
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.code()).isEqualTo("unauthorized");
        Reply none = mcpPost(null, Map.of("jsonrpc", "2.0", "id", 1,
                "method", "ping"), Map.of("Accept", "application/json, text/event-stream"));
        assertThat(none.status()).isEqualTo(401);
    }

    @Test
    void anotherOwnersMcpSessionIdIsRefusedLikeAnUnknownOne() throws Exception {
        Seen seen = new Seen();
        McpSyncClient a = client(aliceToken, seen, null);
        call(a, "execute", Map.of("code", "mine = 1"));
        Map<String, String> headers = Map.of("Content-Type", "application/json",
                "Accept", "application/json, text/event-stream", "Mcp-Session-Id", seen.mcpSession.get(),
                "MCP-Protocol-Version", "2025-11-25");
        Map<String, Object> list = Map.of("jsonrpc", "2.0", "id", 9, "method", "tools/list");
        Reply stolen = mcpPost(bobToken, list, headers);
        assertThat(stolen.status()).isEqualTo(404);
        assertThat(stolen.code()).isEqualTo("session_not_found");
        Map<String, String> unknown = new java.util.HashMap<>(headers);
        unknown.put("Mcp-Session-Id", "no-such-session");
        Reply none = mcpPost(aliceToken, list, unknown);
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.code()).isEqualTo("session_not_found");
        assertThat(none.body()).doesNotContain("stackTrace");
        assertThat(call(a, "execute", Map.of("code", "mine")).isError()).isFalse();
    }

    @Test
    void aBodyThatIsNotJsonIsAProblemWithoutAStackTrace() throws Exception {
        Reply r = mcpPost(aliceToken, "{not json", Map.of("Content-Type", "application/json",
                "Accept", "application/json, text/event-stream"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.code()).isEqualTo("invalid_request");
        Reply type = mcpPost(aliceToken, "{}", Map.of("Content-Type", "text/plain",
                "Accept", "application/json, text/event-stream"));
        assertThat(type.status()).isEqualTo(415);
        assertThat(type.body()).doesNotContain("stackTrace");
    }

    @Test
    void aForeignOriginIsRefused() throws Exception {
        Reply r = mcpPost(aliceToken, Map.of("jsonrpc", "2.0", "id", 1, "method", "ping"),
                Map.of("Accept", "application/json, text/event-stream", "Origin", "http://evil.example"));
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.code()).isEqualTo("forbidden");
    }

    @Test
    void anotherOwnersHandleIsAToolErrorAndLeavesTheSessionAlone() {
        McpSyncClient a = client(aliceToken);
        McpSyncClient b = client(bobToken);
        String handle = (String) structured(call(a, "execute", Map.of("code", "secret = 'alice'"))).get("session");
        CallToolResult stolen = call(b, "execute", Map.of("code", "secret", "session", handle));
        assertThat(stolen.isError()).isTrue();
        assertThat(text(stolen)).contains("no session with handle").doesNotContain("alice'");
        CallToolResult end = call(b, "end_session", Map.of("session", handle));
        assertThat(end.isError()).isTrue();
        for (String tool : List.of("interrupt", "list_files")) {
            CallToolResult r = call(b, tool, Map.of("session", handle));
            assertThat(r.isError()).as(tool).isTrue();
            assertThat(text(r)).as(tool).contains("no session with handle");
        }
        assertThat(call(b, "write_file", Map.of("session", handle, "name", "planted.txt", "content", "x")).isError())
                .isTrue();
        assertThat(text(call(b, "list_sessions", Map.of()))).doesNotContain(handle);
        assertThat(text(call(a, "list_files", Map.of("session", handle)))).doesNotContain("planted.txt");
        assertThat(structured(call(a, "execute", Map.of("code", "secret", "session", handle))).get("result"))
                .isEqualTo("'alice'");
    }

    @Test
    void handlesWorkAcrossMcpSessionsAndRest() {
        McpSyncClient a = client(aliceToken);
        String handle = (String) structured(call(a, "create_session", Map.of())).get("session");
        call(a, "execute", Map.of("code", "z = 7", "session", handle));
        McpSyncClient other = client(aliceToken);
        assertThat(structured(call(other, "execute", Map.of("code", "z * 6", "session", handle))).get("result"))
                .isEqualTo("42");
        Api.Reply rest = alice.post("/v1/sessions/" + handle + "/executions", Map.of("code", "z"));
        assertThat(rest.json().get("result")).isNotNull();
        CallToolResult ended = call(a, "end_session", Map.of("session", handle));
        assertThat(ended.isError()).isFalse();
        CallToolResult after = call(other, "execute", Map.of("code", "z", "session", handle));
        assertThat(after.isError()).isTrue();
        assertThat(text(after)).contains("has ended");
    }

    @Test
    void badInputIsAClearErrorAndChangesNothing() {
        McpSyncClient c = client(aliceToken);
        int before = activeSessions();
        assertThatThrownBy(() -> call(c, "no_such_tool", Map.of())).isInstanceOfSatisfying(McpError.class, e -> {
            assertThat(e.getJsonRpcError().code()).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
            assertThat(String.valueOf(e.getJsonRpcError().data())).contains("no_such_tool");
        });
        CallToolResult wrongType = call(c, "execute", Map.of("code", 5));
        assertThat(wrongType.isError()).isTrue();
        assertThat(text(wrongType)).contains("code");
        CallToolResult missing = call(c, "execute", Map.of());
        assertThat(missing.isError()).isTrue();
        assertThat(text(missing)).contains("code");
        CallToolResult noSuchSession = call(c, "execute", Map.of("code", "1", "session", "nope"));
        assertThat(noSuchSession.isError()).isTrue();
        assertThat(text(noSuchSession)).contains("no session with handle 'nope'");
        CallToolResult noAutomatic = call(c, "list_files", Map.of());
        assertThat(noAutomatic.isError()).isTrue();
        assertThat(text(noAutomatic)).contains("no session");
        assertThat(activeSessions()).isEqualTo(before);
    }

    @Test
    void filesWrittenByOneToolAreReadByTheCodeAndBack() {
        McpSyncClient c = client(aliceToken);
        call(c, "execute", Map.of("code", "1"));
        CallToolResult wrote = call(c, "write_file", Map.of("name", "data/in.txt", "content", "hello"));
        assertThat(wrote.isError()).as(text(wrote)).isFalse();
        call(c, "execute", Map.of("code", "open('out.txt', 'w').write(open('data/in.txt').read().upper())\n"
                + "import os\nos.symlink('/etc', 'etc')"));
        assertThat(text(call(c, "list_files", Map.of()))).contains("data/in.txt").contains("out.txt")
                .contains("etc (symlink)");
        CallToolResult read = call(c, "read_file", Map.of("name", "out.txt"));
        assertThat(text(read)).isEqualTo("HELLO");
        CallToolResult escape = call(c, "read_file", Map.of("name", "../secret"));
        assertThat(escape.isError()).isTrue();
        CallToolResult throughLink = call(c, "read_file", Map.of("name", "etc/hostname"));
        assertThat(throughLink.isError()).isTrue();
        assertThat(text(throughLink)).contains("symbolic link");
    }

    @Test
    void aPlottedFigureIsImageContentInOrderWithTheText() throws Exception {
        McpSyncClient c = client(aliceToken);
        CallToolResult r = call(c, "execute", Map.of("code", String.join("\n",
                "import matplotlib.pyplot as plt",
                "print('before', flush=True)",
                "plt.figure(figsize=(2, 1), dpi=100)",
                "plt.plot([1, 2])",
                "plt.show()",
                "print('after')")));
        assertThat(r.isError()).as(text(r)).isFalse();
        List<McpSchema.Content> content = r.content();
        assertThat(content.get(0)).isEqualTo(TextContent.builder("before\nafter\n").build());
        McpSchema.ImageContent image = (McpSchema.ImageContent) content.get(1);
        assertThat(image.mimeType()).isEqualTo("image/png");
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(
                java.util.Base64.getDecoder().decode(image.data())));
        assertThat(png.getWidth()).isEqualTo(200);
        assertThat(png.getHeight()).isEqualTo(100);
    }

    @Test
    void longOutputIsCutWithANote() {
        McpSyncClient c = client(aliceToken);
        CallToolResult r = call(c, "execute", Map.of("code", "print('x' * 50000)"));
        assertThat((String) structured(r).get("stdout")).hasSizeLessThan(21_000).contains("more characters cut");
    }

    @Test
    void cancellingAnExecutionInterruptsItWithinASecond() throws Exception {
        Seen seen = new Seen();
        McpSyncClient c = client(aliceToken, seen, null);
        String handle = (String) structured(call(c, "create_session", Map.of())).get("session");
        CompletableFuture<CallToolResult> running = CompletableFuture.supplyAsync(
                () -> call(c, "execute", Map.of("code", "import time; time.sleep(100)", "session", handle)),
                CALLERS); // not the common pool: with one core it has one thread, which the client's own stages need
        eventually(Duration.ofSeconds(30), "the execution runs", () -> ((List<?>) alice
                .get("/v1/sessions/" + handle + "/executions").json().get("items")).stream()
                .anyMatch(e -> "running".equals(((Map<?, ?>) e).get("status"))));
        String call = seen.bodies.stream().filter(b -> b.contains("time.sleep(100)")).findFirst().orElseThrow();
        Object id = Api.JSON.readValue(call, Map.class).get("id");
        assertThat(seen.mcpSession.get()).isNotNull();
        long t0 = System.nanoTime();
        Reply cancel = mcpPost(aliceToken, Map.of("jsonrpc", "2.0", "method", "notifications/cancelled",
                "params", Map.of("requestId", id, "reason", "test")), Map.of(
                "Content-Type", "application/json", "Accept", "application/json, text/event-stream",
                "Mcp-Session-Id", seen.mcpSession.get(),
                "MCP-Protocol-Version", "2025-11-25"));
        assertThat(cancel.status()).as(cancel.body()).isEqualTo(202);
        CallToolResult result = running.get(10, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        assertThat(structured(result).get("status")).isEqualTo("interrupted");
        assertThat(structured(call(c, "execute", Map.of("code", "2 + 2", "session", handle))).get("result"))
                .isEqualTo("4");
    }

    @Test
    void aCancelledExecutionThatWillNotStopLosesItsSession() throws Exception {
        Seen seen = new Seen();
        McpSyncClient c = client(aliceToken, seen, null);
        String handle = (String) structured(call(c, "create_session", Map.of())).get("session");
        // It says it is inside its try block (a file), so the cancel cannot land before it.
        String stubborn = "import time, pathlib\nwhile True:\n    try:\n        pathlib.Path('ready').touch()\n"
                + "        time.sleep(100)\n    except KeyboardInterrupt:\n        pass";
        CompletableFuture<CallToolResult> running = CompletableFuture.supplyAsync(
                () -> call(c, "execute", Map.of("code", stubborn, "session", handle)), CALLERS);
        eventually(Duration.ofSeconds(30), "the code is in its try block",
                () -> alice.get("/v1/sessions/" + handle + "/files").body().contains("ready"));
        String call = seen.bodies.stream().filter(b -> b.contains("KeyboardInterrupt")).findFirst().orElseThrow();
        Object id = Api.JSON.readValue(call, Map.class).get("id");
        mcpPost(aliceToken, Map.of("jsonrpc", "2.0", "method", "notifications/cancelled",
                "params", Map.of("requestId", id)), Map.of("Content-Type", "application/json",
                "Accept", "application/json, text/event-stream", "Mcp-Session-Id", seen.mcpSession.get(),
                "MCP-Protocol-Version", "2025-11-25"));
        CallToolResult result = running.get(30, TimeUnit.SECONDS);
        assertThat(result.isError()).isTrue();
        Map<String, Object> session = alice.get("/v1/sessions/" + handle).json();
        assertThat(session.get("status")).isNotEqualTo("active");
        assertThat(session.get("end_reason")).isEqualTo("execution_cancelled");
    }

    @Test
    void aLongExecutionSendsProgressWithItsOutput() {
        List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
        McpSyncClient c = client(aliceToken, new Seen(), progress);
        CallToolResult r = c.callTool(CallToolRequest.builder("execute")
                .arguments(Map.of("code", "import time\nprint('first', flush=True)\ntime.sleep(5)"))
                .progressToken("p1").build());
        assertThat(r.isError()).as(text(r)).isFalse();
        assertThat(progress).isNotEmpty();
        assertThat(progress).allMatch(p -> "p1".equals(p.progressToken()));
        assertThat(progress.stream().map(McpSchema.ProgressNotification::message).collect(Collectors.joining()))
                .contains("first");
    }

    /** An answer of /mcp; not checked against docs/openapi.json, which describes the REST API only. */
    @Test
    void aSessionsFilesAreResourcesOfItsOwnerOnly() {
        McpSyncClient a = client(aliceToken);
        String handle = (String) structured(call(a, "create_session", Map.of())).get("session");
        call(a, "execute", Map.of("session", handle, "code",
                "open('notes.txt', 'w').write('héllo')\nopen('raw.bin', 'wb').write(bytes([0, 255, 1]))"));
        assertThat(a.listResourceTemplates().resourceTemplates()).extracting(McpSchema.ResourceTemplate::uriTemplate)
                .containsExactly("tether://sessions/{id}/files/{name}");
        String base = "tether://sessions/" + handle + "/files/";
        McpSchema.ResourceContents text = a.readResource(new McpSchema.ReadResourceRequest(base + "notes.txt"))
                .contents().get(0);
        assertThat(((McpSchema.TextResourceContents) text).text()).isEqualTo("héllo");
        McpSchema.ResourceContents blob = a.readResource(new McpSchema.ReadResourceRequest(base + "raw.bin"))
                .contents().get(0);
        assertThat(java.util.Base64.getDecoder().decode(((McpSchema.BlobResourceContents) blob).blob()))
                .containsExactly(0, 255, 1);
        McpSyncClient b = client(bobToken);
        assertThatThrownBy(() -> b.readResource(new McpSchema.ReadResourceRequest(base + "notes.txt")))
                .isInstanceOf(McpError.class).hasMessageContaining("no session with handle");
        assertThatThrownBy(() -> a.readResource(new McpSchema.ReadResourceRequest(base + "missing.txt")))
                .isInstanceOf(McpError.class).hasMessageContaining("no file missing.txt");
    }

    private record Reply(int status, String contentType, String body) {
        String code() {
            assertThat(contentType).as(body).isEqualTo("application/problem+json");
            try {
                return (String) Api.JSON.readValue(body, Map.class).get("code");
            } catch (java.io.IOException e) {
                throw new AssertionError(body, e);
            }
        }
    }

    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

    /** A POST to /mcp as the token (none when null), for what the SDK's client will not send. */
    private static Reply mcpPost(String token, Object body, Map<String, String> headers) throws Exception {
        byte[] bytes = body instanceof String text ? text.getBytes(java.nio.charset.StandardCharsets.UTF_8)
                : Api.JSON.writeValueAsBytes(body);
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/mcp"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        headers.forEach(request::header);
        var r = HTTP.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.headers().firstValue("content-type").orElse(null), r.body());
    }

    private static int activeSessions() {
        return ((List<?>) alice.get("/v1/sessions?status=active").json().get("items")).size();
    }
}
