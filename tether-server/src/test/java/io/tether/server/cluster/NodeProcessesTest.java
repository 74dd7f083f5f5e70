package io.tether.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.tether.server.Api;
import io.tether.server.auth.TokenStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import io.tether.testing.PostgresServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three Tether nodes as separate processes (each a JVM of its own, started as {@code tether
 * serve} would be: {@code store = postgresql} and nothing else to join them) on one real
 * PostgreSQL: forwarding between them, listings from any node, owners kept apart, and a node
 * killed with SIGKILL under load taken over by the others.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class NodeProcessesTest {
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

    @TempDir
    Path root;

    private final List<NodeProcess> nodes = new ArrayList<>();

    /** A server in a JVM of its own; its output is drained (and kept, for failure messages). */
    private static final class NodeProcess {
        final String id;
        final Path dataDir;
        final Process process;
        final CompletableFuture<String> url = new CompletableFuture<>();
        final StringBuffer output = new StringBuffer();

        NodeProcess(String id, Path dataDir, String storeUrl, List<String> moreFlags) throws Exception {
            this.id = id;
            this.dataDir = dataDir;
            Api.openToTheJail(dataDir);
            List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "io.tether.server.ChildServer", "--port", "0", "--data-dir", dataDir.toString(),
                    "--runtimes", "python", "--python-pool-min-idle", "0", "--access-log", "false",
                    "--store", "postgresql", "--store-url", storeUrl,
                    "--node-id", id, "--node-lease", LEASE.toSeconds() + "s"));
            command.addAll(moreFlags);
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Thread.ofPlatform().daemon().name("drain-" + id).start(() -> {
                try (BufferedReader out = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        output.append(line).append('\n');
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            url.complete(m.group(1));
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process is gone
                }
                url.completeExceptionally(new AssertionError("node " + id + " exited before listening:\n" + output));
            });
        }

        String url() throws Exception {
            return url.get(90, TimeUnit.SECONDS);
        }

        Api api(String token) throws Exception {
            return new Api(url(), token);
        }
    }

    @AfterEach
    void stopNodes() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.process.destroy(); // SIGTERM: a clean shutdown
        }
        for (NodeProcess n : nodes) {
            if (!n.process.waitFor(30, TimeUnit.SECONDS)) {
                n.process.destroyForcibly();
                n.process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private NodeProcess start(String id, String storeUrl, String... moreFlags) throws Exception {
        NodeProcess n = new NodeProcess(id, Files.createDirectories(root.resolve(id)), storeUrl, List.of(moreFlags));
        nodes.add(n);
        return n;
    }

    private static String createPython(Api api) {
        Api.Reply r = api.post("/v1/sessions", Map.of("runtime", "python"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.header("Tether-Session");
    }

    private static Api.Reply run(Api api, String session, String code) {
        return api.post("/v1/sessions/" + session + "/executions", Map.of("code", code));
    }

    @SuppressWarnings("unchecked")
    private static String text(Api.Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, Object> result = (Map<String, Object>) r.json().get("result");
        assertThat(result).as(r.body()).isNotNull();
        return (String) result.get("text/plain");
    }

    /**
     * Runs code that prints 1, 2, 3 with 300 ms between them in {@code session} through node
     * {@code via} with {@code Accept: text/event-stream}: the events arrive in order, and the
     * first well before the end (the forwarding node does not buffer the stream).
     */
    private static void assertStreamsThrough(NodeProcess via, String token, String session) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(via.url() + "/v1/sessions/" + session + "/executions"))
                .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"code\": \"import time\\nfor i in (1, 2, 3):\\n"
                        + "    print(i, flush=True)\\n    time.sleep(0.3)\"}"))
                .timeout(Duration.ofSeconds(60)).build();
        TimedEvents timed = TimedEvents.send(req);
        List<String> events = timed.events();
        long firstAt = timed.firstStdoutAt();
        long endAt = timed.endAt();
        StringBuilder printed = new StringBuilder();
        for (String e : events.stream().filter(e -> e.startsWith("stdout ")).toList()) {
            printed.append(Api.JSON.readTree(e.substring(7)).get("text").asText());
        }
        assertThat(printed.toString()).as(events.toString()).isEqualTo("1\n2\n3\n");
        assertThat(events.get(events.size() - 1)).as(events.toString()).startsWith("end ");
        assertThat(firstAt).as(events.toString()).isPositive();
        // the code prints its first line about 600 ms before it ends; a buffered stream would
        // deliver it with the end
        assertThat(TimeUnit.NANOSECONDS.toMillis(endAt - firstAt)).as("ms from the first output to the end")
                .isGreaterThan(400);
    }

    @SuppressWarnings("unchecked")
    private static Set<String> listed(Api api) {
        Api.Reply r = api.get("/v1/sessions?limit=100");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return ((List<Map<String, Object>>) r.json().get("items")).stream().map(s -> (String) s.get("id"))
                .collect(Collectors.toSet());
    }

    @Test
    void threeNodeProcessesServeAsOneAndTakeOverANodeKilledWithSigkill() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String database = pg.createDatabase("node_processes");
        String storeUrl = pg.url(database);
        NodeProcess a = start("node-a", storeUrl);
        a.url(); // the first node creates the admin token; the others find it in the database
        NodeProcess b = start("node-b", storeUrl);
        NodeProcess c = start("node-c", storeUrl);
        String alice;
        String bob;
        try (PostgresSessionStore store = PostgresSessionStore.builder().url(PostgresUrl.parse(storeUrl))
                .maximumPoolSize(1).build()) {
            TokenStore tokens = TokenStore.inDatabase(store.dataSource(), "test", root);
            alice = tokens.create("alice", false).token();
            bob = tokens.create("bob", false).token();
        }

        // A variable set through one node is read through another.
        String onA = createPython(a.api(alice));
        assertThat(a.api(alice).get("/v1/sessions/" + onA).json()).containsEntry("node", "node-a");
        assertThat(run(a.api(alice), onA, "x = 1").status()).isEqualTo(200);
        assertThat(text(run(b.api(alice), onA, "x + 1"))).isEqualTo("2");
        // An event stream through a forwarding node: in order, each event as it is written.
        assertStreamsThrough(b, alice, onA);
        // An MCP tool call through a node that does not hold the session runs on the one that does.
        McpSyncClient mcpOnC = McpClient.sync(HttpClientStreamableHttpTransport.builder(c.url()).endpoint("/mcp")
                .httpRequestCustomizer((req, method, uri, body, context) -> req.header("Authorization",
                        "Bearer " + alice)).build()).requestTimeout(Duration.ofSeconds(60)).build();
        try {
            mcpOnC.initialize();
            McpSchema.CallToolResult r = mcpOnC.callTool(new McpSchema.CallToolRequest("execute",
                    Map.of("code", "x = x + 1; x", "session", onA)));
            assertThat(r.isError()).as(r.toString()).isFalse();
            assertThat(((Map<?, ?>) r.structuredContent()).get("result")).as(r.toString()).isEqualTo("2");
        } finally {
            mcpOnC.closeGracefully();
        }
        assertThat(text(run(a.api(alice), onA, "x"))).isEqualTo("2");
        String onB = createPython(b.api(alice));
        assertThat(text(run(c.api(alice), onB, "y = 5; y"))).isEqualTo("5");
        String plainOnC = (String) c.api(alice).post("/v1/sessions", Map.of()).json().get("id");

        // Any node lists all of an owner's sessions; another owner's are not found on any node.
        assertThat(listed(c.api(alice))).contains(onA, onB, plainOnC);
        for (NodeProcess n : List.of(a, b, c)) {
            assertThat(n.api(bob).get("/v1/sessions/" + onA).code()).as(n.id).isEqualTo("session_not_found");
            assertThat(run(n.api(bob), onA, "x").code()).as(n.id).isEqualTo("session_not_found");
            assertThat(listed(n.api(bob))).as(n.id).doesNotContain(onA, onB, plainOnC);
        }

        // What node A runs: its JVM's descendants (the fork server, the jail, the interpreter).
        assertThat(run(a.api(alice), onA, "open('marker', 'w').close()").status()).isEqualTo(200);
        long interpreter = Api.interpreterPid(a.dataDir, "marker");
        Set<Long> ofA = a.process.toHandle().descendants().map(ProcessHandle::pid)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(ofA).as("node A's processes").contains(interpreter);

        // Load on node A while it is killed: every create it acknowledged must be in the database.
        ConcurrentLinkedQueue<String> acknowledged = new ConcurrentLinkedQueue<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        Api aliceOnA = a.api(alice);
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            while (loading.get()) {
                try {
                    Api.Reply r = aliceOnA.post("/v1/sessions", Map.of());
                    if (r.status() == 201) {
                        acknowledged.add(r.header("Tether-Session"));
                    }
                } catch (AssertionError connectionFailed) {
                    return; // the node is gone
                }
            }
        });
        Eventually.eventually(Duration.ofSeconds(30), "node A acknowledged creates", () -> acknowledged.size() >= 5);
        a.process.toHandle().destroyForcibly(); // SIGKILL
        long killed = System.nanoTime();
        assertThat(a.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        load.get(60, TimeUnit.SECONDS);
        loading.set(false);

        // Another node ends A's live session node_lost within the lease + 5 s.
        Api aliceOnB = b.api(alice);
        Eventually.eventually(LEASE.plusSeconds(5), "node A's live session ends node_lost",
                () -> "node_lost".equals(aliceOnB.get("/v1/sessions/" + onA).json().get("end_reason")));
        assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThanOrEqualTo(LEASE.plusSeconds(5));
        assertThat(aliceOnB.get("/v1/sessions/" + onA).json()).containsEntry("status", "error");
        assertThat(run(c.api(alice), onA, "x").code()).isEqualTo("session_ended");
        assertThat(b.api(alice).get("/v1/sessions/" + onA).status()).isEqualTo(200);

        // Other nodes' sessions untouched, and A's plain sessions kept, active, by a live node.
        assertThat(text(run(c.api(alice), onB, "y + 1"))).isEqualTo("6");
        assertThat(c.api(alice).get("/v1/sessions/" + plainOnC).json()).containsEntry("status", "active");
        try (Connection db = pg.connect(database);
                PreparedStatement ps = db.prepareStatement("SELECT status, node FROM sessions WHERE id = ?")) {
            for (String id : acknowledged) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("acknowledged create %s in the database", id).isTrue();
                    assertThat(rs.getString(1)).as(id).isEqualTo("active");
                    assertThat(rs.getString(2)).as("the node of %s after the take-over", id).isIn("node-b", "node-c");
                }
            }
            try (ResultSet rs = db.createStatement().executeQuery("SELECT id FROM tether_nodes ORDER BY id")) {
                List<String> left = new ArrayList<>();
                while (rs.next()) {
                    left.add(rs.getString(1));
                }
                assertThat(left).as("leases after the take-over").containsExactly("node-b", "node-c");
            }
        }

        // Nothing of node A is left running.
        for (long pid : ofA) {
            Eventually.eventually(Duration.ofSeconds(15), "node A's process " + pid + " gone",
                    () -> !HostProcesses.running(pid));
        }
        assertThat(workingUnder(a.dataDir)).as("processes working under node A's data directory").isEmpty();
    }

    @Test
    void aClientThatKnowsOnlyNginxRuns200ExecutionsInFiveSessionsAllCorrect() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String database = pg.createDatabase("behind_nginx");
        String storeUrl = pg.url(database);
        try (Nginx nginx = new Nginx()) {
            NodeProcess a = start("node-a", storeUrl, "--allowed-hosts", nginx.host());
            a.url();
            List<NodeProcess> all = List.of(a, start("node-b", storeUrl, "--allowed-hosts", nginx.host()),
                    start("node-c", storeUrl, "--allowed-hosts", nginx.host()));
            List<String> upstreams = new ArrayList<>();
            for (NodeProcess n : all) {
                upstreams.add(java.net.URI.create(n.url()).getAuthority());
            }
            String alice;
            try (PostgresSessionStore store = PostgresSessionStore.builder().url(PostgresUrl.parse(storeUrl))
                    .maximumPoolSize(1).build()) {
                alice = TokenStore.inDatabase(store.dataSource(), "test", root).create("alice", false).token();
            }
            nginx.start(upstreams);
            Api api = new Api(nginx.url(), alice);

            List<String> sessions = new ArrayList<>();
            Set<Object> placed = new TreeSet<>();
            for (int i = 0; i < 5; i++) {
                String id = createPython(api);
                sessions.add(id);
                placed.add(api.get("/v1/sessions/" + id).json().get("node"));
            }
            assertThat(placed).as("nodes the balancer placed the sessions on").hasSizeGreaterThanOrEqualTo(2);

            List<CompletableFuture<List<String>>> runs = new ArrayList<>();
            for (String id : sessions) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    List<String> got = new ArrayList<>();
                    for (int n = 1; n <= 40; n++) {
                        got.add(text(run(api, id, "n = globals().get('n', 0) + 1; n")));
                    }
                    return got;
                }));
            }
            List<String> expected = java.util.stream.IntStream.rangeClosed(1, 40).mapToObj(Integer::toString).toList();
            for (CompletableFuture<List<String>> r : runs) {
                assertThat(r.get(180, TimeUnit.SECONDS)).as("each session's count, execution by execution")
                        .isEqualTo(expected);
            }
        }
    }

    /** Running processes whose working directory is under {@code dir} (session workers are). */
    private static Set<Long> workingUnder(Path dir) {
        String prefix = dir.toAbsolutePath().normalize().toString();
        return HostProcesses.all().stream().filter(pid -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).toString().startsWith(prefix);
            } catch (java.io.IOException e) {
                return false; // gone, or not ours to read
            }
        }).collect(Collectors.toCollection(TreeSet::new));
    }
}
