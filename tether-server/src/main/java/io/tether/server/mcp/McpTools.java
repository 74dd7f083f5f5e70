package io.tether.server.mcp;

import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.server.auth.Principal;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.store.SessionQuery;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The MCP tools over one session manager. Their names and arguments are fixed, so clients
 * and docs can rely on them: {@code execute}, {@code create_session}, {@code end_session},
 * {@code list_sessions}, {@code interrupt}, {@code list_files}, {@code read_file},
 * {@code write_file}.
 *
 * <p>A session handle is a Tether session id: the same id works in the REST API. A caller
 * sees its own sessions only (an admin token sees all); any other handle, like an ended
 * one, is a tool error ({@code isError}), never another owner's session.
 */
final class McpTools {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(McpTools.class);
    /** The limits the tools enforce. */
    record Limits(long maxCodeBytes, long maxFileBytes, Duration defaultExecutionTimeout,
                  Duration maxExecutionTimeout, int maxTextChars, Duration progressInterval,
                  Duration sessionIdleTimeout) {
    }

    private final SessionManager manager;
    private final McpSessions sessions;
    private final McpCalls calls;
    private final Limits limits;
    private final Consumer<Boolean> networkCheck;
    private final McpFiles files;

    /**
     * @param networkCheck refuses ({@link TetherException}) a session with the network when
     *     the sandbox does not allow it
     */
    McpTools(SessionManager manager, McpSessions sessions, McpCalls calls, Limits limits,
             Consumer<Boolean> networkCheck, McpFiles files) {
        this.manager = manager;
        this.sessions = sessions;
        this.calls = calls;
        this.limits = limits;
        this.networkCheck = networkCheck;
        this.files = files;
    }

    List<SyncToolSpecification> specifications() {
        String lifetime = limits.sessionIdleTimeout() == null
                ? "A handle stays valid until the session is ended."
                : "A handle stays valid until the session is ended or has been idle for its idle timeout ("
                        + human(limits.sessionIdleTimeout()) + " unless create_session set another).";
        List<SyncToolSpecification> out = new ArrayList<>();
        out.add(tool("execute", "Run code in a live interpreter whose variables, imports and files persist "
                + "between calls. Without `session` it runs in this connection's automatic session (created on "
                + "the first call, ended when the connection ends); the result names the session's handle, "
                + "which later calls may pass as `session`. " + lifetime,
                schema(ordered(
                        "code", prop("string", "The code to run"),
                        "session", prop("string", "A session handle (from create_session or an earlier result); "
                                + "omit for the automatic session"),
                        "runtime", prop("string", "The interpreter for a new session: python (default) or jshell"),
                        "timeout", prop("number", "Seconds the code may run (default "
                                + limits.defaultExecutionTimeout().toSeconds() + ", at most "
                                + limits.maxExecutionTimeout().toSeconds() + ")"),
                        "stdin", prop("string", "Text the code reads as standard input (input(), sys.stdin, "
                                + "System.in), line by line; without it, or past its end, input() raises EOFError")),
                        "code"),
                this::execute));
        out.add(tool("create_session", "Start a new live session and return its handle, for work kept apart "
                + "from the automatic session. " + lifetime,
                schema(ordered(
                        "runtime", prop("string", "python (default) or jshell"),
                        "idle_timeout", prop("number", "Seconds without use after which the session ends"),
                        "network", prop("boolean", "Whether its code may use the network (if the server allows)"))),
                this::createSession));
        out.add(tool("end_session", "End a session: its interpreter stops and its files are deleted.",
                schema(ordered("session", prop("string", "The session handle")), "session"),
                this::endSession));
        out.add(tool("list_sessions", "List your active sessions with their handles.",
                schema(ordered()), this::listSessions));
        out.add(tool("interrupt", "Interrupt the code running in a session; its variables are kept.",
                schema(ordered("session", prop("string", "The session handle; omit for the automatic session"))),
                this::interrupt));
        out.add(tool("list_files", "List the files in a session's working directory.",
                schema(ordered("session", prop("string", "The session handle; omit for the automatic session"))),
                this::listFiles));
        out.add(tool("read_file", "Read a text file from a session's working directory.",
                schema(ordered(
                        "session", prop("string", "The session handle; omit for the automatic session"),
                        "name", prop("string", "The file's name in the working directory")), "name"),
                this::readFile));
        out.add(tool("write_file", "Write a text file into a session's working directory (replacing one of "
                + "that name), for the session's code to read.",
                schema(ordered(
                        "session", prop("string", "The session handle; omit for the automatic session"),
                        "name", prop("string", "The file's name in the working directory"),
                        "content", prop("string", "The text to write (UTF-8)")), "name", "content"),
                this::writeFile));
        return out;
    }

    // ---------------------------------------------------------------- tools

