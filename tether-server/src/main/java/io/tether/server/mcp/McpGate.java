package io.tether.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.server.auth.HostCheck;
import io.tether.server.auth.Principal;
import io.tether.server.auth.TokenStore;
import io.tether.server.cluster.NodeRouter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The front of {@code /mcp}, before the SDK's transport sees a request: the Host and Origin
 * checks (against DNS rebinding), the bearer token (the same tokens and owners as the REST
 * API), and the MCP session's owner, so one owner can never use another's MCP session.
 * It also reads a POST's JSON-RPC message on the way: a {@code tools/call} leaves its request
 * id for the tool (so {@code notifications/cancelled} can find the call), and a
 * {@code notifications/cancelled} interrupts the call it names.
 *
 * <p>Refusals are {@code application/problem+json}, as in the REST API.
 */
final class McpGate implements Filter {
    static final String PRINCIPAL = "io.tether.mcp.principal";
    static final String REQUEST_ID = "io.tether.mcp.request-id";
    /** The request's {@code Authorization} header, for a tool call sent on to the node that holds its session. */
    static final String AUTHORIZATION = "io.tether.mcp.authorization";
    /** The request's {@code Tether-Forwarded-By}: another node sent it, so it is never sent on. */
    static final String FORWARDED_BY = "io.tether.mcp.forwarded-by";
    static final String SESSION_HEADER = "Mcp-Session-Id";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HostCheck hosts;
    private final TokenStore tokens;
    private final Principal noAuth;
    private final McpSessions sessions;
    private final McpCalls calls;
    private final long maxBodyBytes;
    private final Consumer<String> onDelete;
    private volatile boolean draining;

    /**
     * @param tokens the tokens to accept, or {@code null} when auth is off (every request
     *     then acts as {@code noAuth})
     * @param onDelete called with the MCP session id before a {@code DELETE /mcp} of one's own
     */
    McpGate(HostCheck hosts, TokenStore tokens, Principal noAuth, McpSessions sessions, McpCalls calls,
            long maxBodyBytes, Consumer<String> onDelete) {
        this.hosts = hosts;
        this.tokens = tokens;
        this.noAuth = noAuth;
        this.sessions = sessions;
        this.calls = calls;
        this.maxBodyBytes = maxBodyBytes;
        this.onDelete = onDelete;
    }

    /** Refuses new requests from now on ({@code shutting_down}). */
    void drain() {
        draining = true;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String path = request.getRequestURI();
        if (!path.equals("/mcp")) {
            problem(response, 404, "not_found", "no route " + request.getMethod() + " " + path
                    + "; the MCP endpoint is /mcp");
            return;
        }
        String host = request.getHeader("Host");
        if (!hosts.allowed(host)) {
            problem(response, 403, "forbidden", "Host header '" + host + "' is not allowed here (allowed: "
                    + String.join(", ", hosts.allowedHosts()) + "; add more with the allowed_hosts setting)");
            return;
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !originAllowed(origin)) {
            problem(response, 403, "forbidden", "Origin '" + origin + "' is not allowed here: only pages served "
                    + "from an allowed host (" + String.join(", ", hosts.allowedHosts()) + ") may call /mcp");
            return;
        }
        if (draining) {
            problem(response, 503, "shutting_down", "the server is shutting down");
            return;
        }
        Principal principal = authenticate(request, response);
        if (principal == null) {
            return;
        }
        request.setAttribute(PRINCIPAL, principal);
        if (request.getHeader("Authorization") != null) {
            request.setAttribute(AUTHORIZATION, request.getHeader("Authorization"));
        }
        if (request.getHeader(NodeRouter.FORWARDED_BY) != null) {
            request.setAttribute(FORWARDED_BY, request.getHeader(NodeRouter.FORWARDED_BY));
        }
        String mcpSession = request.getHeader(SESSION_HEADER);
        McpSessions.Access access = mcpSession == null ? McpSessions.Access.UNKNOWN
                : sessions.use(mcpSession, principal.owner());
        if (mcpSession != null && access != McpSessions.Access.OWN) {
            // Foreign, ended and unknown ids get the same answer, so ids cannot be probed; and
            // it is ours, not the SDK's (whose answer carries a Java stack trace).
            problem(response, 404, "session_not_found", "no MCP session '" + mcpSession
                    + "'; it may have ended: initialize a new one");
            return;
        }
        String refused = refusedMedia(request);
        if (refused != null) {
            problem(response, refused.startsWith("Content-Type") ? 415 : 400, "invalid_request", refused);
            return;
        }
        switch (request.getMethod()) {
            case "POST" -> post(request, response, chain, principal, mcpSession);
            case "DELETE" -> {
                if (access == McpSessions.Access.OWN) {
                    onDelete.accept(mcpSession);
                }
                chain.doFilter(request, response);
            }
            default -> chain.doFilter(request, response);
        }
    }

