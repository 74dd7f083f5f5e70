package io.tether.server.mcp;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelcontextprotocol.modern.McpException;
import io.modelcontextprotocol.modern.McpSchema;
import io.modelcontextprotocol.modern.client.McpClient;
import io.modelcontextprotocol.modern.client.McpSyncClient;
import io.modelcontextprotocol.modern.client.transport.HttpClientMcpTransport;
import io.modelcontextprotocol.modern.client.transport.McpHttpRequestCustomizer;
import io.tether.server.Api;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /mcp} in protocol revision 2026-07-28 (no protocol sessions, state by handles)
 * against a real server on loopback with real Python sessions, driven by the MCP Java SDK's
 * own client for that revision.
 */
class McpStatelessTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static String aliceToken;
    static String bobToken;
    static Api alice;

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

    private static McpSyncClient client(String token) {
        HttpClientMcpTransport transport = HttpClientMcpTransport.builder(server.url() + "/mcp")
                .requestCustomizer(McpHttpRequestCustomizer.fromSync((request, headers, context) ->
                        headers.set("Authorization", "Bearer " + token)))
                .build();
        return McpClient.sync(transport).callTimeout(Duration.ofSeconds(60)).build();
    }

    private static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
        return c.tool(tool).arguments(args).call();
    }

    private static String text(McpSchema.CallToolResult r) {
        return r.content().stream().filter(McpSchema.TextContent.class::isInstance)
                .map(x -> ((McpSchema.TextContent) x).text()).collect(Collectors.joining("\n"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> structured(McpSchema.CallToolResult r) {
        return (Map<String, Object>) r.structuredContent();
    }

    @Test
    void listsTheSameToolsAndSaysHowLongAHandleLives() {
        List<McpSchema.Tool> tools = client(aliceToken).listTools().list().tools();
        assertThat(tools).extracting(McpSchema.Tool::name).containsExactlyInAnyOrder("execute", "create_session",
                "end_session", "list_sessions", "interrupt", "list_files", "read_file", "write_file");
        McpSchema.Tool execute = tools.stream().filter(t -> t.name().equals("execute")).findFirst().orElseThrow();
        assertThat(execute.description()).contains("handle").contains("idle");
    }

    @Test
    void executeWithoutASessionCreatesOneAndReturnsItsHandle() {
        McpSyncClient c = client(aliceToken);
        McpSchema.CallToolResult first = call(c, "execute", Map.of("code", "x = 41"));
        assertThat(first.isError()).as(text(first)).isFalse();
        String handle = (String) structured(first).get("session");
        assertThat(handle).isNotBlank();
        assertThat(text(first)).contains(handle);
        McpSchema.CallToolResult second = call(c, "execute", Map.of("code", "x + 1", "session", handle));
        assertThat(structured(second).get("result")).isEqualTo("42");
        // A handle is a Tether session id: the REST API reaches the same session.
        assertThat(alice.get("/v1/sessions/" + handle).json().get("status")).isEqualTo("active");
        // Without a handle, each call gets a session of its own: no state is shared by accident.
        McpSchema.CallToolResult fresh = call(c, "execute", Map.of("code", "x"));
        assertThat(structured(fresh).get("session")).isNotEqualTo(handle);
        assertThat(fresh.isError()).isTrue();
    }

    @Test
    void anotherOwnersHandleIsAToolErrorAndChangesNothing() {
        String handle = (String) structured(call(client(aliceToken), "execute", Map.of("code", "secret = 'alice'")))
                .get("session");
        McpSyncClient bob = client(bobToken);
        McpSchema.CallToolResult stolen = call(bob, "execute", Map.of("code", "secret = 'bob'", "session", handle));
        assertThat(stolen.isError()).isTrue();
        assertThat(text(stolen)).contains("no session with handle");
        assertThat(call(bob, "end_session", Map.of("session", handle)).isError()).isTrue();
        assertThat(structured(call(client(aliceToken), "execute", Map.of("code", "secret", "session", handle)))
                .get("result")).isEqualTo("'alice'");
    }

    @Test
    void aWrongTokenIsRefused() {
        McpSyncClient c = client("not-a-token");
        assertThatThrownBy(() -> c.listTools().list()).isInstanceOf(RuntimeException.class);
    }

    @Test
    void closingTheResponseStreamInterruptsTheExecution() throws Exception {
        String handle = (String) structured(call(client(aliceToken), "create_session", Map.of())).get("session");
        String body = Api.JSON.writeValueAsString(Map.of("jsonrpc", "2.0", "id", 7, "method", "tools/call",
                "params", Map.of("name", "execute",
                        "arguments", Map.of("code", "import time; time.sleep(100)", "session", handle),
                        "_meta", Map.of("io.modelcontextprotocol/protocolVersion", McpStateless.REVISION,
                                "io.modelcontextprotocol/clientCapabilities", Map.of(),
                                "io.modelcontextprotocol/clientInfo", Map.of("name", "test", "version", "1"),
                                "progressToken", "p7"))));
        URI url = URI.create(server.url());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket(url.getHost(), url.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mcp HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort() + "\r\n"
                    + "Authorization: Bearer " + aliceToken + "\r\n"
                    + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                    + "MCP-Protocol-Version: " + McpStateless.REVISION + "\r\nMcp-Method: tools/call\r\n"
                    + "Mcp-Name: execute\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            if (!head.equals("HTTP/1.1 200")) {
                socket.shutdownOutput();
                throw new AssertionError(head + new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            eventually(Duration.ofSeconds(30), "the execution runs", () -> running(handle));
        } // the client goes away
        eventually(Duration.ofSeconds(15), "the execution is interrupted", () -> !running(handle));
        assertThat(structured(call(client(aliceToken), "execute", Map.of("code", "2 + 2", "session", handle)))
                .get("result")).isEqualTo("4");
    }

    @Test
    void aSessionsFilesAreResourcesOfItsOwnerOnlyAndLongOutputIsLinkedToThem() {
        McpSyncClient c = client(aliceToken);
        assertThat(c.resourceTemplates().list().resourceTemplates()).extracting(McpSchema.ResourceTemplate::uriTemplate)
                .containsExactly("tether://sessions/{id}/files/{name}");
        McpSchema.CallToolResult r = call(c, "execute", Map.of("code", "import os\nos.mkdir('data')\n"
                + "open('data/notes.txt', 'w').write('héllo')\nprint('y' * 30_000)"));
        assertThat(r.isError()).as(text(r)).isFalse();
        String handle = (String) structured(r).get("session");
        String notes = "tether://sessions/" + handle + "/files/data%2Fnotes.txt";
        assertThat(((McpSchema.TextResourceContents) c.resource(notes).read().contents().get(0)).text())
                .isEqualTo("héllo");
        McpSchema.ResourceLink link = r.content().stream().filter(McpSchema.ResourceLink.class::isInstance)
                .map(McpSchema.ResourceLink.class::cast).findFirst().orElseThrow(() -> new AssertionError(text(r)));
        assertThat(((McpSchema.TextResourceContents) c.resource(link.uri()).read().contents().get(0)).text())
                .isEqualTo("y".repeat(30_000) + "\n");
        // Another owner's session, a missing file and an ended session are this revision's "resource not found".
        assertThatThrownBy(() -> client(bobToken).resource(notes).read()).isInstanceOfSatisfying(McpException.class,
                e -> {
                    assertThat(e.error().code()).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
                    assertThat(e.getMessage()).contains("no session with handle").doesNotContain("héllo");
                });
        assertThatThrownBy(() -> c.resource("tether://sessions/" + handle + "/files/missing.txt").read())
                .isInstanceOf(McpException.class).hasMessageContaining("no file missing.txt");
        call(c, "end_session", Map.of("session", handle));
        assertThatThrownBy(() -> c.resource(notes).read()).isInstanceOf(McpException.class)
                .hasMessageContaining("has ended");
    }

    private static boolean running(String handle) {
        return ((List<?>) alice.get("/v1/sessions/" + handle + "/executions").json().get("items")).stream()
                .anyMatch(e -> "running".equals(((Map<?, ?>) e).get("status")));
    }
}
