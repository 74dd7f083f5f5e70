package io.tether.server.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.spec.McpSchema;
import io.tether.server.auth.HostCheck;
import io.tether.server.auth.Principal;
import io.tether.server.auth.TokenStore;
import io.tether.server.files.SessionFiles;
import io.tether.session.Access;
import io.tether.session.SessionManager;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST/GET/DELETE /mcp}: the Model Context Protocol's streamable HTTP transport on the
 * server's own port, built with the official MCP Java SDK, over the same session manager,
 * tokens and owners as the REST API.
 *
 * <p>The SDK's servlet transport runs in a servlet context of its own mounted at {@code /mcp}
 * beside the REST API's core handler ({@link #handler}); a request to any other path passes it
 * by. In front of the transport a filter checks the Host and Origin headers and the bearer
 * token and keeps each MCP session to the owner that opened it.
 *
 * <p>Each MCP session gets an automatic Tether session on its first {@code execute} without a
 * session handle; that session ends when the MCP session ends: {@code DELETE /mcp}, no request
 * for the idle timeout ({@link #sweep}, also run on a timer), or {@link #close}.
 *
 * <p>In a cluster, a tool call or resource read about a session another node holds runs on
 * that node ({@link McpRelay}); the MCP session stays here.
 *
 * <p>Thread-safe.
 */
public final class McpEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(McpEndpoint.class);
    /** The path the endpoint answers on. */
    public static final String PATH = "/mcp";

    /**
     * What the endpoint enforces.
     *
     * @param maxBodyBytes the largest request body
     * @param maxCodeBytes the largest {@code code} argument
     * @param maxFileBytes the largest file {@code write_file} writes
     * @param defaultExecutionTimeout how long code may run unless a call says otherwise
     * @param maxExecutionTimeout the most a call may ask for
     * @param maxTextChars how many characters of each output a result carries (the rest is cut, with a note)
     * @param progressInterval how often a running execution sends a progress notification (when asked for)
     * @param idleTimeout how long an MCP session may go without a request before it (and its
     *     automatic session) ends; {@code null} for no limit
     * @param sessionIdleTimeout the sessions' default idle timeout, for the tools' descriptions;
     *     {@code null} for none
     * @param cancelGrace how long a cancelled execution may take to stop before its interpreter is restarted
     */
    public record Limits(long maxBodyBytes, long maxCodeBytes, long maxFileBytes, Duration defaultExecutionTimeout,
                         Duration maxExecutionTimeout, int maxTextChars, Duration progressInterval,
                         Duration idleTimeout, Duration sessionIdleTimeout, Duration cancelGrace) {
        public Limits {
            Objects.requireNonNull(defaultExecutionTimeout, "defaultExecutionTimeout");
            Objects.requireNonNull(maxExecutionTimeout, "maxExecutionTimeout");
            Objects.requireNonNull(progressInterval, "progressInterval");
            Objects.requireNonNull(cancelGrace, "cancelGrace");
            if (maxTextChars < 100) {
                throw new IllegalArgumentException("maxTextChars must be at least 100, got " + maxTextChars);
            }
        }
    }

    /** Finds the node that holds a session: the cluster's routing rule. */
    @FunctionalInterface
    public interface SessionOwners {
        /**
         * The base URL of the node to run a tool call about {@code sessionId} on, or empty to run it here.
         *
         * @param forwardedBy the request's {@code Tether-Forwarded-By}, or {@code null}
         * @throws io.tether.TetherException {@code node_unavailable} for a forwarded call about
         *     a session this node does not hold
         */
        Optional<String> ownerUrl(Access access, String sessionId, String forwardedBy);
    }

    private final McpSessions sessions;
    private final McpCalls calls;
    private final McpGate gate;
    private final McpSyncServer server;
    private final McpStateless stateless;
    private final ServletContextHandler context;
    private final ScheduledExecutorService sweeper;
    private final McpRelay relay;

    private McpEndpoint(McpSessions sessions, McpCalls calls, McpGate gate, McpSyncServer server,
                        McpStateless stateless, ServletContextHandler context, ScheduledExecutorService sweeper,
                        McpRelay relay) {
        this.relay = relay;
        this.stateless = stateless;
        this.sessions = sessions;
        this.calls = calls;
        this.gate = gate;
        this.server = server;
        this.context = context;
        this.sweeper = sweeper;
    }

    /**
     * Builds the endpoint; mount {@link #handler()} before the REST API's handler.
     *
     * @param tokens the tokens to accept, or {@code null} when auth is off (every call acts as {@code noAuth})
     * @param networkCheck refuses a session that asks for the network when the sandbox does not allow it
     * @param handOver makes a file the server wrote into a working directory the session's own
     * @param clock the time MCP sessions idle by
     * @param node this node's id, for the calls it sends to other nodes
     * @param owners where a session is held, or {@code null} for a server that is a node of its
     *     own (every session is held here)
     */
    @SuppressWarnings("deprecation") // the logging capability: its builder method has no replacement yet
    public static McpEndpoint create(SessionManager manager, HostCheck hosts, TokenStore tokens, Principal noAuth,
                                     Limits limits, Consumer<Boolean> networkCheck, Consumer<Path> handOver,
                                     InstantSource clock, String node, SessionOwners owners) {
        McpSessions sessions = new McpSessions(manager, clock, limits.idleTimeout());
        McpCalls calls = new McpCalls(manager, limits.cancelGrace());
        McpRelay relay = owners == null ? null : new McpRelay(node, owners);
        McpTools tools = new McpTools(manager, sessions, calls, new McpTools.Limits(limits.maxCodeBytes(),
                limits.maxFileBytes(), limits.defaultExecutionTimeout(), limits.maxExecutionTimeout(),
                limits.maxTextChars(), limits.progressInterval(), limits.sessionIdleTimeout()),
                networkCheck, new McpFiles(new SessionFiles(limits.maxFileBytes(), handOver)), relay);

        JacksonMcpJsonMapper json = new JacksonMcpJsonMapper(new ObjectMapper());
        HttpServletStreamableServerTransportProvider.Builder transport = HttpServletStreamableServerTransportProvider
                .builder()
                .jsonMapper(json)
                .mcpEndpoint(PATH)
                .maxRequestSize((int) Math.min(Integer.MAX_VALUE, limits.maxBodyBytes()))
                .contextExtractor(McpEndpoint::context);
        if (limits.idleTimeout() != null) {
            transport.sessionSweepInterval(limits.idleTimeout());
        }
        HttpServletStreamableServerTransportProvider provider = transport.build();
        McpSyncServer server = McpServer.sync(provider)
                .serverInfo("tether", version())
                .instructions(INSTRUCTIONS + " Call execute with code; without a session handle it runs in "
                        + "this connection's automatic session.")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).resources(false, false).logging()
                        .build())
                .jsonMapper(json)
                .validateToolInputs(true)
                .immediateExecution(true) // tool calls run on the request's own virtual thread
                .tools(tools.specifications())
                .resourceTemplates(tools.resourceTemplates())
                .build();

        McpGate gate = new McpGate(hosts, tokens, noAuth, sessions, calls, limits.maxBodyBytes(), sessions::end);
        ServletContextHandler context = new ServletContextHandler(PATH);
        context.setAllowNullPathInContext(true);
        FilterHolder filter = new FilterHolder(gate);
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        McpStateless stateless = McpStateless.create(tools, calls, json, version(), INSTRUCTIONS + " Call execute "
                + "with code; without a session handle it creates a session and returns its handle, which later "
                + "calls pass as session.", PATH, (int) Math.min(Integer.MAX_VALUE, limits.maxBodyBytes()),
                McpEndpoint::context);
        ServletHolder servlet = new ServletHolder(new Revisions(provider, stateless.servlet()));
        servlet.setAsyncSupported(true);
        context.addServlet(servlet, "/*");

        ScheduledExecutorService sweeper = null;
        if (limits.idleTimeout() != null) {
            sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                    .name("tether-mcp-sweeper").factory());
            long every = Math.max(1_000, Math.min(60_000, limits.idleTimeout().toMillis() / 4));
            sweeper.scheduleWithFixedDelay(() -> {
                try {
                    sessions.sweep();
                } catch (RuntimeException e) {
                    LOG.warn("MCP session sweep failed", e);
                }
            }, every, every, TimeUnit.MILLISECONDS);
        }
        return new McpEndpoint(sessions, calls, gate, server, stateless, context, sweeper, relay);
    }

    private static final String INSTRUCTIONS = "Tether runs code in live sessions whose variables, imports and "
            + "files persist between calls.";

    /**
     * What a tool call learns of its request: the caller the gate authenticated, the call's id,
     * and for a call sent on to another node the caller's credentials and the loop guard.
     */
    private static McpTransportContext context(HttpServletRequest request) {
        Map<String, Object> m = new HashMap<>();
        Object principal = request.getAttribute(McpGate.PRINCIPAL);
        if (principal != null) {
            m.put(McpGate.PRINCIPAL, principal);
        }
        for (String key : new String[] {McpGate.REQUEST_ID, McpGate.AUTHORIZATION, McpGate.FORWARDED_BY}) {
            Object v = request.getAttribute(key);
            if (v != null) {
                m.put(key, v);
            }
        }
        return McpTransportContext.create(m);
    }

    /**
     * Both revisions' transports on one path: a 2026-07-28 request ({@link McpStateless#wants})
     * goes to that revision's, every other to the 2025-11-25 one's (which negotiates the earlier
     * revisions too).
     */
    private static final class Revisions extends HttpServlet {
        private final HttpServlet sessions;
        private final HttpServlet stateless;

        Revisions(HttpServlet sessions, HttpServlet stateless) {
            this.sessions = sessions;
            this.stateless = stateless;
        }

        @Override
        public void init(ServletConfig config) throws ServletException {
            super.init(config);
            sessions.init(config);
            stateless.init(config);
        }

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response)
                throws ServletException, IOException {
            (McpStateless.wants(request) ? stateless : sessions).service(request, response);
        }

        @Override
        public void destroy() {
            sessions.destroy();
            stateless.destroy();
        }
    }

    private static String version() {
        String v = McpEndpoint.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /** The Jetty handler to mount before the REST API's: it handles {@code /mcp} and passes every other path by. */
    public Handler handler() {
        return context;
    }

    /** Refuses new requests from now on ({@code shutting_down}); calls in progress go on. */
    public void drain() {
        gate.drain();
    }

    /**
     * Waits until no {@code execute} call is running, or {@code timeout} has passed; for a
     * graceful shutdown.
     *
     * @return whether none is running
     */
    public boolean awaitNoExecutions(Duration timeout) {
        return calls.awaitNone(timeout);
    }

    /** Interrupts every running {@code execute}; for a shutdown past its grace period. */
    public void interruptAll() {
        calls.interruptAll();
    }

    /**
     * Ends every MCP session idle for longer than the idle timeout, with its automatic
     * session. Runs on a timer too.
     *
     * @return how many ended
     */
    public int sweep() {
        return sessions.sweep();
    }

    /** Ends every automatic session ({@code server_shutdown}) and closes the SDK's sessions. Idempotent. */
    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        sessions.closeAll();
        try {
            stateless.close();
            server.close();
            if (relay != null) {
                relay.close();
            }
        } catch (RuntimeException e) {
            LOG.debug("MCP server did not close cleanly: {}", e.toString());
        }
    }
}
