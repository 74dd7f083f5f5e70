package io.tether.client;

import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A real Tether server in this JVM: loopback, a free port, an in-memory store, real Python workers. */
final class TestServer implements AutoCloseable {
    final TetherServer server;
    private final Path dataDir;

    private TestServer(TetherServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    static TestServer start(Path dataDir, Map<String, String> settings) {
        Map<String, String> flags = new HashMap<>(Map.of("port", "0", "data_dir", dataDir.toString(),
                "store", "memory", "runtimes", "python", "python_pool_min_idle", "1", "shutdown_grace", "2s",
                "access_log", "false"));
        flags.putAll(settings);
        return new TestServer(TetherServer.start(ServerConfig.from(Settings.resolve(flags, Map.of(), null))), dataDir);
    }

    /** A new token of this owner. */
    String token(String owner, boolean admin) {
        return TokenStore.open(dataDir).create(owner, admin).token();
    }

    String url() {
        return server.url();
    }

    TetherClient.Builder client(String token) {
        return TetherClient.builder().baseUrl(url()).token(token);
    }

    @Override
    public void close() {
        server.close();
    }
}
