package io.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The routes of HTTP API v1 as typed calls over one {@link Transport}: paths, bodies,
 * headers, which calls are idempotent, and how long each waits. {@link TetherClient} calls
 * it with its defaults, an {@link AutoSession} with its own settings.
 */
final class HttpApi {
    private final Transport transport;
    private final Duration requestTimeout;
    /** Streams not yet read to their end, stopped when the client closes. */
    private final Set<ExecutionStream> streams = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * How one caller's calls behave: the client's defaults, or an automatic session's settings.
     *
     * @param callTimeout default execution timeout, {@code null} for the server's
     * @param idempotent whether executions count as idempotent (see {@link ExecuteRequest#idempotent()})
     */
    record CallPolicy(RetryPolicy retry, TetherListener listener, Duration streamTimeout, Duration callTimeout,
                      boolean idempotent) {
    }

    HttpApi(Transport transport, Duration requestTimeout) {
        this.transport = transport;
        this.requestTimeout = requestTimeout;
    }

    /** From now on every call but {@link #endSession} is refused; open streams are stopped. */
    void close() {
        closed = true;
        for (ExecutionStream s : List.copyOf(streams)) {
            s.abort();
        }
    }

    // ---------------------------------------------------------------- sessions

    Session createSession(NewSession spec, CallPolicy p) {
        Objects.requireNonNull(spec, "spec");
        return session(send(Transport.Call.json("POST", "/v1/sessions", spec.toJson(), null, requestTimeout,
                spec.key() != null), p));
    }

    Session session(String sessionId, CallPolicy p) {
        return Wire.session(get(sessionPath(sessionId), sessionId, p));
    }

    SessionPage sessions(SessionQuery query, CallPolicy p) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        if (query.status() != null) {
            q.add("status=" + query.status().name().toLowerCase(Locale.ROOT));
        }
        if (query.runtime() != null) {
            q.add("runtime=" + encode(query.runtime()));
        }
        if (query.owner() != null) {
            q.add("owner=" + encode(query.owner()));
        }
        if (query.limit() > 0) {
            q.add("limit=" + query.limit());
        }
        if (query.cursor() != null) {
            q.add("cursor=" + encode(query.cursor()));
        }
        return Wire.page(get("/v1/sessions" + q, null, p));
    }

    Session updateSession(String sessionId, Map<String, ?> data, Map<String, ?> metadata, CallPolicy p) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (data != null) {
            body.put("data", data);
        }
        if (metadata != null) {
            body.put("metadata", metadata);
        }
        return session(send(Transport.Call.json("PATCH", sessionPath(sessionId), body, sessionId, requestTimeout,
                true), p));
    }

    Session touch(String sessionId, CallPolicy p) {
        return session(send(Transport.Call.json("POST", sessionPath(sessionId) + "/touch", null, sessionId,
                requestTimeout, true), p));
    }

    /** Ends a session. Allowed also while the client closes, which ends its automatic sessions. */
    Session endSession(String sessionId, String reason, CallPolicy p) {
        return session(transport.send(Transport.Call.json("DELETE", sessionPath(sessionId) + "?reason="
                + encode(reason), null, sessionId, requestTimeout, true), p.retry(), p.listener()));
    }

    // ---------------------------------------------------------------- executions

    Execution execute(String sessionId, ExecuteRequest request, CallPolicy p) {
        Transport.Reply r = send(executeCall(sessionPath(sessionId) + "/executions", sessionId, null, request, p), p);
        return Wire.execution(Wire.tree(r.body()));
    }

    ExecutionStream stream(String sessionId, ExecuteRequest request, CallPolicy p) {
        return openStream(sessionPath(sessionId) + "/executions", sessionId, null, request, p, false);
    }

    /**
     * {@code POST /v1/execute}: in the session {@code sessionId}, or — when it is
     * {@code null} — in a new session of {@code runtime} that the server creates for it
     * (the result then says {@link Execution#newSession()}).
     */
    Execution autoExecute(String sessionId, String runtime, ExecuteRequest request, CallPolicy p) {
        Transport.Reply r = send(executeCall("/v1/execute", sessionId, sessionId == null ? runtime : null, request, p),
                p);
        Execution e = Wire.execution(Wire.tree(r.body()));
        return sessionId == null ? e.asNewSession() : e;
    }

    /** Like {@link #autoExecute}, streamed. */
    ExecutionStream autoStream(String sessionId, String runtime, ExecuteRequest request, CallPolicy p,
                               boolean newSession) {
        return openStream("/v1/execute", sessionId, sessionId == null ? runtime : null, request, p, newSession);
    }

    Execution execution(String sessionId, long number, CallPolicy p) {
        if (number < 1) {
            throw new IllegalArgumentException("execution numbers start at 1, got " + number);
        }
        return Wire.execution(get(sessionPath(sessionId) + "/executions/" + number, sessionId, p));
    }

