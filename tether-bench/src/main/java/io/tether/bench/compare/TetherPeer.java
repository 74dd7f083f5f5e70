package io.tether.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.client.Execution;
import io.tether.client.TetherClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tether's server in its own JVM ({@code ./tether serve}: the launcher and its JVM options,
 * as a user starts it; {@code java -jar tether.jar serve} without one), with token auth, the
 * SQLite store and the Python runtime as configured by default, driven over HTTP API v1:
 * {@code POST /v1/sessions} creates a session, {@code POST /v1/sessions/{id}/executions}
 * runs code and answers when it finished. Sessions are driven by the harness's JDK
 * {@code HttpClient} ({@link #open}), by a raw HTTP/1.1 client on a plain socket
 * ({@link #openLean}) or by Tether's own Java client ({@link #openClient}).
 */
final class TetherPeer implements Peer {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final ServerProcess server;
    private final Http http;
    private final int poolMinIdle;
    private final String url;
    private final String token;
    private TetherClient client; // built on first use, closed with the peer

    private TetherPeer(String name, ServerProcess server, String url, String token, int poolMinIdle) {
        this.name = name;
        this.server = server;
        this.url = url;
        this.token = token;
        this.http = new Http(url, "Bearer " + token);
        this.poolMinIdle = poolMinIdle;
    }

    static TetherPeer start(String name, Path java, Path jar, Path dir, int poolMinIdle, int maxWorkers)
            throws IOException, InterruptedException {
        return start(name, java, jar, dir, poolMinIdle, maxWorkers, List.of(), List.of());
    }

    /**
     * Starts a server on a free loopback port with its data directory under {@code dir}.
     *
     * @param poolMinIdle Python workers kept idle (the default is 2; 0 makes every start fork one)
     * @param maxWorkers  the most Python workers at once, raised above the default 64 for the capacity run
     * @param prefix      what runs the launcher (e.g. {@code prlimit --nofile=N:N --}); empty for nothing
     * @param extra       more settings for {@code serve}
     */
    static TetherPeer start(String name, Path java, Path jar, Path dir, int poolMinIdle, int maxWorkers,
                            List<String> prefix, List<String> extra) throws IOException, InterruptedException {
        jar = jar.toAbsolutePath(); // the server runs in its own directory
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no " + jar + ": build it with mvn -B -q -DskipTests package -pl "
                    + "tether-cli -am (./tether compare does)");
        }
        Path data = Files.createDirectories(dir.resolve("data"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x"))); // as Tether asks
        // As a user starts it: through the launcher beside the jar's module (its JVM options
        // for the server), with this java; the launcher execs the JVM, so the pid is the JVM's.
        Path launcher = jar.getParent().getParent().getParent().resolve("tether");
        List<String> command = new ArrayList<>(prefix);
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
        command.addAll(extra);
        ServerProcess server = ServerProcess.start(name, command, env, dir, dir.resolve("server.log"));
        try {
            Path info = data.resolve("server.json");
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!Files.exists(info)) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    throw server.failure("did not start (waited up to " + START_TIMEOUT.toSeconds() + " s)");
                }
                Thread.sleep(2); // short: the cold start is timed from the process start to an answer
            }
            String url = Http.JSON.readTree(info.toFile()).get("url").asText();
            String token = Files.readString(data.resolve("admin-token")).trim();
            TetherPeer peer = new TetherPeer(name, server, url, token, poolMinIdle);
            peer.http.get("/healthz").expect(200, "healthz");
            server.markReady();
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

    /** A new session driven by {@link LeanHttp} on a connection of its own. */
    @Override
    public PeerSession openLean() throws IOException {
        LeanHttp c = lean();
        try {
            return new LeanSession(c, createLean(c), true);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** A raw HTTP/1.1 connection to this server with the admin token. */
    LeanHttp lean() {
        return new LeanHttp(url, "Bearer " + token);
    }

    private static final byte[] CREATE = "{\"runtime\":\"python\"}".getBytes(StandardCharsets.UTF_8);
    private static final String ID = "\"id\":\"";

    /** Creates a Python session over {@code c}; returns its id. */
    static String createLean(LeanHttp c) throws IOException {
        String body = c.post("/v1/sessions", CREATE).expect(201, "create a session").text();
        int at = body.indexOf(ID);
        int end = at < 0 ? -1 : body.indexOf('"', at + ID.length());
        if (end < 0) {
            throw new IllegalStateException("create a session: no id in " + body);
        }
        return body.substring(at + ID.length(), end);
    }

    /**
     * A session driven over a {@link LeanHttp} connection: the request body is made once per
     * code, and the answer is checked without parsing it (status 200 and {@code "status":"ok"}
     * in the body); only an answer with a value or output is parsed, to return them.
     */
    static final class LeanSession implements PeerSession {
        private static final byte[] OK = "\"status\":\"ok\"".getBytes(StandardCharsets.UTF_8);
        private static final byte[] NO_RESULT = "\"result\":null".getBytes(StandardCharsets.UTF_8);
        private static final byte[] NO_STDOUT = "\"stdout\":\"\"".getBytes(StandardCharsets.UTF_8);
        private final LeanHttp c;
        private final String path;
        private final String executions;
        private final boolean ownsConnection;
        private String lastCode;
        private byte[] lastBody;

        LeanSession(LeanHttp c, String id, boolean ownsConnection) {
            this.c = c;
            this.path = "/v1/sessions/" + id;
            this.executions = path + "/executions";
            this.ownsConnection = ownsConnection;
        }

        @Override
        public Reply execute(String code) throws IOException {
            if (!code.equals(lastCode)) {
                lastBody = Http.bytes(Map.of("code", code));
                lastCode = code;
            }
            LeanHttp.Answer a = c.post(executions, lastBody).expect(200, "execute");
            byte[] b = a.body();
            if (!LeanHttp.contains(b, OK)) {
                throw new IllegalStateException("execution of " + code + " ended " + a.text());
            }
            if (LeanHttp.contains(b, NO_RESULT) && LeanHttp.contains(b, NO_STDOUT)) {
                return new Reply("", null);
            }
            JsonNode r = Http.JSON.readTree(b);
            JsonNode result = r.path("result");
            return new Reply(r.path("stdout").asText(), result.isObject() ? result.path("text/plain").asText() : null);
        }

        @Override
        public void close() throws IOException {
            try {
                c.delete(path).expect(200, "end a session");
            } finally {
                if (ownsConnection) {
                    c.close();
                }
            }
        }
    }

    /** A new session driven by Tether's Java client (one {@code TetherClient} per server). */
    PeerSession openClient() {
        synchronized (this) {
            if (client == null) {
                client = TetherClient.builder().baseUrl(url).token(token).build();
            }
        }
        TetherClient c = client;
        String id = c.createSession("python").id();
        return new PeerSession() {
            @Override
            public Reply execute(String code) {
                Execution e = c.execute(id, code);
                if (!e.ok()) {
                    throw new IllegalStateException("execution of " + code + " ended " + e.status() + " " + e.error());
                }
                return new Reply(e.stdout(), e.text());
            }

            @Override
            public void close() {
                c.endSession(id);
            }
        };
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
        synchronized (this) {
            if (client != null) {
                client.close();
                client = null;
            }
        }
        server.close();
    }
}
