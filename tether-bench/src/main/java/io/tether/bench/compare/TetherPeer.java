package io.tether.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tether's server in its own JVM ({@code ./tether serve}: the launcher and its JVM options,
 * as a user starts it; {@code java -jar tether.jar serve} without one), with token auth, the
 * SQLite store and the Python runtime as configured by default, driven over HTTP API v1:
 * {@code POST /v1/sessions} creates a session, {@code POST /v1/sessions/{id}/executions}
 * runs code and answers when it finished.
 */
final class TetherPeer implements Peer {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final ServerProcess server;
    private final Http http;
    private final int poolMinIdle;

    private TetherPeer(String name, ServerProcess server, Http http, int poolMinIdle) {
        this.name = name;
        this.server = server;
        this.http = http;
        this.poolMinIdle = poolMinIdle;
    }

    /**
     * Starts a server on a free loopback port with its data directory under {@code dir}.
     *
     * @param poolMinIdle Python workers kept idle (the default is 2; 0 makes every start fork one)
     * @param maxWorkers  the most Python workers at once, raised above the default 64 for the capacity run
     */
    static TetherPeer start(String name, Path java, Path jar, Path dir, int poolMinIdle, int maxWorkers)
            throws IOException, InterruptedException {
        jar = jar.toAbsolutePath(); // the server runs in its own directory
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no " + jar + ": build it with mvn -B -q -DskipTests package -pl "
                    + "tether-cli -am (./tether compare does)");
        }
        Path data = Files.createDirectories(dir.resolve("data"));
        // As a user starts it: through the launcher beside the jar's module (its JVM options
        // for the server), with this java; the launcher execs the JVM, so the pid is the JVM's.
        Path launcher = jar.getParent().getParent().getParent().resolve("tether");
        List<String> command = new ArrayList<>();
        Map<String, String> env = Map.of();
        if (Files.isExecutable(launcher)) {
            command.add(launcher.toString());
            env = Map.of("JAVA_HOME", java.toAbsolutePath().getParent().getParent().toString());
        } else {
            command.addAll(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-jar",
                    jar.toString()));
        }
        command.addAll(List.of("serve", "--port", "0", "--data-dir", data.toString(),
                "--runtimes", "python", "--idle-timeout", "none",
                "--python-pool-min-idle", Integer.toString(poolMinIdle),
                "--python-pool-max-workers", Integer.toString(maxWorkers)));
        ServerProcess server = ServerProcess.start(name, command, env, dir, dir.resolve("server.log"));
        try {
            Path info = data.resolve("server.json");
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!Files.exists(info)) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    throw server.failure("did not start (waited up to " + START_TIMEOUT.toSeconds() + " s)");
                }
                Thread.sleep(20);
            }
            String url = Http.JSON.readTree(info.toFile()).get("url").asText();
            String token = Files.readString(data.resolve("admin-token")).trim();
            TetherPeer peer = new TetherPeer(name, server, new Http(url, "Bearer " + token), poolMinIdle);
            peer.http.get("/healthz").expect(200, "healthz");
            return peer;
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long serverPid() {
        return server.pid();
    }

    @Override
    public ServerProcess process() {
        return server;
    }

    /** Waits until the warm pool holds its minimum of idle workers again. */
    @Override
    public void awaitIdle() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            JsonNode pool = python(http.get("/v1/runtimes").expect(200, "runtimes").body()).path("pool");
            if (pool.path("idle").asInt() >= poolMinIdle && pool.path("starting").asInt() == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw server.failure("the python pool did not refill: " + pool);
            }
            Thread.sleep(5);
        }
    }

    private static JsonNode python(JsonNode runtimes) {
        for (JsonNode r : runtimes.path("runtimes")) {
            if ("python".equals(r.path("name").asText())) {
                return r;
            }
        }
        throw new IllegalStateException("no python runtime in " + runtimes);
    }

    @Override
    public PeerSession open() throws IOException, InterruptedException {
        String id = http.post("/v1/sessions", Map.of("runtime", "python")).expect(201, "create a session")
                .body().get("id").asText();
        return new Session(id);
    }

    private final class Session implements PeerSession {
        private final String path;

        Session(String id) {
            this.path = "/v1/sessions/" + id;
        }

        @Override
        public Reply execute(String code) throws IOException, InterruptedException {
            JsonNode r = http.post(path + "/executions", Map.of("code", code)).expect(200, "execute").body();
            if (!"ok".equals(r.path("status").asText())) {
                throw new IllegalStateException("execution of " + code + " ended " + r);
            }
            JsonNode result = r.path("result");
            return new Reply(r.path("stdout").asText(), result.isObject() ? result.path("text/plain").asText() : null);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            http.delete(path).expect(200, "end a session");
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
    }
}