    ExecutionPage executions(String sessionId, int limit, String cursor, CallPolicy p) {
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("limit must be from 1 to 1000, got " + limit);
        }
        String q = "?output=true&limit=" + limit + (cursor == null ? "" : "&cursor=" + encode(cursor));
        return Wire.executionPage(get(sessionPath(sessionId) + "/executions" + q, sessionId, p));
    }

    void interrupt(String sessionId, CallPolicy p) {
        send(Transport.Call.json("POST", sessionPath(sessionId) + "/interrupt", null, sessionId, requestTimeout,
                false), p);
    }

    void input(String sessionId, String value, CallPolicy p) {
        Objects.requireNonNull(value, "value");
        send(Transport.Call.json("POST", sessionPath(sessionId) + "/input", Map.of("value", value), sessionId,
                requestTimeout, false), p);
    }

    Session restart(String sessionId, CallPolicy p) {
        return session(send(Transport.Call.json("POST", sessionPath(sessionId) + "/restart", null, sessionId,
                requestTimeout, false), p));
    }

    Completion complete(String sessionId, String code, int cursor, CallPolicy p) {
        JsonNode n = Wire.tree(send(Transport.Call.json("POST", sessionPath(sessionId) + "/complete",
                Map.of("code", code, "cursor", cursor), sessionId, requestTimeout, true), p).body());
        List<String> matches = new ArrayList<>();
        n.path("matches").forEach(m -> matches.add(m.asText()));
        return new Completion(matches, n.path("cursor_start").asInt(), n.path("cursor_end").asInt());
    }

    Inspection inspect(String sessionId, String code, int cursor, CallPolicy p) {
        JsonNode n = Wire.tree(send(Transport.Call.json("POST", sessionPath(sessionId) + "/inspect",
                Map.of("code", code, "cursor", cursor), sessionId, requestTimeout, true), p).body());
        return new Inspection(n.path("found").asBoolean(), Wire.map(n.get("data")));
    }

    // ---------------------------------------------------------------- files

    FileListing files(String sessionId, CallPolicy p) {
        return Wire.files(get(sessionPath(sessionId) + "/files", sessionId, p));
    }

    byte[] download(String sessionId, String path, CallPolicy p) {
        return send(new Transport.Call("GET", filePath(sessionId, path), null, null, sessionId, requestTimeout, true),
                p).body();
    }

    /** Returns whether the file is new (201) rather than replaced (200). */
    boolean upload(String sessionId, String path, byte[] content, CallPolicy p) {
        Objects.requireNonNull(content, "content");
        return send(new Transport.Call("PUT", filePath(sessionId, path), content, "application/octet-stream",
                sessionId, requestTimeout, true), p).status() == 201;
    }

    void deleteFile(String sessionId, String path, CallPolicy p) {
        send(new Transport.Call("DELETE", filePath(sessionId, path), null, null, sessionId, requestTimeout, false), p);
    }

    // ---------------------------------------------------------------- server

    List<RuntimeInfo> runtimes(CallPolicy p) {
        return Wire.runtimes(get("/v1/runtimes", null, p));
    }

    ServerStats stats(CallPolicy p) {
        return Wire.stats(get("/v1/stats", null, p));
    }

    /** {@code GET /healthz}, never retried: {@code false} for 503 (shutting down). */
    boolean healthy() {
        ensureOpen();
        try {
            transport.send(new Transport.Call("GET", "/healthz", null, null, null, requestTimeout, true),
                    RetryPolicy.NONE, TetherListener.NONE);
            return true;
        } catch (TetherClientException e) {
            if (e.status() == 503) {
                return false;
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- helpers

    private ExecutionStream openStream(String path, String sessionId, String runtime, ExecuteRequest request,
                                       CallPolicy p, boolean newSession) {
        ensureOpen();
        Transport.OpenStream open = transport.open(executeCall(path, sessionId, runtime, request, p), p.retry(),
                p.listener());
        String sid = open.headers().firstValue(Transport.SESSION_HEADER).orElse(sessionId);
        long number = open.headers().firstValue(Transport.EXECUTION_HEADER).map(Long::parseLong).orElse(0L);
        if (sid == null) {
            open.lines().cancel();
            throw Wire.unexpected("the event stream's answer names no session (header Tether-Session)", null);
        }
        ExecutionStream[] self = new ExecutionStream[1];
        self[0] = new ExecutionStream(sid, number, newSession, open, p.streamTimeout(), () -> streams.remove(self[0]));
        streams.add(self[0]);
        if (closed) { // closed while this stream opened: close() may have missed it
            self[0].close();
            ensureOpen();
        }
        return self[0];
    }

    private Transport.Call executeCall(String path, String sessionId, String runtime, ExecuteRequest request,
                                       CallPolicy p) {
        Objects.requireNonNull(request, "request");
        Duration timeout = request.timeout() != null ? request.timeout() : p.callTimeout();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", request.code());
        if (timeout != null) {
            body.put("timeout", Wire.seconds(timeout));
        }
        if (runtime != null) {
            body.put("runtime", runtime);
        }
        if (request.stdin() != null) {
            body.put("stdin", request.stdin());
        }
        return Transport.Call.json("POST", path, body, sessionId, answerWait(timeout),
                request.idempotent() || p.idempotent());
    }

    /**
     * How long to wait for an execution's answer: its timeout plus the request timeout
     * (for the interpreter's stop and the transport), or no limit when the code has none
     * or the server's default applies (the server bounds that one).
     */
    private Duration answerWait(Duration timeout) {
        if (timeout == null || timeout.compareTo(Duration.ofDays(365)) > 0) {
            return null;
        }
        return timeout.plus(requestTimeout);
    }

    private JsonNode get(String path, String sessionId, CallPolicy p) {
        return Wire.tree(send(new Transport.Call("GET", path, null, null, sessionId, requestTimeout, true), p).body());
    }

    private Transport.Reply send(Transport.Call call, CallPolicy p) {
        ensureOpen();
        return transport.send(call, p.retry(), p.listener());
    }

    private static Session session(Transport.Reply r) {
        return Wire.session(Wire.tree(r.body()));
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this TetherClient is closed");
        }
    }

    private static String sessionPath(String sessionId) {
        return "/v1/sessions/" + encode(Wire.nonBlank("sessionId", sessionId));
    }

    private static String filePath(String sessionId, String path) {
        Wire.nonBlank("path", path);
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/", -1)) {
            segments.add(encode(s));
        }
        return sessionPath(sessionId) + "/files/" + String.join("/", segments);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
