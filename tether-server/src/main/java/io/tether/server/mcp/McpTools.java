package io.tether.server.mcp;

import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpError;
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
    private final McpRelay relay;

    /**
     * @param networkCheck refuses ({@link TetherException}) a session with the network when
     *     the sandbox does not allow it
     * @param relay runs calls about sessions other nodes hold on those nodes, or {@code null}
     *     on a server that is a node of its own
     */
    McpTools(SessionManager manager, McpSessions sessions, McpCalls calls, Limits limits,
             Consumer<Boolean> networkCheck, McpFiles files, McpRelay relay) {
        this.relay = relay;
        this.manager = manager;
        this.sessions = sessions;
        this.calls = calls;
        this.limits = limits;
        this.networkCheck = networkCheck;
        this.files = files;
    }

    List<Definition> definitions() {
        String lifetime = limits.sessionIdleTimeout() == null
                ? "A handle stays valid until the session is ended."
                : "A handle stays valid until the session is ended or has been idle for its idle timeout ("
                        + human(limits.sessionIdleTimeout()) + " unless create_session set another).";
        List<Definition> out = new ArrayList<>();
        out.add(tool("execute", "Run code in a live interpreter whose variables, imports and files persist "
                + "between calls. Without `session`, on a connection with an MCP session it runs in that "
                + "connection's automatic session (created on the first call, ended when the connection ends); "
                + "without an MCP session (protocol 2026-07-28, stateless clients) it creates a new session. "
                + "The result names the session's handle, which later calls pass as `session`. Output too long "
                + "or images too large for the result are saved in the session's " + OutputFiles.FOLDER + "/ folder "
                + "and linked (resource_link; resources/read or read_file gives them whole). " + lifetime,
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
        out.add(tool("list_files", "List the files in a session's working directory, subdirectories included "
                + "(at most " + McpFiles.MAX_LISTED + " entries).",
                schema(ordered("session", prop("string", "The session handle; omit for the automatic session"))),
                this::listFiles));
        out.add(tool("read_file", "Read a text file from a session's working directory (capped like output; "
                + "the file resources give whole files, binary ones too).",
                schema(ordered(
                        "session", prop("string", "The session handle; omit for the automatic session"),
                        "name", prop("string", "The file's path below the working directory (data/in.csv)")),
                        "name"),
                this::readFile));
        out.add(tool("write_file", "Write a text file into a session's working directory (replacing one of "
                + "that name), for the session's code to read.",
                schema(ordered(
                        "session", prop("string", "The session handle; omit for the automatic session"),
                        "name", prop("string", "The file's path below the working directory (data/in.csv); "
                                + "missing directories are made"),
                        "content", prop("string", "The text to write (UTF-8)")), "name", "content"),
                this::writeFile));
        return out;
    }

    // ---------------------------------------------------------------- tools

    private CallToolResult execute(Caller caller, ToolArguments args) {
        String code = args.requiredString("code");
        String handle = args.string("session");
        String runtime = args.string("runtime");
        Duration timeout = args.seconds("timeout", limits.maxExecutionTimeout().toSeconds());
        String stdin = args.string("stdin");
        long bytes = code.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxCodeBytes()) {
            throw new ToolError("execute: code has " + bytes + " bytes; the limit is " + limits.maxCodeBytes());
        }
        Principal p = caller.principal();
        String note = null;
        Session session;
        if (handle != null) {
            session = active(p, handle);
            if (runtime != null && !runtime.equals(session.runtime())) {
                throw new ToolError("execute: session " + session.id() + " is a " + session.runtime()
                        + " session, the call asks for " + runtime);
            }
        } else if (caller.mcpSession() != null) {
            String r = runtime != null ? runtime : "python";
            McpSessions.Bound bound = sessions.automatic(caller.mcpSession(), () -> create(p, r, null, false));
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
        return run(caller, session.id(), code, stdin,
                timeout != null ? timeout : limits.defaultExecutionTimeout(), note);
    }

    private CallToolResult run(Caller caller, String id, String code, String stdin, Duration timeout, String note) {
        Object token = caller.progressToken();
        ExecutionResult r;
        try (McpCalls.Call call = calls.begin(caller.cancelScope(), caller.requestId(), id);
             Progress progress = token == null ? null : new Progress(caller.progress(), limits.progressInterval())) {
            r = manager.execute(caller.principal().access(), id, code, stdin, timeout,
                    progress == null ? null : progress::output);
            if (call.cancelled() && r.status() == ExecutionStatus.INTERRUPTED) {
                note = note == null ? "Cancelled." : note + " Cancelled.";
            }
        }
        return ExecutionText.result(id, r, note, limits.maxTextChars(), spill(caller.principal(), id, r.number()));
    }

    /** Saves what an execution's result cannot carry into its session's {@value OutputFiles#FOLDER}. */
    private ExecutionText.Spill spill(Principal p, String id, long number) {
        OutputFiles[] made = {null};
        return (what, extension, bytes) -> {
            if (made[0] == null) {
                java.nio.file.Path dir;
                try {
                    dir = manager.workingDirectory(p.access(), id).orElse(null);
                } catch (TetherException e) {
                    return ExecutionText.Saved.not("session " + id + " has ended");
                }
                if (dir == null) {
                    return ExecutionText.Saved.not("session " + id + " has no working directory");
                }
                made[0] = new OutputFiles(files.access(), dir, id, number, () -> manager.diskRoom(p.access(), id));
            }
            return made[0].save(what, extension, bytes);
        };
    }

    private CallToolResult createSession(Caller caller, ToolArguments args) {
        String runtime = args.string("runtime");
        Duration idle = args.seconds("idle_timeout", Long.MAX_VALUE / 1000);
        boolean network = args.bool("network", false);
        Session s = create(caller.principal(), runtime != null ? runtime : "python", idle, network);
        return ok("Created session " + s.id() + " (" + s.runtime() + "). Pass session=\"" + s.id()
                + "\" to execute and the file tools; end it with end_session.", Map.of("session", s.id(),
                "runtime", s.runtime()));
    }

    private CallToolResult endSession(Caller caller, ToolArguments args) {
        Principal p = caller.principal();
        Session s = active(p, args.requiredString("session"));
        manager.end(p.access(), s.id(), EndReason.MANUAL);
        return ok("Ended session " + s.id() + ".", Map.of("session", s.id(), "status", "ended"));
    }

    private CallToolResult listSessions(Caller caller, ToolArguments args) {
        Principal p = caller.principal();
        String automatic = caller.mcpSession() == null ? null
                : sessions.boundSession(caller.mcpSession()).orElse(null);
        List<Session> found = manager.list(p.access(), SessionQuery.all().withOwner(p.owner())
                .withStatus(SessionStatus.ACTIVE).withLimit(SessionQuery.MAX_LIMIT)).items();
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

    private CallToolResult interrupt(Caller caller, ToolArguments args) {
        Session s = target(caller, args);
        manager.interrupt(caller.principal().access(), s.id());
        return ok("Interrupted the code running in session " + s.id() + " (if any).", Map.of("session", s.id()));
    }

    private CallToolResult listFiles(Caller caller, ToolArguments args) {
        Session s = target(caller, args);
        return files.list(s.id(), directory(caller, s));
    }

    private CallToolResult readFile(Caller caller, ToolArguments args) {
        Session s = target(caller, args);
        return files.read(s.id(), directory(caller, s), args.requiredString("name"), limits.maxTextChars());
    }

    private CallToolResult writeFile(Caller caller, ToolArguments args) {
        String name = args.requiredString("name");
        String content = args.requiredString("content");
        Session s = target(caller, args);
        return files.write(s.id(), directory(caller, s), name, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A session's files as MCP resources ({@value McpFiles#FILE_TEMPLATE}, the name a path
     * below the working directory, percent-encoded with its {@code /}s): as text when it is
     * UTF-8, else as a blob, up to the server's {@code max_file_bytes}. Only the caller's
     * sessions: another owner's, an ended one or a missing file is {@code -32002} (resource
     * not found).
     */
    List<McpServerFeatures.SyncResourceTemplateSpecification> resourceTemplates() {
        McpSchema.ResourceTemplate template = McpSchema.ResourceTemplate.builder()
                .uriTemplate(McpFiles.FILE_TEMPLATE).name("session-file")
                .description(TEMPLATE_DESCRIPTION).build();
        return List.of(new McpServerFeatures.SyncResourceTemplateSpecification(template, (exchange, request) -> {
            McpFiles.Contents c;
            try {
                c = resource(exchange.transportContext(), request.uri());
            } catch (ToolError e) {
                throw McpError.builder(McpSchema.ErrorCodes.RESOURCE_NOT_FOUND).message(e.getMessage())
                        .data(Map.of("uri", request.uri())).build();
            }
            return new McpSchema.ReadResourceResult(List.of(c.text() != null
                    ? McpSchema.TextResourceContents.builder(c.uri(), c.text()).mimeType(c.mimeType()).build()
                    : McpSchema.BlobResourceContents.builder(c.uri(), java.util.Base64.getEncoder()
                            .encodeToString(c.blob())).mimeType(c.mimeType()).build()));
        }));
    }

    /** What the file resources' template says, on either protocol revision. */
    static final String TEMPLATE_DESCRIPTION = "A file of a session (the handle as id); name is its path below the "
            + "session's working directory, percent-encoded ('/' as %2F). Files too large for a tool result ("
            + OutputFiles.FOLDER + "/…) are linked this way.";

    /**
     * The file a resource URI names, read as the caller: for both protocol revisions; a file
     * of a session another node holds is read on that node.
     *
     * @throws ToolError when the URI is not a session file's, the session is not the
     *     caller's or has ended, or there is no such file; its message says which
     */
    McpFiles.Contents resource(io.modelcontextprotocol.common.McpTransportContext context, String uri) {
        Principal p = principal(context);
        String[] idAndName = McpFiles.parse(uri);
        try {
            String owner = relay == null ? null
                    : relay.ownerOf(p, attribute(context, McpGate.FORWARDED_BY), idAndName[0]).orElse(null);
            if (owner != null) {
                // a file of a session another node holds: read there, as a tool call about it would run there
                return relay.read(owner, idAndName[0], uri, attribute(context, McpGate.AUTHORIZATION));
            }
            Session s = active(p, idAndName[0]);
            java.nio.file.Path dir = manager.workingDirectory(p.access(), s.id()).orElseThrow(() -> new ToolError(
                    "session " + s.id() + " is a plain session: it has no files"));
            return files.resource(uri, s.id(), dir, idAndName[1]);
        } catch (TetherException e) {
            throw new ToolError(e.getMessage());
        }
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
        return manager.create(p.access(), spec.build());
    }

    /** The session a file or interrupt call names, or this connection's automatic session. */
    private Session target(Caller caller, ToolArguments args) {
        String handle = args.string("session");
        Principal p = caller.principal();
        if (handle != null) {
            return active(p, handle);
        }
        String bound = caller.mcpSession() == null ? null : sessions.boundSession(caller.mcpSession()).orElse(null);
        if (bound == null) {
            throw new ToolError("no session: pass a session handle (this connection has no automatic session "
                    + "yet; execute creates it)");
        }
        return active(p, bound);
    }

    /**
     * The caller's active session with this handle. The manager answers another owner's
     * session exactly like one that never existed, so handles cannot be probed.
     */
    private Session active(Principal p, String handle) {
        Session s = manager.find(p.access(), handle).orElseThrow(() -> new ToolError("no session with handle '"
                + handle + "': pass a handle from create_session, list_sessions or an earlier execute result"));
        if (!s.isActive()) {
            throw new ToolError("session " + s.id() + " has ended (" + s.endReason() + "); its state is gone: "
                    + "call execute without session, or create_session, for a new one");
        }
        return s;
    }

    private java.nio.file.Path directory(Caller caller, Session s) {
        return manager.workingDirectory(caller.principal().access(), s.id()).orElseThrow(() -> new ToolError(
                "session " + s.id() + " is a plain session (runtime none): it has no working directory"));
    }

    static Principal principal(McpSyncServerExchange exchange) {
        return principal(exchange.transportContext());
    }

    /** The caller the gate authenticated, from a request's transport context. */
    static Principal principal(io.modelcontextprotocol.common.McpTransportContext context) {
        Object p = context.get(McpGate.PRINCIPAL);
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

    /** One tool: its definition and its work, for either protocol revision. */
    record Definition(String name, String description, Map<String, Object> schema, Body body) {
        /** Runs the tool; a bad argument or a refused operation is a tool error ({@code isError}). */
        CallToolResult call(Caller caller, Map<String, Object> arguments) {
            @SuppressWarnings("unchecked")
            Set<String> known = ((Map<String, Object>) schema.get("properties")).keySet();
            try {
                return body.call(caller, new ToolArguments(name, arguments, known));
            } catch (ToolError e) {
                return error(e.getMessage());
            } catch (TetherException e) {
                return error(name + ": " + e.getMessage() + " (" + e.code().code() + ")");
            } catch (RuntimeException e) {
                LOG.error("MCP tool {} failed", name, e);
                return error(name + ": internal error (" + e.getClass().getSimpleName() + "); the server log has more");
            }
        }
    }

    /** The tools for a 2025-11-25 (or earlier) MCP session. */
    List<SyncToolSpecification> specifications() {
        List<SyncToolSpecification> out = new ArrayList<>();
        for (Definition d : definitions()) {
            McpSchema.Tool tool = McpSchema.Tool.builder(d.name(), d.schema()).description(d.description()).build();
            out.add(SyncToolSpecification.builder().tool(tool).callHandler((exchange, request) -> d.call(
                    new Caller(principal(exchange), exchange.sessionId(), exchange.sessionId(), requestId(exchange),
                            progressToken(request), (n, message) -> exchange.progressNotification(
                                    McpSchema.ProgressNotification.builder(progressToken(request), n)
                                            .message(message).build()),
                            attribute(exchange.transportContext(), McpGate.AUTHORIZATION),
                            attribute(exchange.transportContext(), McpGate.FORWARDED_BY)),
                    request.arguments())).build());
        }
        return out;
    }

    private Definition tool(String name, String description, Map<String, Object> schema, Body body) {
        return new Definition(name, description, schema, relayed(name, body));
    }

    /**
     * The tool, run where its {@code session} argument's session is held: here, or (a live
     * session another node holds) on that node through {@link McpRelay}, after the arguments
     * were checked here. Calls without a handle (the automatic session, new sessions, the
     * listing) always run here.
     */
    private Body relayed(String name, Body body) {
        return (caller, args) -> {
            String handle = args.string("session");
            if (relay != null && handle != null) {
                String owner = relay.ownerOf(caller.principal(), caller.forwardedBy(), handle).orElse(null);
                if (owner != null) {
                    return relay.call(owner, caller, calls, handle, name, args.map());
                }
            }
            return body.call(caller, args);
        };
    }

    /** A tool's work. */
    @FunctionalInterface
    private interface Body {
        CallToolResult call(Caller caller, ToolArguments args);
    }

    /**
     * Who calls a tool and how, whichever protocol revision carried the call.
     *
     * @param principal the caller
     * @param mcpSession the MCP session ({@code Mcp-Session-Id}), or {@code null} for a client
     *     without one (2026-07-28, or a stateless one): it has no automatic session
     * @param cancelScope what a cancellation names the call by with {@link #requestId}, or
     *     {@code null} when it cannot be cancelled
     * @param requestId the call's JSON-RPC id, or {@code null}
     * @param progressToken the token the client asked progress notifications for, or {@code null}
     * @param progress sends one progress notification
     * @param authorization the request's {@code Authorization} header, or {@code null}: a call
     *     sent on to another node carries it, and that node checks it again
     * @param forwardedBy the request's {@code Tether-Forwarded-By} (another node sent it), or {@code null}
     */
    record Caller(Principal principal, String mcpSession, String cancelScope, String requestId,
                  Object progressToken, Progress.Sink progress, String authorization, String forwardedBy) {
        /** Without the credentials, so a logged caller never shows them. */
        @Override
        public String toString() {
            return "Caller[" + principal.owner() + ", mcpSession=" + mcpSession + ", requestId=" + requestId
                    + ", forwardedBy=" + forwardedBy + "]";
        }
    }

    /** A request attribute the gate left in the transport context, or {@code null}. */
    static String attribute(io.modelcontextprotocol.common.McpTransportContext context, String key) {
        Object v = context.get(key);
        return v == null ? null : v.toString();
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
