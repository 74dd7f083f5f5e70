package io.tether.server.cluster;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.tether.server.Api;
import io.tether.server.auth.TokenStore;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real nodes on loopback over one store and one node registry, with real Python
 * workers: any node answers any request, forwarding those about a live session to the node
 * that holds it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ForwardingTest {
    @TempDir
    static Path root;
    static Nodes nodes;

    @BeforeAll
    static void start() {
        nodes = new Nodes(root, 3);
    }

    @AfterAll
    static void stop() {
        if (nodes != null) {
            nodes.close();
        }
    }

    private static String pythonSession(Api api) {
        Api.Reply r = api.post("/v1/sessions", Map.of("runtime", "python"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return (String) r.json().get("id");
    }

    private static Api.Reply run(Api api, String id, String code) {
        return api.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
    }

    @SuppressWarnings("unchecked")
    private static String text(Api.Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, Object> result = (Map<String, Object>) r.json().get("result");
        assertThat(result).as(r.body()).isNotNull();
        return (String) result.get("text/plain");
    }

    @Test
    void aVariableSetThroughOneNodeIsReadThroughEveryOther() {
        Api a = nodes.api(0, nodes.alice);
        String id = pythonSession(a);
        assertThat(a.get("/v1/sessions/" + id).json()).containsEntry("node", "node-a");

        assertThat(run(a, "" + id, "x = 1").status()).isEqualTo(200);
        assertThat(text(run(nodes.api(1, nodes.alice), id, "x + 1"))).isEqualTo("2");
        assertThat(text(run(nodes.api(2, nodes.alice), id, "x = x + 10; x"))).isEqualTo("11");
        assertThat(text(run(a, id, "x"))).isEqualTo("11");
        // the automatic-session route follows its Tether-Session header too
        Api.Reply auto = nodes.api(1, nodes.alice).send("POST", "/v1/execute", Map.of("code", "x * 2"),
                Map.of("Tether-Session", id));
        assertThat(text(auto)).isEqualTo("22");
        // ended through a node that does not hold it: the holder ends it and kills its worker
        Api.Reply ended = nodes.api(2, nodes.alice).send("DELETE", "/v1/sessions/" + id, null, Map.of());
        assertThat(ended.status()).as(ended.body()).isEqualTo(200);
        assertThat(ended.json()).containsEntry("status", "ended");
        assertThat(run(nodes.api(1, nodes.alice), id, "x").code()).isEqualTo("session_ended");
    }

    @Test
    void anEventStreamThroughAForwardingNodeArrivesInOrderAsItIsWritten() throws Exception {
        String id = pythonSession(nodes.api(0, nodes.alice));
        HttpRequest req = HttpRequest.newBuilder(URI.create(nodes.node(1).url() + "/v1/sessions/" + id + "/executions"))
                .header("Authorization", "Bearer " + nodes.alice).header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"code\": \"import time\\nprint('first', flush=True)\\ntime.sleep(2)\\nprint('second')\"}"))
                .timeout(Duration.ofSeconds(60)).build();
        long sent = System.nanoTime();
        TimedEvents timed = TimedEvents.send(req);
        List<String> events = timed.events();
        long firstAt = timed.firstStdoutAt();
        long endAt = timed.endAt();
        List<String> stdout = events.stream().filter(e -> e.startsWith("stdout ")).toList();
        assertThat(String.join("", stdout)).as(events.toString()).containsSubsequence("first", "second");
        assertThat(events.get(events.size() - 1)).startsWith("end ");
        assertThat(firstAt).isPositive();
        // not buffered by the forwarding node: the first line came while the code still slept
        assertThat(TimeUnit.NANOSECONDS.toMillis(endAt - firstAt)).as("ms from first output to end, after %s ms",
                TimeUnit.NANOSECONDS.toMillis(firstAt - sent)).isGreaterThan(1_500);
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyNodeListsAllOfAnOwnersSessions() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Api.Reply r = nodes.api(i, nodes.alice).post("/v1/sessions", Map.of("metadata", Map.of("tag", "listing")));
            ids.add((String) r.json().get("id"));
        }
        ids.add(pythonSession(nodes.api(2, nodes.alice)));
        for (int i = 0; i < 3; i++) {
            Api.Reply list = nodes.api(i, nodes.alice).get("/v1/sessions?status=active&limit=100");
            assertThat(list.status()).as(list.body()).isEqualTo(200);
            List<String> listed = ((List<Map<String, Object>>) list.json().get("items")).stream()
                    .map(s -> (String) s.get("id")).toList();
            assertThat(listed).as("listed by node %d", i).containsAll(ids);
            Api.Reply bobs = nodes.api(i, nodes.bob).get("/v1/sessions?limit=100");
            assertThat(((List<Map<String, Object>>) bobs.json().get("items")).stream().map(s -> (String) s.get("id")))
                    .doesNotContainAnyElementsOf(ids);
        }
        // a plain session read anywhere, changed through any node (it goes to its holder)
        String plain = ids.get(0);
        Api.Reply patched = nodes.api(2, nodes.alice).send("PATCH", "/v1/sessions/" + plain,
                Map.of("data", Map.of("n", 1)), Map.of());
        assertThat(patched.status()).as(patched.body()).isEqualTo(200);
        assertThat(nodes.api(1, nodes.alice).get("/v1/sessions/" + plain).json())
                .containsEntry("data", Map.of("n", 1)).containsEntry("node", "node-a");
    }

    @Test
    void anotherOwnersSessionIsNotFoundOnEveryNode() {
        String id = pythonSession(nodes.api(0, nodes.alice));
        for (int i = 0; i < 3; i++) {
            Api bob = nodes.api(i, nodes.bob);
            assertThat(bob.get("/v1/sessions/" + id).code()).as("node %d", i).isEqualTo("session_not_found");
            assertThat(run(bob, id, "1").code()).as("node %d", i).isEqualTo("session_not_found");
            assertThat(bob.send("DELETE", "/v1/sessions/" + id, null, Map.of()).code()).isEqualTo("session_not_found");
        }
        // and a bad token is refused by the receiving node before anything is forwarded
        assertThat(run(nodes.api(1, "not-a-token"), id, "1").status()).isEqualTo(401);
        assertThat(text(run(nodes.api(1, nodes.alice), id, "'still here'"))).isEqualTo("'still here'");
    }

    /** An MCP client (protocol 2025-11-25, with an MCP session) of node {@code i}, initialized. */
    private static McpSyncClient mcp(int i, String token) {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(nodes.node(i).url())
                .endpoint("/mcp")
                .httpRequestCustomizer((b, method, uri, body, context) -> b.header("Authorization", "Bearer " + token))
                .build();
        McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(60)).build();
        client.initialize();
        return client;
    }

    private static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
        return c.callTool(new McpSchema.CallToolRequest(tool, args));
    }

    private static String text(McpSchema.CallToolResult r) {
        return r.content().stream().filter(McpSchema.TextContent.class::isInstance)
                .map(x -> ((McpSchema.TextContent) x).text()).collect(Collectors.joining("\n"));
    }

    @SuppressWarnings("unchecked")
    private static List<String> activeSessions(Api api) {
        Api.Reply list = api.get("/v1/sessions?status=active&limit=100");
        assertThat(list.status()).as(list.body()).isEqualTo(200);
        return ((List<Map<String, Object>>) list.json().get("items")).stream().map(s -> (String) s.get("id")).sorted()
                .toList();
    }

    @SuppressWarnings("unchecked")
    private static Object structured(McpSchema.CallToolResult r, String key) {
        assertThat(r.isError()).as(text(r)).isFalse();
        return ((Map<String, Object>) r.structuredContent()).get(key);
    }

    @Test
    void anMcpToolCallAboutASessionAnotherNodeHoldsRunsOnThatNode() {
        Api a = nodes.api(0, nodes.alice);
        String id = pythonSession(a);
        assertThat(run(a, id, "x = 1").status()).isEqualTo(200);
        List<String> before = activeSessions(a);
        McpSyncClient b = mcp(1, nodes.alice);
        try {
            assertThat(structured(call(b, "execute", Map.of("code", "x + 1", "session", id)), "result")).isEqualTo("2");
            // state made through node b's MCP endpoint is node a's session's state
            assertThat(call(b, "execute", Map.of("code", "y = x * 10", "session", id)).isError()).isFalse();
            assertThat(text(run(a, id, "y"))).isEqualTo("10");
            // the file tools follow the session too
            assertThat(call(b, "write_file", Map.of("session", id, "name", "in.txt", "content", "héllo")).isError())
                    .isFalse();
            assertThat(text(run(a, id, "open('in.txt').read()"))).isEqualTo("'héllo'");
            assertThat(text(call(b, "read_file", Map.of("session", id, "name", "in.txt")))).contains("héllo");
            // and so do the file resources, the links of output too long for a result among them
            McpSchema.CallToolResult longOutput = call(b, "execute", Map.of("code", "print('y' * 30_000)", "session", id));
            McpSchema.ResourceLink link = longOutput.content().stream().filter(McpSchema.ResourceLink.class::isInstance)
                    .map(McpSchema.ResourceLink.class::cast).findFirst().orElseThrow(() -> new AssertionError(
                            text(longOutput)));
            McpSchema.ReadResourceResult read = b.readResource(new McpSchema.ReadResourceRequest(link.uri()));
            assertThat(((McpSchema.TextResourceContents) read.contents().get(0)).text()).contains("y".repeat(30_000));
            read = b.readResource(new McpSchema.ReadResourceRequest("tether://sessions/" + id + "/files/in.txt"));
            assertThat(((McpSchema.TextResourceContents) read.contents().get(0)).text()).isEqualTo("héllo");
            // no session was made for the calls, on node b or anywhere
            assertThat(activeSessions(a)).isEqualTo(before);
            // another owner's session is no session at all, through node b as anywhere: nothing is forwarded
            McpSyncClient bob = mcp(1, nodes.bob);
            try {
                McpSchema.CallToolResult refused = call(bob, "execute", Map.of("code", "x = 99", "session", id));
                assertThat(refused.isError()).isTrue();
                assertThat(text(refused)).contains("no session with handle");
            } finally {
                bob.closeGracefully();
            }
            assertThat(text(run(a, id, "x"))).isEqualTo("1");
            // ended through node b's MCP endpoint: the holder ends it
            assertThat(structured(call(b, "end_session", Map.of("session", id)), "status")).isEqualTo("ended");
            assertThat(run(a, id, "x").code()).isEqualTo("session_ended");
        } finally {
            b.closeGracefully();
        }
    }

    @Test
    void theHoldingNodeChecksTheTokenOfAnMcpCallAgain() {
        Api a = nodes.api(0, nodes.alice);
        String id = pythonSession(a);
        assertThat(run(a, id, "x = 1").status()).isEqualTo(200);
        // a token of alice that only node b knows: b lets it in, a must refuse the call it sends on
        String onlyB = TokenStore.open(nodes.dirs.get(1)).create("alice", false).token();
        McpSyncClient b = mcp(1, onlyB);
        try {
            McpSchema.CallToolResult r = call(b, "execute", Map.of("code", "x = 2", "session", id));
            assertThat(r.isError()).as(text(r)).isTrue();
            assertThat(text(r)).contains("refused the call", "401", "unauthorized");
        } finally {
            b.closeGracefully();
        }
        assertThat(text(run(a, id, "x"))).isEqualTo("1");
    }

    @Test
    void anMcpCallRunOnAnotherNodePassesItsProgressOnAndStopsWhenCancelled() throws Exception {
        String id = pythonSession(nodes.api(0, nodes.alice));
        List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(nodes.node(1).url())
                .endpoint("/mcp")
                .httpRequestCustomizer((b, method, uri, body, context) -> b.header("Authorization",
                        "Bearer " + nodes.alice))
                .build();
        McpSyncClient b = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(60))
                .progressConsumer(progress::add).build();
        try {
            b.initialize();
            McpSchema.CallToolResult r = b.callTool(McpSchema.CallToolRequest.builder("execute")
                    .arguments(Map.of("session", id, "code", "import time\nprint('first', flush=True)\ntime.sleep(3)"))
                    .progressToken("p1").build());
            assertThat(r.isError()).as(text(r)).isFalse();
            assertThat(progress).isNotEmpty().allMatch(p -> "p1".equals(p.progressToken()));
            assertThat(progress.stream().map(McpSchema.ProgressNotification::message).collect(Collectors.joining()))
                    .contains("first");
        } finally {
            b.closeGracefully();
        }

        // a 2026-07-28 client that goes away cancels the call on node b, which stops it on node a
        String body = Api.JSON.writeValueAsString(Map.of("jsonrpc", "2.0", "id", 7, "method", "tools/call",
                "params", Map.of("name", "execute",
                        "arguments", Map.of("code", "import time; time.sleep(100)", "session", id),
                        "_meta", Map.of("io.modelcontextprotocol/protocolVersion", "2026-07-28",
                                "io.modelcontextprotocol/clientCapabilities", Map.of(),
                                "io.modelcontextprotocol/clientInfo", Map.of("name", "test", "version", "1"),
                                "progressToken", "p7"))));
        URI url = URI.create(nodes.node(1).url());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket(url.getHost(), url.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mcp HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort() + "\r\n"
                    + "Authorization: Bearer " + nodes.alice + "\r\n"
                    + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                    + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n"
                    + "Mcp-Name: execute\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            eventually(Duration.ofSeconds(30), "the execution runs on node a", () -> running(id));
        } // the client goes away
        eventually(Duration.ofSeconds(15), "the execution is interrupted", () -> !running(id));
        assertThat(text(run(nodes.api(0, nodes.alice), id, "2 + 2"))).isEqualTo("4");
    }

    @Test
    void cancellingAnMcpCallThatRunsOnAnotherNodeInterruptsItThereAtOnce() throws Exception {
        String id = pythonSession(nodes.api(0, nodes.alice));
        List<String> bodies = new CopyOnWriteArrayList<>();
        AtomicReference<String> mcpSession = new AtomicReference<>();
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(nodes.node(1).url())
                .endpoint("/mcp")
                .httpRequestCustomizer((builder, method, uri, body, context) -> {
                    builder.header("Authorization", "Bearer " + nodes.alice);
                    if (body != null) {
                        bodies.add(body);
                    }
                    builder.copy().build().headers().firstValue("mcp-session-id").ifPresent(mcpSession::set);
                })
                .build();
        McpSyncClient b = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(60)).build();
        ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
        try {
            b.initialize();
            Future<McpSchema.CallToolResult> running = callers.submit(() -> call(b, "execute",
                    Map.of("code", "import time; time.sleep(100)", "session", id)));
            eventually(Duration.ofSeconds(30), "the execution runs on node a", () -> running(id));
            String sent = bodies.stream().filter(x -> x.contains("time.sleep(100)")).findFirst().orElseThrow();
            Object requestId = Api.JSON.readValue(sent, Map.class).get("id");
            long t0 = System.nanoTime();
            HttpRequest cancel = HttpRequest.newBuilder(URI.create(nodes.node(1).url() + "/mcp"))
                    .header("Authorization", "Bearer " + nodes.alice).header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").header("Mcp-Session-Id", mcpSession.get())
                    .header("MCP-Protocol-Version", "2025-11-25")
                    .POST(HttpRequest.BodyPublishers.ofString(Api.JSON.writeValueAsString(Map.of("jsonrpc", "2.0",
                            "method", "notifications/cancelled", "params", Map.of("requestId", requestId)))))
                    .build();
            assertThat(HttpClient.newHttpClient().send(cancel, HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(202);
            McpSchema.CallToolResult result = running.get(10, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
            assertThat(((Map<?, ?>) result.structuredContent()).get("status")).as(text(result)).isEqualTo("interrupted");
        } finally {
            callers.shutdownNow();
            b.closeGracefully();
        }
        assertThat(text(run(nodes.api(0, nodes.alice), id, "2 + 2"))).isEqualTo("4");
    }

    @Test
    void anMcpCallAnotherNodeSentIsNeverSentOnAgain() throws Exception {
        String id = pythonSession(nodes.api(0, nodes.alice));
        String body = Api.JSON.writeValueAsString(Map.of("jsonrpc", "2.0", "id", 1, "method", "tools/call",
                "params", Map.of("name", "execute", "arguments", Map.of("code", "x = 'moved'", "session", id),
                        "_meta", Map.of("io.modelcontextprotocol/protocolVersion", "2026-07-28",
                                "io.modelcontextprotocol/clientCapabilities", Map.of(),
                                "io.modelcontextprotocol/clientInfo", Map.of("name", "test", "version", "1")))));
        HttpRequest req = HttpRequest.newBuilder(URI.create(nodes.node(2).url() + "/mcp"))
                .header("Authorization", "Bearer " + nodes.alice).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2026-07-28")
                .header("Mcp-Method", "tools/call").header("Mcp-Name", "execute")
                .header("Tether-Forwarded-By", "node-b")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60)).build();
        HttpResponse<String> r = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"isError\":true", "node_unavailable", "forwarded once only");
        // nothing ran: the session has no x
        assertThat(run(nodes.api(0, nodes.alice), id, "x").json().toString()).contains("NameError");
    }

    private static boolean running(String id) {
        return ((List<?>) nodes.api(0, nodes.alice).get("/v1/sessions/" + id + "/executions").json().get("items"))
                .stream().anyMatch(e -> "running".equals(((Map<?, ?>) e).get("status")));
    }

    /** An active Python session of alice that the store says node {@code node} holds. */
    private static String sessionHeldBy(String node) {
        java.time.Instant now = java.time.Instant.now();
        String id = "held-by-" + node + "-" + System.nanoTime();
        nodes.store.insert(new io.tether.session.Session(id, "alice", null, "python",
                io.tether.session.SessionStatus.ACTIVE, now, now, null, null, null, null, 0, Map.of(), Map.of(), node,
                1));
        return id;
    }

    @Test
    void aHoldingNodeThatCannotBeReachedIsNodeUnavailableAndChangesNothing() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        nodes.registry.register("node-gone", "http://127.0.0.1:" + closedPort, nodes.now.get().plusSeconds(10));
        String id = sessionHeldBy("node-gone");
        Api.Reply r = run(nodes.api(1, nodes.alice), id, "1");
        assertThat(r.status()).as(r.body()).isEqualTo(503);
        assertThat(r.code()).isEqualTo("node_unavailable");
        assertThat((String) r.json().get("detail")).contains("could not be reached", "nothing was done");
        assertThat(nodes.store.find(id).orElseThrow().isActive()).isTrue();
    }

    @Test
    void aHoldingNodeThatFailsAfterTheRequestWasSentIsABadGateway() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            Thread hangUp = Thread.ofVirtual().start(() -> {
                try (java.net.Socket c = s.accept()) {
                    c.getInputStream().read(new byte[1024]); // the request arrived; then the node "dies"
                } catch (java.io.IOException e) {
                    // the test fails on the answer it gets
                }
            });
            nodes.registry.register("node-dying", "http://127.0.0.1:" + s.getLocalPort(),
                    nodes.now.get().plusSeconds(10));
            String id = sessionHeldBy("node-dying");
            Api.Reply r = run(nodes.api(2, nodes.alice), id, "1");
            assertThat(r.status()).as(r.body()).isEqualTo(502);
            assertThat(r.code()).isEqualTo("node_unavailable");
            assertThat((String) r.json().get("detail")).contains("may have taken effect");
            hangUp.join();
        }
    }

    @Test
    void aForwardedRequestIsNeverForwardedAgain() {
        String id = pythonSession(nodes.api(0, nodes.alice));
        Api.Reply r = nodes.api(1, nodes.alice).send("POST", "/v1/sessions/" + id + "/executions",
                Map.of("code", "1"), Map.of(NodeRouter.FORWARDED_BY, "node-c"));
        assertThat(r.status()).as(r.body()).isEqualTo(503);
        assertThat(r.code()).isEqualTo("node_unavailable");
        assertThat((String) r.json().get("detail")).contains("node-c", "node-a", "forwarded once");
        // at the holder the same header changes nothing
        Api.Reply owner = nodes.api(0, nodes.alice).send("POST", "/v1/sessions/" + id + "/executions",
                Map.of("code", "1 + 1"), Map.of(NodeRouter.FORWARDED_BY, "node-c"));
        assertThat(text(owner)).isEqualTo("2");
    }
}
