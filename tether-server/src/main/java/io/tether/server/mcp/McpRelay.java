package io.tether.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.server.auth.Principal;
import io.tether.server.cluster.NodeRouter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a tool call about a session another node holds on that node: the call is sent, as
 * one stand-alone request of protocol revision 2026-07-28 (no MCP session), to the holding
 * node's {@code /mcp}, with the caller's own {@code Authorization} header (the holder checks
 * the token again) and {@code Tether-Forwarded-By} (so the holder never sends it on), and
 * its result is this call's result. The caller's MCP session, and any automatic session,
 * stay on this node; only the one call travels.
 *
 * <p>Progress notifications of the holder are passed on as they come. Cancelling the call
 * here interrupts the code at the holder at once (its REST API), and if it has not ended
 * after the grace period closes the stream to the holder, which then cancels it as for any
 * 2026-07-28 client that went away (ending the session if its code will not stop).
 *
 * <p>Thread-safe; a call blocks its thread until the holder has answered.
 */
final class McpRelay implements AutoCloseable {
    private static final String FORWARDED_BY = NodeRouter.FORWARDED_BY;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String node;
    private final McpEndpoint.SessionOwners owners;
    private final HttpClient http;

    /** @param node this node's id, sent in {@code Tether-Forwarded-By} */
    McpRelay(String node, McpEndpoint.SessionOwners owners) {
        this.node = node;
        this.owners = owners;
        // HTTP/1.1: the nodes speak it to each other; no h2c upgrade attempt on every new connection
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Where a call about {@code sessionId} runs: empty for here, else the holding node's URL.
     *
     * @param forwardedBy the request's {@code Tether-Forwarded-By}, or {@code null}
     * @throws TetherException {@code node_unavailable} for a call another node sent here
     *     about a session this node does not hold (forwarded once only)
     */
    Optional<String> ownerOf(Principal principal, String forwardedBy, String sessionId) {
        return owners.ownerUrl(principal.access(), sessionId, forwardedBy);
    }

    /**
     * Runs tool {@code tool} with {@code arguments} at the node at {@code ownerUrl}.
     *
     * @param cancels where the call registers how to stop it, for {@code notifications/cancelled}
     * @throws TetherException {@code node_unavailable} when the holder cannot be reached or
     *     fails to answer
     */
    CallToolResult call(String ownerUrl, McpTools.Caller caller, McpCalls cancels, String sessionId, String tool,
                        Map<String, Object> arguments) {
        JsonNode answer = exchange(ownerUrl, sessionId, "tools/call", tool,
                Map.of("name", tool, "arguments", arguments), caller.authorization(), caller, cancels);
        if (answer.has("error")) {
            return McpTools.error(tool + ": node " + ownerUrl + " answered with an error: " + message(answer));
        }
        CallToolResult result = JSON.convertValue(answer.get("result"), CallToolResult.class);
        if (result == null) {
            throw unavailable(ownerUrl, sessionId, "answered without a result");
        }
        return result;
    }

    /**
     * Reads the session file resource {@code uri} at the node at {@code ownerUrl}.
     *
     * @param authorization the request's {@code Authorization} header, or {@code null}
     * @throws ToolError when that node has no such file for the caller
     * @throws TetherException {@code node_unavailable} when the holder cannot be reached or
     *     fails to answer
     */
    McpFiles.Contents read(String ownerUrl, String sessionId, String uri, String authorization) {
        JsonNode answer = exchange(ownerUrl, sessionId, "resources/read", uri, Map.of("uri", uri), authorization,
                null, null);
        if (answer.has("error")) {
            throw new ToolError(message(answer));
        }
        JsonNode c = answer.path("result").path("contents").path(0);
        if (c.isMissingNode()) {
            throw unavailable(ownerUrl, sessionId, "answered without the file's contents");
        }
        return new McpFiles.Contents(uri, c.path("mimeType").asText(null), c.has("text") ? c.get("text").asText()
                : null, c.has("blob") ? Base64.getDecoder().decode(c.get("blob").asText()) : null);
    }

    /**
     * Sends one 2026-07-28 request to the holder and returns its answer, a JSON-RPC response
     * with a {@code result} or an {@code error}.
     *
     * @param caller the tool call whose progress to pass on, or {@code null}
     * @param cancels where the call registers how to stop it, or {@code null} for a request
     *     that cannot be cancelled
     */
    private JsonNode exchange(String ownerUrl, String sessionId, String method, String name,
                              Map<String, Object> params, String authorization, McpTools.Caller caller,
                              McpCalls cancels) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("io.modelcontextprotocol/protocolVersion", McpStateless.REVISION);
        meta.put("io.modelcontextprotocol/clientCapabilities", Map.of());
        meta.put("io.modelcontextprotocol/clientInfo", Map.of("name", "tether-node " + node, "version", "1"));
        if (caller != null) {
            // always asked for: besides passing progress on, its notifications are how the holder
            // notices that this node closed the stream (a cancel), as it writes nothing else until the end
            meta.put("progressToken", "relay");
        }
        Map<String, Object> withMeta = new LinkedHashMap<>(params);
        withMeta.put("_meta", meta);
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("jsonrpc", "2.0", "id", 1, "method", method, "params", withMeta));
        } catch (IOException e) {
            throw new IllegalStateException("a request's parameters did not serialize", e);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(ownerUrl + McpEndpoint.PATH))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", McpStateless.REVISION)
                .header(McpStateless.METHOD_HEADER, method)
                .header("Mcp-Name", name)
                .header(FORWARDED_BY, node)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        // registered before the holder answers: it may send nothing until the call ends
        CompletableFuture<HttpResponse<InputStream>> pending = http.sendAsync(request.build(),
                HttpResponse.BodyHandlers.ofInputStream());
        AtomicReference<InputStream> stream = new AtomicReference<>();
        McpCalls.Remote remote = new McpCalls.Remote() {
            @Override
            public void interrupt() {
                interruptAt(ownerUrl, sessionId, authorization);
            }

            @Override
            public void abandon() {
                pending.cancel(true);
                close(stream.get());
            }
        };
        try (McpCalls.Call call = cancels == null ? null : cancels.begin(caller.cancelScope(), caller.requestId(),
                sessionId, remote)) {
            HttpResponse<InputStream> response = answer(pending, ownerUrl, sessionId);
            stream.set(response.body());
            boolean cancelled = call != null && call.cancelled();
            if (cancelled) {
                close(response.body()); // cancelled while the answer's head arrived
            }
            try (InputStream in = response.body()) {
                if (response.statusCode() != 200) {
                    throw refused(ownerUrl, sessionId, response.statusCode(), in.readAllBytes());
                }
                String type = response.headers().firstValue("Content-Type").orElse("");
                JsonNode answer = type.startsWith("text/event-stream") ? fromStream(in, caller) : JSON.readTree(in);
                if (answer == null || !(answer.has("result") || answer.has("error"))) {
                    throw unavailable(ownerUrl, sessionId, call != null && call.cancelled()
                            ? "stopped the call: it was cancelled" : "closed its answer before the result");
                }
                return answer;
            } catch (IOException e) {
                throw unavailable(ownerUrl, sessionId, call != null && call.cancelled()
                        ? "stopped the call: it was cancelled"
                        : "failed while it answered (" + e + "); the call may have run");
            }
        }
    }

    /** Closes the HTTP client at once (it would wait for calls in flight); calls in flight fail. */
    @Override
    public void close() {
        http.shutdownNow();
    }

    private static String message(JsonNode answer) {
        return answer.get("error").path("message").asText(answer.get("error").toString());
    }

    /**
     * Interrupts the code running in session {@code sessionId} at its node, through that
     * node's REST API ({@code POST /v1/sessions/{id}/interrupt}), as the caller.
     *
     * @throws TetherException when that node cannot be reached or does not answer 204
     */
    private void interruptAt(String ownerUrl, String sessionId, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(ownerUrl + "/v1/sessions/"
                        + sessionId + "/interrupt"))
                .header(FORWARDED_BY, node).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw unavailable(ownerUrl, sessionId, "could not be asked to interrupt it (" + e + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(ownerUrl, sessionId, "could not be asked to interrupt it: interrupted");
        }
        if (response.statusCode() != 204) {
            throw refused(ownerUrl, sessionId, response.statusCode(), response.body());
        }
    }

    /** Waits for the head of the holder's answer. */
    private static HttpResponse<InputStream> answer(CompletableFuture<HttpResponse<InputStream>> pending,
                                                    String ownerUrl, String sessionId) {
        try {
            return pending.get();
        } catch (CancellationException e) {
            throw unavailable(ownerUrl, sessionId, "was not heard back from: the call was cancelled");
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw unavailable(ownerUrl, sessionId, "was not heard back from: this call was interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException) {
                throw unavailable(ownerUrl, sessionId, "could not be reached (" + cause + "); nothing was done: retry");
            }
            throw unavailable(ownerUrl, sessionId, "failed while it answered (" + cause + "); the call may have run");
        }
    }

    /** Reads the holder's event stream: passes progress on, returns the response message (or {@code null}). */
    private static JsonNode fromStream(InputStream in, McpTools.Caller caller) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.startsWith("data:")) {
                data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5)).append('\n');
                continue;
            }
            if (!line.isEmpty() || data.isEmpty()) {
                continue;
            }
            JsonNode message = JSON.readTree(data.toString());
            data.setLength(0);
            if (message.has("result") || message.has("error")) {
                return message;
            }
            if ("notifications/progress".equals(message.path("method").asText()) && caller != null
                    && caller.progressToken() != null) {
                JsonNode p = message.path("params");
                caller.progress().send(p.path("progress").asDouble(), p.path("message").asText(null));
            }
        }
        return null;
    }

    private static void close(InputStream in) {
        if (in == null) {
            return;
        }
        try {
            in.close();
        } catch (IOException e) {
            // closing is how a cancel stops the call; the reader sees the stream end either way
        }
    }

    private static TetherException refused(String ownerUrl, String sessionId, int status, byte[] body) {
        String detail = new String(body, StandardCharsets.UTF_8);
        try {
            JsonNode problem = JSON.readTree(body);
            if (problem != null && problem.has("detail")) {
                detail = problem.path("code").asText("") + ": " + problem.get("detail").asText();
            }
        } catch (IOException e) {
            // not problem details: the body as it came
        }
        if (status == 401 || status == 403) {
            return new TetherException(ErrorCode.UNAUTHORIZED, "node " + ownerUrl + " holds session '" + sessionId
                    + "' and refused the call (" + status + " " + detail + ")");
        }
        return unavailable(ownerUrl, sessionId, "refused the call (" + status + " " + detail + ")");
    }

    private static TetherException unavailable(String ownerUrl, String sessionId, String what) {
        return new TetherException(ErrorCode.NODE_UNAVAILABLE, "node " + ownerUrl + ", which holds session '"
                + sessionId + "', " + what);
    }
}