    private CallToolResult execute(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        String code = args.requiredString("code");
        String handle = args.string("session");
        String runtime = args.string("runtime");
        Duration timeout = args.seconds("timeout", limits.maxExecutionTimeout().toSeconds());
        String stdin = args.string("stdin");
        long bytes = code.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxCodeBytes()) {
            throw new ToolError("execute: code has " + bytes + " bytes; the limit is " + limits.maxCodeBytes());
        }
        Principal p = principal(exchange);
        String note = null;
        Session session;
        if (handle != null) {
            session = active(p, handle);
            if (runtime != null && !runtime.equals(session.runtime())) {
                throw new ToolError("execute: session " + session.id() + " is a " + session.runtime()
                        + " session, the call asks for " + runtime);
            }
        } else if (exchange.sessionId() != null) {
            String r = runtime != null ? runtime : "python";
            McpSessions.Bound bound = sessions.automatic(exchange.sessionId(), () -> create(p, r, null, false));
            session = bound.session();
            if (runtime != null && !runtime.equals(session.runtime())) {
                throw new ToolError("execute: this connection's automatic session " + session.id() + " is a "
                        + session.runtime() + " session; for " + runtime + " call create_session and pass its handle");
            }
            if (bound.replaced() != null) {
                note = "The automatic session " + bound.replaced() + " had ended, so this ran in a new one: "
                        + "earlier variables and files are gone.";
            }
        } else {
            session = create(p, runtime != null ? runtime : "python", null, false);
            note = "This ran in a new session; pass session=\"" + session.id() + "\" to keep its state.";
        }
        return run(exchange, progressToken(request), session.id(), code, stdin,
                timeout != null ? timeout : limits.defaultExecutionTimeout(), note);
    }

    private CallToolResult run(McpSyncServerExchange exchange, Object token, String id, String code, String stdin,
                               Duration timeout, String note) {
        ExecutionResult r;
        try (McpCalls.Call call = calls.begin(exchange.sessionId(), requestId(exchange), id);
             Progress progress = token == null ? null : new Progress(exchange, token, limits.progressInterval())) {
            r = manager.execute(io.tether.session.Access.SYSTEM, id, code, stdin, timeout,
                    progress == null ? null : progress::output);
            if (call.cancelled() && r.status() == ExecutionStatus.INTERRUPTED) {
                note = note == null ? "Cancelled." : note + " Cancelled.";
            }
        }
        return ExecutionText.result(id, r, note, limits.maxTextChars());
    }

    private CallToolResult createSession(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        String runtime = args.string("runtime");
        Duration idle = args.seconds("idle_timeout", Long.MAX_VALUE / 1000);
        boolean network = args.bool("network", false);
        Session s = create(principal(exchange), runtime != null ? runtime : "python", idle, network);
        return ok("Created session " + s.id() + " (" + s.runtime() + "). Pass session=\"" + s.id()
                + "\" to execute and the file tools; end it with end_session.", Map.of("session", s.id(),
                "runtime", s.runtime()));
    }

    private CallToolResult endSession(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        Session s = active(principal(exchange), args.requiredString("session"));
        manager.end(s.id(), EndReason.MANUAL);
        return ok("Ended session " + s.id() + ".", Map.of("session", s.id(), "status", "ended"));
    }

    private CallToolResult listSessions(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        Principal p = principal(exchange);
        String automatic = exchange.sessionId() == null ? null
                : sessions.boundSession(exchange.sessionId()).orElse(null);
        List<Session> found = manager.list(SessionQuery.all().withOwner(p.owner()).withStatus(SessionStatus.ACTIVE)
                .withLimit(SessionQuery.MAX_LIMIT)).items();
        List<Map<String, Object>> items = new ArrayList<>();
        StringBuilder text = new StringBuilder(found.isEmpty() ? "No active sessions." : "Active sessions:");
        for (Session s : found) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("session", s.id());
            m.put("runtime", s.runtime());
            m.put("created_at", s.createdAt().toString());
            m.put("last_activity_at", s.lastActivityAt().toString());
            m.put("automatic", s.id().equals(automatic));
            items.add(m);
            text.append("\n- ").append(s.id()).append(" (").append(s.runtime())
                    .append(s.id().equals(automatic) ? ", this connection's automatic session" : "")
                    .append(", last used ").append(s.lastActivityAt()).append(")");
        }
        return ok(text.toString(), Map.of("sessions", items));
    }

    private CallToolResult interrupt(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        Session s = target(exchange, args);
        manager.interrupt(s.id());
        return ok("Interrupted the code running in session " + s.id() + " (if any).", Map.of("session", s.id()));
    }

    private CallToolResult listFiles(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        Session s = target(exchange, args);
        return files.list(s.id(), directory(s));
    }

    private CallToolResult readFile(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        Session s = target(exchange, args);
        return files.read(s.id(), directory(s), args.requiredString("name"), limits.maxTextChars());
    }

    private CallToolResult writeFile(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args) {
        String name = args.requiredString("name");
        String content = args.requiredString("content");
        Session s = target(exchange, args);
        return files.write(s.id(), directory(s), name, content.getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- helpers

    private Session create(Principal p, String runtime, Duration idle, boolean network) {
        if (runtime.equals(Session.NO_RUNTIME)) {
            throw new ToolError("runtime none is a plain session without an interpreter; use python or jshell");
        }
        networkCheck.accept(network);
        SessionSpec.Builder spec = SessionSpec.builder(p.owner()).runtime(runtime).network(network);
        if (idle != null) {
            spec.idleTimeout(idle);
        }
        return manager.create(spec.build());
    }

    /** The session a file or interrupt call names, or this connection's automatic session. */
    private Session target(McpSyncServerExchange exchange, ToolArguments args) {
        String handle = args.string("session");
        Principal p = principal(exchange);
        if (handle != null) {
            return active(p, handle);
        }
        String bound = exchange.sessionId() == null ? null : sessions.boundSession(exchange.sessionId()).orElse(null);
        if (bound == null) {
            throw new ToolError("no session: pass a session handle (this connection has no automatic session "
                    + "yet; execute creates it)");
        }
        return active(p, bound);
    }

    /**
     * The caller's active session with this handle. Another owner's session is answered
     * exactly like one that never existed, so handles cannot be probed.
     */
    private Session active(Principal p, String handle) {
        Session s = manager.find(handle).orElse(null);
        if (s == null || !(p.admin() || s.owner().equals(p.owner()))) {
            throw new ToolError("no session with handle '" + handle + "': pass a handle from create_session, "
                    + "list_sessions or an earlier execute result");
        }
        if (!s.isActive()) {
            throw new ToolError("session " + s.id() + " has ended (" + s.endReason() + "); its state is gone: "
                    + "call execute without session, or create_session, for a new one");
        }
        return s;
    }

    private java.nio.file.Path directory(Session s) {
        return manager.workingDirectory(s.id()).orElseThrow(() -> new ToolError("session " + s.id()
                + " is a plain session (runtime none): it has no working directory"));
    }

    static Principal principal(McpSyncServerExchange exchange) {
        Object p = exchange.transportContext().get(McpGate.PRINCIPAL);
        if (!(p instanceof Principal principal)) {
            throw new IllegalStateException("an MCP call reached a tool without passing the gate");
        }
        return principal;
    }

    private static String requestId(McpSyncServerExchange exchange) {
        Object id = exchange.transportContext().get(McpGate.REQUEST_ID);
        return id == null ? null : id.toString();
    }

    /** The token the client asked progress notifications for, or {@code null}. */
    private static Object progressToken(CallToolRequest request) {
        return request.meta() == null ? null : request.meta().get("progressToken");
    }

    private SyncToolSpecification tool(String name, String description, Map<String, Object> schema,
                                       Body body) {
        @SuppressWarnings("unchecked")
        Set<String> known = ((Map<String, Object>) schema.get("properties")).keySet();
        McpSchema.Tool tool = McpSchema.Tool.builder(name, schema).description(description).build();
        return SyncToolSpecification.builder().tool(tool).callHandler((exchange, request) -> {
            try {
                return body.call(exchange, request, new ToolArguments(name, request.arguments(), known));
            } catch (ToolError e) {
                return error(e.getMessage());
            } catch (TetherException e) {
                return error(name + ": " + e.getMessage() + " (" + e.code().code() + ")");
            } catch (RuntimeException e) {
                LOG.error("MCP tool {} failed", name, e);
                return error(name + ": internal error (" + e.getClass().getSimpleName() + "); the server log has more");
            }
        }).build();
    }

    /** A tool's work. */
    @FunctionalInterface
    private interface Body {
        CallToolResult call(McpSyncServerExchange exchange, CallToolRequest request, ToolArguments args);
    }

    static CallToolResult error(String message) {
        return CallToolResult.builder().addTextContent(message).isError(true).build();
    }

    private static CallToolResult ok(String text, Map<String, Object> structured) {
        List<Content> content = List.of(TextContent.builder(text).build());
        return CallToolResult.builder().content(content).structuredContent(structured).isError(false).build();
    }

    /** The properties in the order given: clients show them so. */
    private static Map<String, Object> ordered(Object... nameThenProperty) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenProperty.length; i += 2) {
            m.put((String) nameThenProperty[i], nameThenProperty[i + 1]);
        }
        return m;
    }

    private static Map<String, Object> schema(Map<String, Object> properties, String... required) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "object");
        m.put("properties", properties);
        if (required.length > 0) {
            m.put("required", List.of(required));
        }
        m.put("additionalProperties", false);
        return m;
    }

    private static Map<String, Object> prop(String type, String description) {
        return Map.of("type", type, "description", description);
    }

    private static String human(Duration d) {
        long s = d.toSeconds();
        return s % 3600 == 0 ? s / 3600 + " h" : s % 60 == 0 ? s / 60 + " min" : s + " s";
    }
}
