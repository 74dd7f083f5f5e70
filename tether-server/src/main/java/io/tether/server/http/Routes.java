package io.tether.server.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.Completion;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.Inspection;
import io.tether.runtime.pool.WarmPool;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.runtime.pool.WarmPoolStats;
import io.tether.server.files.SessionFiles;
import io.tether.session.EndReason;
import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.runtime.device.DeviceRuntime;
import io.tether.session.SessionStats;
import io.tether.session.SessionStatus;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;

/**
 * The routes of HTTP API v1 over one session manager. Every session call passes the
 * caller's {@link io.tether.session.Access}: a session is visible to its owner and to admins
 * only; to anyone else the manager says it does not exist ({@code session_not_found}, so ids
 * cannot be probed).
 */
public final class Routes {
    /** The header that carries a session id, both ways. */
    static final String SESSION_HEADER = "Tether-Session";
    /** The header that carries the number of the execution an answer is about. */
    static final String EXECUTION_HEADER = "Tether-Execution";

    private static final Set<String> CREATE_FIELDS =
            Set.of("runtime", "key", "data", "metadata", "idle_timeout", "max_lifetime", "owner", "network", "device");
    private static final Set<String> PATCH_FIELDS = Set.of("data", "metadata");
    private static final Set<String> EXECUTE_FIELDS = Set.of("code", "timeout", "stdin");
    private static final Set<String> AUTO_EXECUTE_FIELDS = Set.of("code", "timeout", "runtime", "network", "stdin");
    private static final Set<String> INPUT_FIELDS = Set.of("value");
    private static final Set<String> END_FIELDS = Set.of("reason");
    private static final Set<String> CURSOR_FIELDS = Set.of("code", "cursor");
    /** A listing of a session's files stops here and says it was cut. */
    static final int MAX_LISTED = 10_000;

    private final SessionManager manager;
    private final Limits limits;
    private final Map<String, WarmPool> pools;
    private final DeviceRuntime devices;
    private final PrometheusMeterRegistry prometheus;
    private final SessionFiles files;
    private final Sandbox sandbox;
    /**
     * Executions in flight (running or queued), counted per session: one session may have
     * several, and shutdown must wait for each. Guarded by {@link #executingLock}.
     */
    private final Map<String, Integer> executing = new HashMap<>();
    private int executingTotal;
    private final ReentrantLock executingLock = new ReentrantLock();
    /** Signalled when the last execution in flight ends. */
    private final Condition noneExecuting = executingLock.newCondition();
    private volatile boolean draining;

    /** The request limits the routes enforce. */
    public record Limits(long maxBodyBytes, long maxCodeBytes, long maxFileBytes, Duration defaultExecutionTimeout,
                         Duration sseKeepalive) {
    }

    /**
     * @param devices the device runtime, or {@code null} when no device is configured
     */
    public Routes(SessionManager manager, Limits limits, Map<String, WarmPool> pools, DeviceRuntime devices,
                  PrometheusMeterRegistry prometheus, Sandbox sandbox) {
        this.manager = manager;
        this.devices = devices;
        this.sandbox = sandbox;
        this.limits = limits;
        this.pools = Map.copyOf(pools);
        this.prometheus = prometheus;
        this.files = new SessionFiles(limits.maxFileBytes(), sandbox::handOver);
    }

    /** Refuses new requests from now on ({@code shutting_down}); running ones go on. */
    public void drain() {
        draining = true;
    }

    /** Whether it refuses new requests (the server shuts down). */
    boolean draining() {
        return draining;
    }

    /** Interrupts every running execution; for a shutdown past its grace period. */
    public void interruptAll() {
        List<String> ids;
        executingLock.lock();
        try {
            ids = List.copyOf(executing.keySet());
        } finally {
            executingLock.unlock();
        }
        for (String id : ids) {
            try {
                manager.interrupt(id);
            } catch (TetherException e) {
                // it ended meanwhile: nothing to interrupt
            }
        }
    }