    private void post(HttpServletRequest request, HttpServletResponse response, FilterChain chain,
                      Principal principal, String mcpSession) throws IOException, ServletException {
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
        }
        if (body.length > maxBodyBytes) {
            response.setHeader("Connection", "close"); // the rest is not read: the connection closes
            problem(response, 413, "payload_too_large", "the request body is over " + maxBodyBytes
                    + " bytes (setting max_body_bytes)");
            return;
        }
        boolean initialize = false;
        JsonNode message = parse(body);
        if (message == null) {
            problem(response, 400, "invalid_request", "the body is not JSON: send one JSON-RPC message");
            return;
        }
        if (message.isObject()) {
            String method = message.path("method").asText("");
            switch (method) {
                case "initialize" -> initialize = true;
                case "tools/call" -> {
                    JsonNode id = message.get("id");
                    if (id != null && (id.isTextual() || id.isNumber())) {
                        request.setAttribute(REQUEST_ID, id.asText());
                    }
                }
                case "notifications/cancelled" -> {
                    JsonNode id = message.path("params").get("requestId");
                    if (mcpSession != null && id != null && (id.isTextual() || id.isNumber())) {
                        calls.cancel(mcpSession, id.asText());
                    }
                }
                default -> {
                }
            }
        }
        chain.doFilter(new ReadBody(request, body), initialize ? new Opening(response, principal.owner()) : response);
    }

    /**
     * The answer to an {@code initialize}: records the MCP session it opens as the header is
     * set, before any of the answer reaches the client, whose next request names it.
     */
    private final class Opening extends HttpServletResponseWrapper {
        private final String owner;

        Opening(HttpServletResponse response, String owner) {
            super(response);
            this.owner = owner;
        }

        @Override
        public void setHeader(String name, String value) {
            opening(name, value);
            super.setHeader(name, value);
        }

        @Override
        public void addHeader(String name, String value) {
            opening(name, value);
            super.addHeader(name, value);
        }

        private void opening(String name, String value) {
            if (SESSION_HEADER.equalsIgnoreCase(name) && value != null) {
                sessions.opened(value, owner);
            }
        }
    }

    /**
     * Why the request's media types will not do, or {@code null}: a POST sends JSON and accepts
     * JSON and an event stream, a GET accepts an event stream. Checked here, before the SDK,
     * whose own refusal carries its Java stack trace.
     */
    private static String refusedMedia(HttpServletRequest request) {
        String accept = request.getHeader("Accept") == null ? "" : request.getHeader("Accept").toLowerCase(Locale.ROOT);
        switch (request.getMethod()) {
            case "POST" -> {
                String type = request.getContentType() == null ? "" : request.getContentType().toLowerCase(Locale.ROOT);
                if (!type.startsWith("application/json")) {
                    return "Content-Type must be application/json, got '" + request.getContentType() + "'";
                }
                if (!accept.contains("application/json") || !accept.contains("text/event-stream")) {
                    return "Accept must list both application/json and text/event-stream, got '"
                            + request.getHeader("Accept") + "'";
                }
            }
            case "GET" -> {
                if (!accept.contains("text/event-stream")) {
                    return "Accept must list text/event-stream, got '" + request.getHeader("Accept") + "'";
                }
            }
            default -> {
            }
        }
        return null;
    }

    /** The message, or {@code null} when it is not JSON (the SDK answers that itself). */
    private static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private Principal authenticate(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (tokens == null) {
            return noAuth;
        }
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"tether\"");
            problem(response, 401, "unauthorized", "this server needs a token: send the header "
                    + "'Authorization: Bearer <token>' (create one with: tether token create --owner NAME)");
            return null;
        }
        Principal p = tokens.authenticate(header.substring(7).trim()).orElse(null);
        if (p == null) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"tether\"");
            problem(response, 401, "unauthorized", "the token is not valid (unknown or revoked)");
        }
        return p;
    }

    /** Whether an {@code Origin} names an allowed host: http or https, and a host the Host check allows. */
    private boolean originAllowed(String origin) {
        try {
            URI uri = new URI(origin.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getRawAuthority() == null
                    || uri.getRawUserInfo() != null) {
                return false;
            }
            return hosts.allowed(uri.getRawAuthority());
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static void problem(HttpServletResponse response, int status, String code, String detail)
            throws IOException {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "about:blank");
        p.put("title", code);
        p.put("status", status);
        p.put("code", code);
        p.put("detail", detail);
        response.setStatus(status);
        response.setContentType("application/problem+json");
        response.getOutputStream().write(JSON.writeValueAsBytes(p));
    }

    /** A request whose body was read already, read again from memory. */
    private static final class ReadBody extends HttpServletRequestWrapper {
        private final byte[] body;

        ReadBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new IllegalStateException("the body was read already");
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
