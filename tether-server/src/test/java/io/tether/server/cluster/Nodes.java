package io.tether.server.cluster;

import io.tether.node.InMemoryNodeRegistry;
import io.tether.server.Api;
import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import io.tether.store.InMemorySessionStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Several real servers in one JVM forming one cluster: each on its own loopback port and data
 * directory, all over one in-memory store and one in-memory node registry, leases measured on
 * a clock the test moves. Heartbeats run only when a test calls {@link NodeLease#beat()}.
 * Every node accepts the same tokens (the first node's token files, copied).
 */
final class Nodes implements AutoCloseable {
    final InMemorySessionStore store = new InMemorySessionStore();
    final InMemoryNodeRegistry registry = new InMemoryNodeRegistry();
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    final InstantSource clock = () -> now.get();
    final List<TetherServer> servers = new ArrayList<>();
    final List<Path> dirs = new ArrayList<>();
    final String adminToken;
    final String alice;
    final String bob;
    private final String lease;
    private final boolean realTime;

    /** Nodes on the test's clock, with a 10 s lease and no heartbeat of their own. */
    Nodes(Path root, int count) {
        this(root, count, "10s", false);
    }

    /**
     * @param lease    {@code node_lease}
     * @param realTime leases on the system clock with their own heartbeats (a third of the
     *                 lease), instead of the test's clock and {@link #beat}
     */
    Nodes(Path root, int count, String lease, boolean realTime) {
        this.lease = lease;
        this.realTime = realTime;
        try {
            for (int i = 0; i < count; i++) {
                Path dir = Files.createDirectories(root.resolve("node" + (char) ('a' + i)));
                Api.openToTheJail(dir);
                dirs.add(dir);
            }
            TokenStore tokens = TokenStore.open(dirs.get(0));
            adminToken = tokens.ensureAdminToken().orElseThrow().token();
            alice = tokens.create("alice", false).token();
            bob = tokens.create("bob", false).token();
            for (Path other : dirs.subList(1, count)) {
                for (Path f : TokenStore.files(dirs.get(0))) {
                    if (Files.exists(f)) {
                        Files.copy(f, other.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            for (int i = 0; i < count; i++) {
                servers.add(start(i));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private TetherServer start(int i) {
        Map<String, String> flags = new HashMap<>(Map.of(
                "port", "0", "data_dir", dirs.get(i).toString(), "runtimes", "python",
                "python_pool_min_idle", "0", "jshell_pool_min_idle", "0", "access_log", "false",
                "node_id", "node-" + (char) ('a' + i), "node_lease", lease));
        return TetherServer.start(ServerConfig.from(Settings.resolve(flags, Map.of(), null)),
                realTime ? Cluster.of(store, registry) : new Cluster(store, registry, clock, Duration.ZERO));
    }

    TetherServer node(int i) {
        return servers.get(i);
    }

    Api api(int i, String token) {
        return new Api(servers.get(i).url(), token);
    }

    void beat(int i) {
        servers.get(i).nodeLease().orElseThrow().beat();
    }

    void advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public void close() {
        servers.forEach(TetherServer::close);
    }
}