    /** How many executions are in flight now (running or queued behind another). */
    public int executingCount() {
        executingLock.lock();
        try {
            return executingTotal;
        } finally {
            executingLock.unlock();
        }
    }

    /**
     * Waits until no execution is in flight, or {@code timeout} has passed.
     *
     * @return whether none is in flight
     */
    public boolean awaitNoExecutions(Duration timeout) {
        long left = timeout.toNanos();
        executingLock.lock();
        try {
            while (executingTotal > 0) {
                if (left <= 0) {
                    return false;
                }
                left = noneExecuting.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return executingTotal == 0;
        } finally {
            executingLock.unlock();
        }
    }

    private void executionBegins(String id) {
        executingLock.lock();
        try {
            executing.merge(id, 1, Integer::sum);
            executingTotal++;
        } finally {
            executingLock.unlock();
        }
    }

    private void executionEnds(String id) {
        executingLock.lock();
        try {
            executing.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
            if (--executingTotal == 0) {
                noneExecuting.signalAll();
            }
        } finally {
            executingLock.unlock();
        }
    }

    /**
     * Every route of the API, in one place: docs/openapi.json describes exactly these (a test
     * holds the two together), metrics and the access log name a request by its template.
     */
    static final List<Route> TABLE = List.of(
            new Route("GET", "/healthz", true, Routes::health),
            new Route("GET", "/v1/openapi.json", true, (r, x) -> x.send(200, Wire.JSON_TYPE, openApi())),
            new Route("GET", "/metrics", false, Routes::metrics),
            new Route("GET", "/v1/sessions", false, Routes::list),
            new Route("POST", "/v1/sessions", false, Routes::create),
            new Route("GET", "/v1/sessions/{id}", false, (r, x) -> r.get(x, x.var("id"))),
            new Route("PATCH", "/v1/sessions/{id}", false, (r, x) -> r.patch(x, x.var("id"))),
            new Route("DELETE", "/v1/sessions/{id}", false, (r, x) -> r.end(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/touch", false, (r, x) -> r.touch(x, x.var("id"))),
            new Route("GET", "/v1/sessions/{id}/executions", false, (r, x) -> r.executions(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/executions", false, (r, x) -> r.executeIn(x, x.var("id"))),
            new Route("GET", "/v1/sessions/{id}/executions/{n}", false,
                    (r, x) -> r.execution(x, x.var("id"), x.var("n"))),
            new Route("POST", "/v1/sessions/{id}/interrupt", false, (r, x) -> r.interrupt(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/restart", false, (r, x) -> r.restart(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/complete", false, (r, x) -> r.complete(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/inspect", false, (r, x) -> r.inspect(x, x.var("id"))),
            new Route("POST", "/v1/sessions/{id}/input", false, (r, x) -> r.input(x, x.var("id"))),
            new Route("GET", "/v1/sessions/{id}/files", false, (r, x) -> r.listFiles(x, x.var("id"))),
            new Route("GET", "/v1/sessions/{id}/files/{path...}", false,
                    (r, x) -> r.file(x, x.var("id"), x.vars.get("path"))),
            new Route("PUT", "/v1/sessions/{id}/files/{path...}", false,
                    (r, x) -> r.file(x, x.var("id"), x.vars.get("path"))),
            new Route("DELETE", "/v1/sessions/{id}/files/{path...}", false,
                    (r, x) -> r.file(x, x.var("id"), x.vars.get("path"))),
            new Route("POST", "/v1/execute", false, Routes::autoExecute),
            new Route("GET", "/v1/runtimes", false, (r, x) -> x.send(200, r.runtimes())),
            new Route("GET", "/v1/devices", false, (r, x) -> x.send(200, r.devices(x))),
            new Route("GET", "/v1/stats", false, (r, x) -> x.send(200, r.stats(x))));

    /**
     * The request's place in {@link #TABLE}: its template (or none) and the route of its method
     * (or none: then {@code allowed} lists the template's methods).
     */
    record Match(String template, boolean open, Route route, List<String> allowed) {
        static final Match NONE = new Match("unmatched", false, null, List.of());
    }

    /**
     * Matches the request against {@link #TABLE}: sets its route name and path variables.
     * The first template that fits wins; answering (auth, 404, 405) is up to the caller.
     */
    static Match match(Exchange x) {
        String template = null;
        boolean open = true;
        Route found = null;
        List<String> allowed = new ArrayList<>();
        for (Route r : TABLE) {
            if (template != null && !r.template().equals(template)) {
                continue;
            }
            Map<String, List<String>> vars = r.match(x.path);
            if (vars == null) {
                continue;
            }
            if (template == null) {
                template = r.template();
                x.route = r.path();
                x.vars = vars;
            }
            open &= r.open();
            allowed.add(r.method());
            if (r.method().equals(x.method)) {
                found = r;
            }
        }
        return template == null ? Match.NONE : new Match(template, open, found, List.copyOf(allowed));
    }

    /** Answers a matched request; the caller has checked the Host header and, unless the route is open, the token. */
    void handle(Exchange x, Match m) {
        if (draining && !m.open()) {
            throw new TetherException(ErrorCode.SHUTTING_DOWN, "the server is shutting down");
        }
        if (m == Match.NONE) {
            throw notFound(x);
        }
        if (m.route() == null) {
            throw new MethodNotAllowed(x.method + " is not allowed on " + x.route + "; use "
                    + String.join(" or ", m.allowed()), String.join(", ", m.allowed()));
        }
        m.route().handler().accept(this, x);
    }

    private static volatile byte[] openApi;

    /** docs/openapi.json, which the build copies next to this class. */
    private static byte[] openApi() {
        byte[] doc = openApi;
        if (doc == null) {
            try (var in = Routes.class.getResourceAsStream("openapi.json")) {
                if (in == null) {
                    throw new IllegalStateException("openapi.json is missing from the class path (a broken build)");
                }
                doc = in.readAllBytes();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            openApi = doc;
        }
        return doc;
    }

    private void health(Exchange x) {
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("status", draining ? "shutting_down" : "ok");
        health.put("sandbox", sandbox.mode().toString());
        if (!sandbox.enabled()) {
            health.put("warning", "the sandbox is off: session code can read the server's files and "
                    + "reach other sessions, the server and the network");
        }
        x.send(draining ? 503 : 200, health);
    }

    private void metrics(Exchange x) {
        if (!x.principal.admin()) {
            // Server-wide figures: every owner's session counts and the pools' load.
            throw new TetherException(ErrorCode.FORBIDDEN, "GET /metrics needs an admin token: it shows "
                    + "server-wide figures of every owner");
        }
        x.send(200, "text/plain; version=0.0.4; charset=utf-8",
                prometheus.scrape().getBytes(StandardCharsets.UTF_8));
    }

    private void get(Exchange x, String id) {
        x.send(200, Wire.session(manager.get(x.principal.access(), id)));
    }

    private void touch(Exchange x, String id) {
        x.send(200, Wire.session(manager.touch(x.principal.access(), id)));
    }

    private void executeIn(Exchange x, String id) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(EXECUTE_FIELDS);
        String code = code(body);
        Duration timeout = timeout(body);
        execute(x, id, code, body.string("stdin"), timeout);
    }

    /** {@code POST /v1/sessions/{id}/input}: answers the input request of the session's execution. */
    private void input(Exchange x, String id) {
        String value = x.json(limits.maxBodyBytes()).only(INPUT_FIELDS).requiredString("value");
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw TetherException.invalid("field value is one line of input: it may not contain a line break");
        }
        manager.input(x.principal.access(), id, value);
        x.sendEmpty(204);
    }

    private void interrupt(Exchange x, String id) {
        manager.interrupt(x.principal.access(), id);
        x.sendEmpty(204);
    }

    private void restart(Exchange x, String id) {
        x.send(200, Wire.session(manager.restart(x.principal.access(), id)));
    }

    private void complete(Exchange x, String id) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(CURSOR_FIELDS);
        String code = body.requiredString("code");
        Completion c = manager.complete(x.principal.access(), id, code, cursor(body, code));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("matches", c.matches());
        answer.put("cursor_start", c.cursorStart());
        answer.put("cursor_end", c.cursorEnd());
        x.send(200, answer);
    }

    private void inspect(Exchange x, String id) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(CURSOR_FIELDS);
        String code = body.requiredString("code");
        Inspection i = manager.inspect(x.principal.access(), id, code, cursor(body, code));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("found", i.found());
        answer.put("data", i.data());
        x.send(200, answer);
    }

    /** The cursor in code points; the end of the code when not given. */
    private static int cursor(JsonBody body, String code) {
        return body.integer("cursor", code.codePointCount(0, code.length()));
    }

    private void listFiles(Exchange x, String id) {
        SessionFiles.Listing listing = files.list(manager.workingDirectory(x.principal.access(), id)
                .orElseThrow(() -> plain(id)), MAX_LISTED);
        List<Map<String, Object>> entries = new ArrayList<>();
        for (SessionFiles.Entry e : listing.entries()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", e.path());
            m.put("type", e.type());
            m.put("size", e.size());
            m.put("modified_at", e.modifiedAt().toString());
            entries.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", entries);
        m.put("truncated", listing.truncated());
        x.send(200, m);
    }

    private void execution(Exchange x, String id, String number) {
        long n = number(number);
        ExecutionRecord e = manager.execution(x.principal.access(), id, n).orElseThrow(() -> new TetherException(
                ErrorCode.NOT_FOUND, "session '" + id + "' has no execution " + n
                + " (it keeps its newest executions only)"));
        x.send(200, Wire.record(e));
    }

    private void file(Exchange x, String id, List<String> rel) {
        var dir = manager.workingDirectory(x.principal.access(), id).orElseThrow(() -> plain(id));
        switch (x.method) {
            case "GET" -> files.read(dir, rel, (in, size) -> {
                x.response.setStatus(200);
                x.response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                x.response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
                try (OutputStream out = Content.Sink.asOutputStream(x.response)) {
                    copy(in, out, size);
                } catch (IOException e) {
                    throw new Exchange.ClientGone(e);
                }
                return null;
            });
            case "PUT" -> {
                SessionFiles.Written w = files.write(dir, rel, Content.Source.asInputStream(x.request),
                        x.request.getLength());
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("path", String.join("/", rel));
                m.put("size", w.size());
                x.send(w.created() ? 201 : 200, m);
            }
            default -> {
                files.delete(dir, rel);
                x.sendEmpty(204);
            }
        }
    }

    /** Copies {@code size} bytes at most: what the file held when it was opened, though it may grow. */
    private static void copy(SeekableByteChannel in, OutputStream out, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long left = size;
        while (left > 0) {
            buf.clear().limit((int) Math.min(buf.capacity(), left));
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            out.write(buf.array(), 0, n);
            left -= n;
        }
    }

    // ---------------------------------------------------------------- sessions

    private void create(Exchange x) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(CREATE_FIELDS);
        String owner = body.string("owner");
        SessionSpec.Builder spec = SessionSpec.builder(owner != null ? owner : x.principal.owner());
        String runtime = body.string("runtime");
        spec.runtime(runtime != null ? runtime : Session.NO_RUNTIME);
        spec.network(network(body, runtime != null ? runtime : Session.NO_RUNTIME));
        String key = body.string("key");
        if (key != null) {
            spec.key(key);
        }
        String device = body.string("device");
        if (device != null) {
            spec.device(device);
        }
        Map<String, Object> data = body.object("data");
        if (data != null) {
            spec.data(data);
        }
        Map<String, Object> metadata = body.object("metadata");
        if (metadata != null) {
            spec.metadata(metadata);
        }
        Duration idle = body.seconds("idle_timeout");
        if (idle == JsonBody.NONE) {
            spec.noIdleTimeout();
        } else if (idle != null) {
            spec.idleTimeout(idle);
        }
        Duration life = body.seconds("max_lifetime");
        if (life == JsonBody.NONE) {
            spec.noMaxLifetime();
        } else if (life != null) {
            spec.maxLifetime(life);
        }
        Session s = manager.create(x.principal.access(), spec.build());
        x.response.getHeaders().put(SESSION_HEADER, s.id());
        x.send(201, Wire.session(s));
    }

    private void list(Exchange x) {
        SessionQuery q = SessionQuery.all();
        String owner = x.query("owner");
        if (owner != null) {
            q = q.withOwner(owner);
        }
        String status = x.query("status");
        if (status != null) {
            q = q.withStatus(status(status));
        }
        String runtime = x.query("runtime");
        if (runtime != null) {
            q = q.withRuntime(runtime);
        }
        String limit = x.query("limit");
        if (limit != null) {
            q = q.withLimit(integer("limit", limit, 1, SessionQuery.MAX_LIMIT));
        }
        String cursor = x.query("cursor");
        if (cursor != null) {
            q = q.after(cursor);
        }
        Page<Session> page = manager.list(x.principal.access(), q);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", page.items().stream().map(Wire::session).toList());
        m.put("next_cursor", page.nextCursor());
        x.send(200, m);
    }

    private void patch(Exchange x, String id) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(PATCH_FIELDS);
        Map<String, Object> data = body.object("data");
        Map<String, Object> metadata = body.object("metadata");
        x.send(200, Wire.session(manager.update(x.principal.access(), id, data, metadata)));
    }

    private void end(Exchange x, String id) {
        String reason = x.query("reason");
        if (reason == null) {
            reason = x.json(limits.maxBodyBytes()).only(END_FIELDS).string("reason");
        }
        EndReason why;
        try {
            why = reason == null ? EndReason.MANUAL : EndReason.of(reason);
        } catch (IllegalArgumentException e) {
            throw TetherException.invalid("reason: " + e.getMessage());
        }
        x.send(200, Wire.session(manager.end(x.principal.access(), id, why)));
    }

    // ---------------------------------------------------------------- executions

    private void autoExecute(Exchange x) {
        JsonBody body = x.json(limits.maxBodyBytes()).only(AUTO_EXECUTE_FIELDS);
        String code = code(body);
        Duration timeout = timeout(body);
        String runtime = body.string("runtime");
        String id = x.header(SESSION_HEADER);
        if (id == null || id.isBlank()) {
            String r = runtime != null ? runtime : "python";
            Session s = manager.create(x.principal.access(), SessionSpec.builder(x.principal.owner()).runtime(r)
                    .network(network(body, r)).build());
            id = s.id();
        } else {
            if (body.has("network")) {
                throw TetherException.invalid("field network: only a request that creates its session may ask for "
                        + "the network");
            }
            id = id.trim();
            // Clients name the runtime only to create; checking a named one costs a lookup of its own.
            Session s = runtime == null ? null : manager.get(x.principal.access(), id);
            if (s != null && !runtime.equals(s.runtime())) {
                throw TetherException.invalid("field runtime: session '" + id + "' is a " + s.runtime()
                        + " session, the request asks for " + runtime);
            }
        }
        x.response.getHeaders().put(SESSION_HEADER, id);
        execute(x, id, code, body.string("stdin"), timeout);
    }

    private void execute(Exchange x, String id, String code, String stdin, Duration timeout) {
        executionBegins(id);
        try {
            if (x.accepts("text/event-stream")) {
                ExecutionStream stream = new ExecutionStream(x, id, limits.sseKeepalive());
                ExecutionResult r;
                try {
                    r = manager.execute(x.principal.access(), id, code, stdin, timeout, stream);
                } catch (RuntimeException e) {
                    stream.abandon();
                    throw e;
                }
                stream.finish(r);
            } else {
                ExecutionResult r = manager.execute(x.principal.access(), id, code, stdin, timeout, null);
                x.response.getHeaders().put(EXECUTION_HEADER, Long.toString(r.number()));
                x.send(200, Wire.result(id, r));
            }
        } finally {
            executionEnds(id);
        }
    }

    /**
     * {@code GET /v1/sessions/{id}/executions}: the session's running and kept executions,
     * newest first, a page at a time; summaries unless {@code output=true}.
     */
    private void executions(Exchange x, String id) {
        String limitText = x.query("limit");
        int limit = limitText == null ? SessionQuery.DEFAULT_LIMIT
                : integer("limit", limitText, 1, SessionQuery.MAX_LIMIT);
        String cursor = x.query("cursor");
        long before = cursor == null ? Long.MAX_VALUE : executionCursor(cursor);
        boolean output = bool("output", x.query("output"));
        // One more than asked tells whether a next page exists, so the last page has no cursor.
        List<ExecutionRecord> found = manager.executions(x.principal.access(), id, before, limit + 1);
        List<ExecutionRecord> page = found.size() > limit ? found.subList(0, limit) : found;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", page.stream().map(e -> output ? Wire.record(e) : Wire.recordSummary(e)).toList());
        m.put("next_cursor", found.size() > limit
                ? encodeExecutionCursor(page.get(page.size() - 1).number()) : null);
        x.send(200, m);
    }

    private static final String EXECUTION_CURSOR_PREFIX = "execution:";

    private static String encodeExecutionCursor(long lastNumber) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((EXECUTION_CURSOR_PREFIX + lastNumber).getBytes(StandardCharsets.UTF_8));
    }

    /** The number below which the next page starts. */
    private static long executionCursor(String text) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            if (raw.startsWith(EXECUTION_CURSOR_PREFIX)) {
                long n = Long.parseLong(raw.substring(EXECUTION_CURSOR_PREFIX.length()));
                if (n >= 1) {
                    return n;
                }
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw TetherException.invalid("malformed page cursor '" + text + "'");
    }

    private static boolean bool(String name, String text) {
        if (text == null || text.equals("false")) {
            return false;
        }
        if (text.equals("true")) {
            return true;
        }
        throw TetherException.invalid("parameter " + name + " must be true or false, got '" + text + "'");
    }

    private String code(JsonBody body) {
        String code = body.requiredString("code");
        long bytes = code.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxCodeBytes()) {
            throw new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "field code has " + bytes + " bytes; the limit is "
                    + limits.maxCodeBytes() + " (setting max_code_bytes)");
        }
        return code;
    }

    private Duration timeout(JsonBody body) {
        Duration t = body.seconds("timeout");
        if (t == JsonBody.NONE) {
            return null;
        }
        return t != null ? t : limits.defaultExecutionTimeout();
    }

    /** The {@code network} field, checked against the sandbox before anything is created. */
    private boolean network(JsonBody body, String runtime) {
        boolean network = body.bool("network", false);
        if (network && runtime.equals(Session.NO_RUNTIME)) {
            throw TetherException.invalid("field network: a plain session (runtime none) runs no code");
        }
        sandbox.checkNetwork(network);
        return network;
    }

    // ---------------------------------------------------------------- runtimes, stats

    private Map<String, Object> runtimes() {
        List<Object> list = new ArrayList<>();
        for (WarmPool pool : pools.values()) {
            WarmPoolStats s = pool.stats();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.runtime());
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("idle", s.idle());
            p.put("starting", s.starting());
            p.put("in_use", s.handedOut());
            p.put("hits", s.hits());
            p.put("misses", s.misses());
            p.put("hit_rate", s.hitRate());
            p.put("waits", s.waits());
            p.put("timeouts", s.timeouts());
            p.put("failures", s.failures());
            p.put("spawn_median_seconds", s.spawnLatencyMedian().toNanos() / 1e9);
            p.put("spawn_p99_seconds", s.spawnLatencyP99().toNanos() / 1e9);
            m.put("pool", p);
            list.add(m);
        }
        if (devices != null) {
            list.add(Map.of("name", devices.name(), "devices", devices.devices().size()));
        }
        return Map.of("runtimes", list, "sandbox", sandboxReport(sandbox));
    }

