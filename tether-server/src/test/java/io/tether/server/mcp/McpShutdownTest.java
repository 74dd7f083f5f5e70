package io.tether.server.mcp;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.tether.server.Api;
import io.tether.server.TetherServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server shutting down lets a running MCP execution finish within the grace period, and
 * does not wait for connected MCP clients to go away.
 */
class McpShutdownTest {
    @TempDir
    Path dataDir;

    @Test
    @SuppressWarnings("unchecked")
    void aRunningMcpExecutionGetsTheShutdownGracePeriod() throws Exception {
        TetherServer server = Api.start(dataDir, Map.of("auth", "none", "shutdown_grace", "20s"));
        var callers = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory());
        try {
            McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(server.url())
                    .endpoint("/mcp").build()).requestTimeout(Duration.ofSeconds(60)).build();
            client.initialize();
            CompletableFuture<CallToolResult> running = CompletableFuture.supplyAsync(() -> client.callTool(
                    new CallToolRequest("execute", Map.of("code", "import time; time.sleep(3); 'finished'"))), callers);
            Api api = new Api(server.url(), null);
            eventually(Duration.ofSeconds(30), "the execution runs", () -> {
                var sessions = (List<Map<String, Object>>) api.get("/v1/sessions?status=active").json().get("items");
                return sessions.stream().anyMatch(s -> ((List<?>) api.get("/v1/sessions/" + s.get("id")
                        + "/executions").json().get("items")).stream()
                        .anyMatch(e -> "running".equals(((Map<?, ?>) e).get("status"))));
            });
            long t0 = System.nanoTime();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close, callers);
            CallToolResult result = running.get(30, TimeUnit.SECONDS);
            assertThat(result.isError()).as(result.toString()).isFalse();
            assertThat(((Map<String, Object>) result.structuredContent()).get("result")).isEqualTo("'finished'");
            closing.get(30, TimeUnit.SECONDS);
            // The client's open event stream does not hold the shutdown up to Jetty's stop timeout (25 s).
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
        } finally {
            server.close();
            callers.shutdownNow();
        }
    }
}
