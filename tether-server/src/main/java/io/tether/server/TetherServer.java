package io.tether.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.device.DeviceRuntime;
import io.tether.runtime.jshell.JShellRuntime;
import io.tether.runtime.pool.WarmPool;
import io.tether.runtime.pool.WarmPoolStats;
import io.tether.runtime.python.PythonRuntime;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.server.auth.CreatedToken;
import io.tether.server.auth.HostCheck;
import io.tether.server.auth.TokenStore;
import io.tether.node.NodeRegistry;
import io.tether.server.cluster.Cluster;
import io.tether.server.cluster.NodeLease;
import io.tether.server.cluster.NodeRouter;
import io.tether.server.http.ApiHandler;
import io.tether.server.http.Forwarder;
import io.tether.server.http.ProblemErrorHandler;
import io.tether.server.http.Routes;
import io.tether.server.mcp.McpEndpoint;
import io.tether.session.SessionManager;
import io.tether.session.SessionManagerBuilder;
import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionStore;
import io.tether.store.postgres.PostgresNodeRegistry;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.sqlite.SqliteSessionStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Tether server: the session manager over its store, the runtimes behind warm
 * pools, and HTTP API v1 on Jetty with a virtual thread per request.
 *
 * <p>{@link #close()} shuts down gracefully: new requests are refused
 * ({@code shutting_down}), running executions get the shutdown grace period to finish and
 * are then interrupted, live sessions end with reason {@code server_shutdown}, the store
 * is flushed and every worker is killed.
 */
public final class TetherServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TetherServer.class);
    /** Written into the data directory while the server runs, so the CLI can find it. */
    public static final String SERVER_FILE = "server.json";
    /** How long a start waits for the PostgreSQL registry's first connection; as the store's pool. */
    private static final Duration STORE_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ServerConfig config;
    private final SessionManager manager;
    private final Routes routes;
    private final McpEndpoint mcp;
    private final Server jetty;
    private final ServerConnector connector;
    private final TokenStore tokens;
    private final Optional<CreatedToken> newAdminToken;
    private final Sandbox sandbox;
    private final List<String> warnings;
    private final WorkRoot workRoot;
    private final NodeLease lease;
    /** The registry the server opened itself (on a PostgreSQL store) and closes last; else null. */
    private final NodeRegistry ownRegistry;
    private final AtomicLong connections = new AtomicLong();
    private final Object closeLock = new Object();
    private boolean closed;

    private TetherServer(ServerConfig config, SessionManager manager, Routes routes, McpEndpoint mcp, Server jetty,
                         ServerConnector connector, TokenStore tokens, Optional<CreatedToken> newAdminToken,
                         Sandbox sandbox, List<String> warnings, WorkRoot workRoot, NodeLease lease,
                         NodeRegistry ownRegistry) {
        this.lease = lease;
        this.ownRegistry = ownRegistry;
        this.config = config;
        this.mcp = mcp;
        this.workRoot = workRoot;
        this.warnings = List.copyOf(warnings);
        this.sandbox = sandbox;
        this.manager = manager;
        this.routes = routes;
        this.jetty = jetty;
        this.connector = connector;
        this.tokens = tokens;
        this.newAdminToken = newAdminToken;
    }

    /**
     * Starts a server; returns once it listens. It binds its port first, so a start that
     * cannot listen (the port is taken) fails before it creates or changes anything.
     *
     * <p>With {@code store = postgresql} the server is a node of a cluster: it registers
     * in the database's node registry (table {@code tether_nodes}) beside the shared
     * sessions, keeps its lease with a heartbeat, forwards requests about sessions other
     * nodes hold and takes over the sessions of nodes whose lease lapsed (docs/cluster.md).
     * With any other store it is a single node.
     *
     * @throws IllegalArgumentException for a configuration that must not run (no auth on
     *     a non-loopback address), a port it cannot listen on, or a data directory another
     *     server uses
     * @throws io.tether.TetherException when the store cannot be opened (e.g. another
     *     server holds the data directory)
     */
    public static TetherServer start(ServerConfig config) {
        return start(config, null);
    }

    /**
     * Starts a server as one node of a cluster (docs/cluster.md): its sessions live in the
     * cluster's shared store (the {@code store} setting is not used), it registers in the
     * cluster's node registry under {@code node_id} with a lease of {@code node_lease}, and
     * requests about sessions other nodes hold are forwarded to them.
     *
     * @param cluster the shared store (closed with the server) and registry (the caller's to close); {@code null}
     *     for {@link #start(ServerConfig)}
     * @throws IllegalArgumentException as {@link #start(ServerConfig)}
     */
    public static TetherServer start(ServerConfig config, Cluster cluster) {
        boolean loopback = config.loopback();
        if (!config.auth() && !loopback) {
            throw new IllegalArgumentException("refusing to listen on " + config.bind() + " without auth: anyone who "
                    + "can reach that address could run code on this machine. Use auth = token (the default) or "
                    + "bind to 127.0.0.1");
        }
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("tether-http");
        threads.setVirtualThreadsExecutor(Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("tether-request-", 0).factory()));
        Server jetty = new Server(threads);
        jetty.setErrorHandler(new ProblemErrorHandler());
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(config.bind());
        connector.setPort(config.port());
        jetty.addConnector(connector);
        try {
            connector.open(); // before anything is created; and the Host check needs the real port when the config said 0
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot listen on " + config.bind() + ":" + config.port() + ": "
                    + e.getMessage(), e);
        }
        try {
            return start(config, cluster, jetty, connector);
        } catch (RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    private static TetherServer start(ServerConfig config, Cluster cluster, Server jetty, ServerConnector connector) {
        boolean jailMustPass = !config.runtimes().isEmpty() && config.sandbox() != Sandbox.Mode.OFF
                && Sandbox.runningAsRoot();
        List<Path> secrets = new ArrayList<>(TokenStore.files(config.dataDir()));
        secrets.add(config.dataDir().resolve(SERVER_FILE));
        (cluster != null ? Optional.<Path>empty() : storeFile(config)).ifPresent(db -> Stream.of("", "-wal", "-shm", ".lock")
                .forEach(suffix -> secrets.add(db.resolveSibling(db.getFileName() + suffix))));
        List<String> warnings = DataDirectory.prepare(config.dataDir(), jailMustPass, secrets);
        warnings.forEach(LOG::warn);
        WorkRoot workRoot = WorkRoot.claim(config.dataDir());
        try {
            return cluster != null || !config.store().equals("postgresql")
                    ? start(config, cluster, false, jetty, connector, warnings, workRoot)
                    : startOnPostgres(config, jetty, connector, warnings, workRoot);
        } catch (RuntimeException | Error e) {
            workRoot.close();
            throw e;
        }
    }

    /**
     * A server on a PostgreSQL store is a node of the cluster of every server on that
     * database: the registry is a table beside the sessions, and the server owns both.
     */
    private static TetherServer startOnPostgres(ServerConfig config, Server jetty, ServerConnector connector,
                                                List<String> warnings, WorkRoot workRoot) {
        SessionStore store = store(config);
        PostgresNodeRegistry registry;
        try {
            registry = PostgresNodeRegistry.open(config.storeUrl(), STORE_CONNECT_TIMEOUT);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        try {
            return start(config, Cluster.of(store, registry), true, jetty, connector, warnings, workRoot);
        } catch (RuntimeException | Error e) {
            registry.close();
            throw e;
        }
    }

    /**
     * Starts on a claimed work root, which the server releases as it closes.
     *
     * @param ownsCluster whether the server made {@code cluster} from its configuration and
     *     closes its store and registry (it never closes a registry it was given)
     */
    private static TetherServer start(ServerConfig config, Cluster cluster, boolean ownsCluster, Server jetty,
                                      ServerConnector connector, List<String> warnings, WorkRoot workRoot) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Path work = workRoot.path();
        Sandbox sandbox = config.runtimes().isEmpty() ? Sandbox.off() : Sandbox.builder().mode(config.sandbox())
                .networkAllowed(config.sandboxNetwork()).hide(List.of(config.dataDir())).workRoot(work)
                .python(config.python()).build();
        WorkerLimits limits = config.workerLimits(sandbox);
        SessionStore store = cluster != null ? cluster.store() : store(config);
        TokenStore tokens;
        Optional<CreatedToken> created;
        try {
            tokens = !config.auth() ? null : store instanceof PostgresSessionStore pg
                    ? TokenStore.inDatabase(pg.dataSource(), pg.url().redacted(), config.dataDir())
                    : TokenStore.open(config.dataDir());
            created = tokens == null ? Optional.empty() : tokens.ensureAdminToken();
        } catch (RuntimeException e) {
            if (cluster == null || ownsCluster) {
                store.close();
            }
            throw e;
        }
        String nodeId = nodeId(config, connector.getLocalPort());
        if (cluster != null) {
            // Before recovery: while this node holds no lease, another node would take over the
            // plain sessions it is about to load (they are recorded as this node's).
            cluster.registry().register(nodeId, nodeUrl(config, connector.getLocalPort()),
                    cluster.clock().instant().plus(config.nodeLease()));
        }
        Map<String, WarmPool> pools = new LinkedHashMap<>();
        DeviceRuntime devices = null;
        SessionManager manager;
        try {
            WorkerOptions workerOptions = new WorkerOptions(limits);
            SessionManagerBuilder b = SessionManager.builder()
                    .store(store)
                    .meterRegistry(registry)
                    .maxSessions(config.maxSessions())
                    .maxSessionsPerOwner(config.maxSessionsPerOwner())
                    .workerOptions(workerOptions)
                    .workerLossPolicy(config.workerLossPolicy())
                    .maxQueuedExecutions(config.maxQueuedExecutions())
                    .executionHistory(config.executionHistory())
                    .shutdownTimeout(config.shutdownGrace().plusSeconds(5))
                    .node(nodeId);
            if (cluster != null) {
                b.sharedStore(); // the other nodes' sessions in it are not this one's to recover
            }
            if (config.idleTimeout() == null) {
                b.noDefaultIdleTimeout();
            } else {
                b.defaultIdleTimeout(config.idleTimeout());
            }
            if (config.maxLifetime() != null) {
                b.defaultMaxLifetime(config.maxLifetime());
            }
            if (config.sessionRetention() == null) {
                b.noRetention();
            } else {
                b.retention(config.sessionRetention());
            }
            for (String name : config.runtimes()) {
                SessionRuntime runtime = name.equals("python")
                        ? PythonRuntime.builder().executable(config.python()).pythonPath(config.pythonPath())
                                .workerEnvironment(config.workerEnv()).forkServer(config.pythonForkServer())
                                .preload(config.pythonPreload())
                                .workRoot(work).sandbox(sandbox).build()
                        : JShellRuntime.builder().workRoot(work).sandbox(sandbox)
                                .workerEnvironment(config.workerEnv()).build();
                boolean py = name.equals("python");
                int maxWorkers = py ? config.pythonPoolMaxWorkers() : config.jshellPoolMaxWorkers();
                WarmPool pool = WarmPool.builder(runtime)
                        .minIdle(py ? config.pythonPoolMinIdle() : config.jshellPoolMinIdle())
                        .maxWorkers(maxWorkers)
                        .acquireTimeout(config.poolAcquireTimeout())
                        .limits(limits)
                        // A JShell worker is a JVM (~100 MB at rest), a Python one a ~1.5 MB
                        // fork: JShell's pool waits for its first session, Python's fills now.
                        .fillOnFirstUse(!py)
                        .build();
                pools.put(name, pool);
                b.runtime(pool);
                b.maxWorkersPerOwner(name, config.workersPerOwner(maxWorkers));
                poolMetrics(registry, pool);
            }
            if (!config.devices().isEmpty()) {
                DeviceRuntime.Builder db = DeviceRuntime.builder().workRoot(work).acquireTimeout(config.deviceWait());
                config.devices().forEach(db::device);
                devices = db.build();
                b.runtime(devices);
            }
            manager = b.build().start();
        } catch (RuntimeException e) {
            pools.values().forEach(WarmPool::close);
            store.close();
            if (cluster != null) {
                cluster.registry().release(nodeId);
            }
            throw e;
        }

        Routes routes = new Routes(manager, new Routes.Limits(config.maxBodyBytes(),
                limits.maxCodeBytes(), config.maxFileBytes(), config.executionTimeout(),
                config.sseKeepalive()), pools, devices, registry, sandbox);
        sandboxMetrics(registry, sandbox);
        String nodeUrl = nodeUrl(config, connector.getLocalPort());
        List<String> allowedHosts = new ArrayList<>(config.allowedHosts());
        if (cluster != null) {
            // other nodes forward here with this Host
            allowedHosts.add(java.net.URI.create(nodeUrl).getRawAuthority());
        }
        HostCheck hosts = HostCheck.forBind(config.bind(), connector.getLocalPort(), allowedHosts);
        NodeLease lease = null;
        NodeRouter router = null;
        Forwarder forwarder = null;
        if (cluster != null) {
            try {
                lease = NodeLease.join(nodeId, nodeUrl, config.nodeLease(), cluster, manager);
            } catch (RuntimeException e) {
                manager.close();
                cluster.registry().release(nodeId);
                throw e;
            }
            router = new NodeRouter(manager, cluster.registry(), cluster.clock(), lease);
            forwarder = new Forwarder(nodeId, config.executionTimeout() == null ? Duration.ZERO
                    : config.executionTimeout().plus(config.shutdownGrace()).plusMinutes(1));
            forwarder.setServer(jetty);
            jetty.addBean(forwarder);
        }
        NodeRouter routing = router;
        // an MCP tool call about a session another node holds runs on that node, as a REST request would
        McpEndpoint mcp = McpEndpoint.create(manager, hosts, tokens, ApiHandler.NO_AUTH, mcpLimits(config, limits),
                sandbox::checkNetwork, sandbox::handOver, java.time.InstantSource.system(), nodeId,
                routing == null ? null : (access, id, forwardedBy) -> routing.ownerUrl(access, id, "POST", forwardedBy));
        TetherServer server = new TetherServer(config, manager, routes, mcp, jetty, connector, tokens, created,
                sandbox, warnings, workRoot, lease, ownsCluster ? cluster.registry() : null);
        connector.addEventListener(new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                server.connections.incrementAndGet();
            }
        });
        FunctionCounter.builder("tether.http.connections", server.connections, AtomicLong::get)
                .description("TCP connections accepted").register(registry);
        jetty.setStopTimeout(config.shutdownGrace().toMillis() + 5_000);
        try {
            // /mcp first: its servlet context passes every other path on to the REST API.
            jetty.setHandler(new Handler.Sequence(mcp.handler(),
                    new ApiHandler(routes, hosts, tokens, registry, config.accessLog(), router, forwarder)));
            jetty.start();
        } catch (Exception e) {
            mcp.close();
            manager.close();
            if (lease != null) {
                lease.close();
            }
            throw new IllegalArgumentException("cannot listen on " + config.bind() + ":" + config.port() + ": "
                    + e.getMessage(), e);
        }
        server.writeServerFile();
        return server;
    }

    /**
     * The MCP endpoint's limits: the REST API's, an MCP session idles out after the sessions'
     * idle timeout (none without one), and a call may ask for at most an hour (or the default
     * execution timeout, when that is longer).
     */
    private static McpEndpoint.Limits mcpLimits(ServerConfig config, WorkerLimits limits) {
        Duration execution = config.executionTimeout() != null ? config.executionTimeout() : Duration.ofMinutes(5);
        Duration max = execution.compareTo(Duration.ofHours(1)) > 0 ? execution : Duration.ofHours(1);
        return new McpEndpoint.Limits(config.maxBodyBytes(), limits.maxCodeBytes(), config.maxFileBytes(), execution,
                max, 20_000, Duration.ofSeconds(2), config.idleTimeout(), config.idleTimeout(), Duration.ofSeconds(5));
    }

    /** {@code node_id}, or the host name and the port. */
    private static String nodeId(ServerConfig config, int port) {
        if (!config.nodeId().isEmpty()) {
            return config.nodeId();
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = config.bind();
        }
        String id = (host + "-" + port).replaceAll("[^A-Za-z0-9._-]", "-");
        return id.length() <= 64 ? id : id.substring(id.length() - 64);
    }

    /** {@code node_url}, or {@code http://} the bind address (the host name for every interface) and the port. */
    private static String nodeUrl(ServerConfig config, int port) {
        if (!config.nodeUrl().isEmpty()) {
            return config.nodeUrl();
        }
        String host = config.bind();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "127.0.0.1";
            }
        }
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The SQLite file the store keeps, if it keeps one. */
    private static Optional<Path> storeFile(ServerConfig config) {
        if (config.store().equals("sqlite")) {
            return Optional.of(config.dataDir().resolve(SqliteSessionStore.FILE_NAME));
        }
        if (config.store().startsWith("sqlite:")) {
            return Optional.of(Path.of(config.store().substring("sqlite:".length())).toAbsolutePath());
        }
        return Optional.empty();
    }

    private static SessionStore store(ServerConfig config) {
        return switch (config.store()) {
            case "memory" -> new InMemorySessionStore();
            case "sqlite" -> SqliteSessionStore.builder().dataDirectory(config.dataDir()).synchronous(config.sqliteSync()).build();
            // Limits counted in the database too: other nodes' sessions count.
            case "postgresql" -> PostgresSessionStore.builder().url(config.storeUrl())
                    .maxSessions(config.maxSessions()).maxSessionsPerOwner(config.maxSessionsPerOwner()).build();
            default -> SqliteSessionStore.builder().file(Path.of(config.store().substring("sqlite:".length())))
                    .synchronous(config.sqliteSync()).build();
        };
    }

    private static void sandboxMetrics(PrometheusMeterRegistry registry, Sandbox sandbox) {
        for (Sandbox.Layer layer : Sandbox.Layer.values()) {
            Gauge.builder("tether.sandbox.layer", sandbox, s -> s.has(layer) ? 1 : 0).tag("layer", layer.label())
                    .description("Whether a sandbox layer is in force (1) or not (0)").register(registry);
        }
    }

    private static void poolMetrics(PrometheusMeterRegistry registry, WarmPool pool) {
        String name = pool.name();
        FunctionCounter.builder("tether.pool.hits", pool, p -> p.stats().hits()).tag("runtime", name)
                .description("Workers handed out pre-started").register(registry);
        FunctionCounter.builder("tether.pool.misses", pool, p -> p.stats().misses()).tag("runtime", name)
                .description("Workers started on demand").register(registry);
        gauge(registry, "tether.pool.hit.rate", pool, p -> p.stats().hitRate(), "Hits over acquisitions");
        gauge(registry, "tether.pool.idle", pool, p -> p.stats().idle(), "Pre-started workers waiting");
        gauge(registry, "tether.pool.in.use", pool, p -> p.stats().handedOut(), "Workers owned by sessions");
        gauge(registry, "tether.pool.spawn.median.seconds", pool, p -> seconds(p.stats().spawnLatencyMedian()),
                "Median worker start time (last 256 starts)");
        gauge(registry, "tether.pool.spawn.p99.seconds", pool, p -> seconds(p.stats().spawnLatencyP99()),
                "99th percentile worker start time (last 256 starts)");
    }

    private static void gauge(PrometheusMeterRegistry r, String metric, WarmPool pool, ToDoubleFunction<WarmPool> f,
                              String description) {
        Gauge.builder(metric, pool, f).tag("runtime", pool.name()).description(description).register(r);
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** The port it listens on (the real one when the config said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** The base URL clients call. */
    public String url() {
        String host = config.bind().contains(":") ? "[" + config.bind() + "]" : config.bind();
        if (host.equals("0.0.0.0") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        return "http://" + host + ":" + port();
    }

    public SessionManager manager() {
        return manager;
    }

    /** This node's lease in its cluster; empty for a single node. */
    public Optional<NodeLease> nodeLease() {
        return Optional.ofNullable(lease);
    }

    /** The sandbox session code runs in. */
    public Sandbox sandbox() {
        return sandbox;
    }

    public ServerConfig config() {
        return config;
    }

    /** TCP connections accepted since start. */
    public long connectionsAccepted() {
        return connections.get();
    }

    /** Prints where it listens and how to call it. */
    public void printBanner(PrintWriter out) {
        out.println("Tether listening on " + url() + "  (data: " + config.dataDir() + ", store: " + config.store()
                + (config.storeUrl() == null ? "" : " " + config.storeUrl().redacted())
                + ", runtimes: " + (config.runtimes().isEmpty() ? "none" : String.join(", ", config.runtimes())) + ")");
        out.println("Sandbox " + sandbox.summary());
        if (config.bind().equals("0.0.0.0") || config.bind().equals("::")) {
            printReachable(out);
        }
        warnings.forEach(out::println);
        if (!sandbox.enabled()) {
            out.println("WARNING: the sandbox is off (sandbox = " + sandbox.mode() + "): session code can read the data "
                    + "directory and the admin token, signal other sessions and the server, and use the network.");
        }
        if (tokens == null) {
            out.println("WARNING: auth is off (--auth none): every local process and user can run code here.");
            out.println("Try:  curl -s " + url() + "/v1/execute -d '{\"code\": \"1 + 1\"}'");
        } else {
            Path file = tokens.adminTokenFile();
            out.println(newAdminToken.isPresent()
                    ? "Created an admin token in " + file + " (readable by you only)."
                    : "Admin token: " + file);
            out.println("Try:  curl -s -H \"Authorization: Bearer $(cat " + file + ")\" " + url()
                    + "/v1/execute -d '{\"code\": \"1 + 1\"}'");
            out.println("More tokens:  ./tether token create --owner NAME " + (config.storeUrl() == null
                    ? "--data-dir " + config.dataDir() : "--store-url " + config.storeUrl().redacted()));
        }
        out.println("Stop with Ctrl-C (graceful: running executions get " + config.shutdownGrace().toSeconds()
                + " s to finish).");
        out.flush();
    }

    /**
     * For a server on every interface: the URLs other machines may use, and that the Host check
     * refuses them until {@code allowed_hosts} names them (it accepts loopback names only).
     */
    private void printReachable(PrintWriter out) {
        List<String> names = new ArrayList<>();
        try {
            names.add(InetAddress.getLocalHost().getHostName());
        } catch (UnknownHostException e) {
            // no host name: the addresses below still say it
        }
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        names.add(a.getHostAddress());
                    }
                }
            }
        } catch (SocketException e) {
            // no interface list: the host name above is all there is
        }
        names.removeIf(n -> n.equals("localhost") || n.startsWith("127."));
        List<String> urls = names.stream().distinct().limit(4).map(n -> "http://" + n + ":" + port()).toList();
        out.println("Listening on every interface" + (urls.isEmpty() ? "" : "; from other machines e.g. "
                + String.join("  ", urls)) + ".");
        out.println("The Host check accepts " + (config.allowedHosts().isEmpty() ? "loopback names only"
                : "loopback names and " + String.join(", ", config.allowedHosts())) + ": list the names clients use "
                + "in allowed_hosts (e.g. --allowed-hosts " + (names.isEmpty() ? "HOST" : names.get(0))
                + "), else their requests get 400 invalid_request.");
    }

    private void writeServerFile() {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("url", url());
        info.put("pid", ProcessHandle.current().pid());
        info.put("auth", config.auth() ? "token" : "none");
        try {
            Path file = config.dataDir().resolve(SERVER_FILE);
            Path tmp = config.dataDir().resolve(SERVER_FILE + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(info));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("could not write {}: {}", SERVER_FILE, e.toString());
        }
    }

    /**
     * Shuts down gracefully (see the class comment); returns when everything is released.
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        routes.drain();
        mcp.drain();
        if (lease != null) {
            lease.stop(); // no take-overs while this node ends its own sessions
        }
        long graceEnds = System.nanoTime() + config.shutdownGrace().toNanos();
        if (!routes.awaitNoExecutions(config.shutdownGrace())) {
            LOG.info("interrupting {} executions still running after the shutdown grace period", routes.executingCount());
            routes.interruptAll();
        }
        if (!mcp.awaitNoExecutions(Duration.ofNanos(Math.max(0, graceEnds - System.nanoTime())))) {
            LOG.info("interrupting MCP executions still running after the shutdown grace period");
            mcp.interruptAll();
        }
        try {
            // Before Jetty stops: it closes the MCP clients' open event streams, which Jetty
            // would otherwise wait for until its stop timeout.
            mcp.close();
        } catch (RuntimeException e) {
            LOG.warn("MCP endpoint did not close cleanly: {}", e.toString());
        }
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.warn("HTTP server did not stop cleanly: {}", e.toString());
        }
        try {
            manager.close();
            if (lease != null) {
                lease.release(); // after its sessions ended: nothing is left for another node to take over
            }
        } finally {
            if (ownRegistry instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("node registry did not close cleanly: {}", e.toString());
                }
            }
            try {
                Files.deleteIfExists(config.dataDir().resolve(SERVER_FILE));
            } catch (IOException e) {
                LOG.warn("could not delete {}: {}", SERVER_FILE, e.toString());
            }
            workRoot.close();
        }
    }
}