    /**
     * The configured MicroPython devices: name, transport, whether a session holds it and what
     * it is (once a session found out). An admin also sees each address.
     */
    private Map<String, Object> devices(Exchange x) {
        List<Object> list = new ArrayList<>();
        if (devices != null) {
            for (DeviceRuntime.DeviceInfo d : devices.devices()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", d.name());
                m.put("transport", d.address().kind());
                if (x.principal.admin()) {
                    m.put("address", d.address().toString());
                }
                m.put("held", d.held());
                m.put("capabilities", d.capabilities().map(c -> {
                    Map<String, Object> cm = new LinkedHashMap<>();
                    cm.put("implementation", c.implementation());
                    cm.put("version", c.version());
                    cm.put("machine", c.machine());
                    cm.put("platform", c.platform());
                    cm.put("memory_bytes", c.memoryBytes());
                    cm.put("raw_paste", c.rawPaste());
                    cm.put("threads", c.threads());
                    cm.put("asyncio", c.asyncio());
                    return (Object) cm;
                }).orElse(null));
                list.add(m);
            }
        }
        return Map.of("devices", list);
    }

    /** What {@code GET /v1/runtimes} says of the sandbox: mode, layers in force, network, what is missing. */
    static Map<String, Object> sandboxReport(Sandbox sandbox) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", sandbox.mode().toString());
        m.put("layers", sandbox.layers());
        m.put("network", sandbox.networkAllowed());
        m.put("missing", sandbox.missing());
        return m;
    }

    private Map<String, Object> stats(Exchange x) {
        SessionStats s = manager.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        if (x.principal.admin()) {
            m.put("active", s.active());
            m.put("total_created", s.totalCreated());
            m.put("peak_active", s.peakActive());
            m.put("ended_by_reason", s.endedByReason());
            m.put("active_by_owner", s.activeByOwner());
        } else {
            m.put("active", s.activeByOwner().getOrDefault(x.principal.owner(), 0L));
        }
        m.put("executing", executingCount());
        return m;
    }

    // ---------------------------------------------------------------- helpers

    /** A known route asked with the wrong method: 405 with {@code Allow}, code {@code invalid_request}. */
    static final class MethodNotAllowed extends TetherException {
        final String allow;

        MethodNotAllowed(String message, String allow) {
            super(ErrorCode.INVALID_REQUEST, message);
            this.allow = allow;
        }
    }

    private static TetherException notFound(Exchange x) {
        return new TetherException(ErrorCode.NOT_FOUND, "no route " + x.method + " /" + String.join("/", x.path)
                + "; the routes are listed in docs/http-api.md and at GET /v1/openapi.json");
    }

    private static TetherException plain(String id) {
        return TetherException.invalid("session '" + id + "' is a plain session (runtime none): it has no "
                + "interpreter and no working directory");
    }

    private static SessionStatus status(String text) {
        for (SessionStatus s : SessionStatus.values()) {
            if (s.wireName().equals(text)) {
                return s;
            }
        }
        throw TetherException.invalid("parameter status must be one of active, ended, timeout, error; got '" + text + "'");
    }

    private static long number(String text) {
        try {
            long n = Long.parseLong(text);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw TetherException.invalid("an execution number is a whole number ≥ 1, got '" + text + "'");
    }

    private static int integer(String name, String text, int min, int max) {
        try {
            int n = Integer.parseInt(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw TetherException.invalid("parameter " + name + " must be a whole number from " + min + " to " + max
                + ", got '" + text + "'");
    }
}
