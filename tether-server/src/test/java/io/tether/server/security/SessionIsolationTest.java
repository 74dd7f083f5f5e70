package io.tether.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.WorkDirectories;
import io.tether.server.Api;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import io.tether.testing.Confinement;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import io.tether.testing.OpenDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two owners on one server over real HTTP on loopback: bob's session code reaches nothing
 * of the server's (its admin token, token file and database in the data directory, its
 * HTTP port) and nothing of alice's session (her files, her worker). Each attack runs
 * against a server with {@code sandbox = required}, where it must be refused, and one with
 * {@code sandbox = off}, where the same attack must work.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionIsolationTest {
    static final Map<Confinement, Tenants> servers = new EnumMap<>(Confinement.class);

    /** One server, its data directory and its two owners. */
    record Tenants(TetherServer server, Path dataDir, String adminToken, Api alice, Api bob) {
        /** A new Python session of {@code owner}'s; returns its id. */
        String session(Api owner) {
            Api.Reply r = owner.post("/v1/sessions", Map.of("runtime", "python"));
            assertThat(r.status()).as(r.body()).isEqualTo(201);
            return (String) r.json().get("id");
        }

        /** Runs {@code code} in session {@code id}; returns the execution as JSON. */
        Map<String, Object> run(Api owner, String id, String code) {
            Api.Reply r = owner.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            return r.json();
        }

        Path workingDirectory(String id) {
            return server.manager().workingDirectory(id).orElseThrow();
        }

        void end(Api owner, String id) {
            owner.send("DELETE", "/v1/sessions/" + id, null, Map.of());
        }
    }

    static Path base;
    /** This JVM's processes before the servers started: no other may be left once they stopped. */
    static Set<Long> before;

    @BeforeAll
    static void startServers() throws IOException {
        base = OpenDirectories.create("security-"); // not /tmp, which a jail hides anyway
        before = HostProcesses.ours(base);
        for (Confinement c : Confinement.values()) {
            Path dataDir = Files.createDirectory(base.resolve(c.name().toLowerCase(Locale.ROOT)));
            // No disk quota: a session that swaps a directory and a link without pause (the files-API
            // race below) cannot be measured, and its quota would rightly end it before the race is run.
            TetherServer server = Api.start(dataDir, Map.of("sandbox", c.sandboxed() ? "required" : "off",
                    "python_pool_min_idle", "2", "worker_disk_quota", "0"));
            TokenStore tokens = TokenStore.open(dataDir);
            String admin = Files.readString(tokens.adminTokenFile()).trim();
            servers.put(c, new Tenants(server, dataDir, admin, new Api(server.url(), tokens.create("alice", false).token()),
                    new Api(server.url(), tokens.create("bob", false).token())));
        }
    }

    @AfterAll
    static void stopServersAndLeaveNoProcess() {
        servers.values().forEach(t -> t.server().close());
        Eventually.eventually(Duration.ofSeconds(5), "no process of the servers' left",
                () -> before.containsAll(HostProcesses.ours(base)));
        WorkDirectories.delete(base);
    }

    /** In the sandbox the attack raised {@code refusal} (a regular expression over "Name: message"); else it returned {@code stolen}. */
    @SuppressWarnings("unchecked")
    static void assertAttack(Confinement c, Map<String, Object> execution, String refusal, Object stolen) {
        if (c.sandboxed()) {
            assertThat(execution).as("refused").containsEntry("status", "error");
            Map<String, Object> error = (Map<String, Object>) execution.get("error");
            assertThat(error.get("name") + ": " + error.get("value")).matches(refusal);
        } else {
            assertThat(execution).as("the attack works without the sandbox").containsEntry("status", "ok");
            Map<String, Object> result = (Map<String, Object>) execution.get("result");
            assertThat(result == null ? null : result.get("application/json")).isEqualTo(stolen);
        }
    }

    static String py(Object s) {
        return "'" + s.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    static final String NO_SUCH_FILE = "FileNotFoundError: \\[Errno 2\\] No such file or directory.*";

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadTheAdminToken(Confinement c) {
        Tenants t = servers.get(c);
        String bobs = t.session(t.bob());
        Map<String, Object> r = t.run(t.bob(), bobs, "open(" + py(t.dataDir().resolve("admin-token")) + ").read().strip()");
        assertAttack(c, r, NO_SUCH_FILE, t.adminToken());
        if (!c.sandboxed()) {
            Api asAdmin = t.bob().as(t.adminToken());
            assertThat(asAdmin.get("/v1/sessions?owner=alice").status()).as("bob is admin now").isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadTheTokenFileOrTheDatabase(Confinement c) {
        Tenants t = servers.get(c);
        String bobs = t.session(t.bob());
        assertAttack(c, t.run(t.bob(), bobs, "'\"alice\"' in open(" + py(t.dataDir().resolve("tokens.json")) + ").read()"),
                NO_SUCH_FILE, true);
        assertAttack(c, t.run(t.bob(), bobs, "open(" + py(t.dataDir().resolve("tether.db")) + ", 'rb').read(15).decode()"),
                NO_SUCH_FILE, "SQLite format 3");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadAnotherOwnersFiles(Confinement c) {
        Tenants t = servers.get(c);
        String alices = t.session(t.alice());
        String secret = "alice's secret " + UUID.randomUUID();
        assertThat(t.alice().send("PUT", "/v1/sessions/" + alices + "/files/secret.txt", secret, Map.of()).status())
                .isEqualTo(201);
        Path host = t.workingDirectory(alices).resolve("secret.txt");
        Path jailed = t.server().sandbox().inJail(host.getParent()).resolve("secret.txt");
        String bobs = t.session(t.bob());
        assertAttack(c, t.run(t.bob(), bobs, "open(" + py(host) + ").read()"), NO_SUCH_FILE, secret);
        assertAttack(c, t.run(t.bob(), bobs, "open(" + py(jailed) + ").read()"),
                "PermissionError: \\[Errno 13\\] Permission denied.*", secret);
        assertThat(t.run(t.alice(), alices, "open('secret.txt').read()")).containsEntry("status", "ok");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReachTheServersHttpPort(Confinement c) {
        Tenants t = servers.get(c);
        String bobs = t.session(t.bob());
        Map<String, Object> r = t.run(t.bob(), bobs, """
                import socket
                s = socket.create_connection(('127.0.0.1', %d), 5)
                s.sendall(b'GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\nConnection: close\\r\\n\\r\\n')
                reply = s.recv(12).decode()
                s.close()
                reply""".formatted(t.server().port(), t.server().port()));
        assertAttack(c, r, "(PermissionError: \\[Errno 13\\]|OSError: \\[Errno 101\\] Network is unreachable).*",
                "HTTP/1.1 200");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotKillAnotherOwnersWorker(Confinement c) throws IOException {
        Tenants t = servers.get(c);
        String alices = t.session(t.alice());
        String marker = "marker-" + UUID.randomUUID();
        t.run(t.alice(), alices, "kept = 42\nopen(" + py(marker) + ", 'w').close()");
        long victim = Api.interpreterPid(t.dataDir(), marker);
        String bobs = t.session(t.bob());
        Map<String, Object> r = t.run(t.bob(), bobs, "import os, signal\nos.kill(%d, signal.SIGKILL)".formatted(victim));
        assertAttack(c, r, "ProcessLookupError: \\[Errno 3\\] No such process.*", null);
        if (c.sandboxed()) {
            assertThat(t.run(t.alice(), alices, "kept")).containsEntry("status", "ok")
                    .containsEntry("result", Map.of("text/plain", "42", "application/json", 42));
        } else {
            Eventually.eventually(Duration.ofSeconds(5), "alice's worker killed", () -> !HostProcesses.running(victim));
            // the attack worked: the death of alice's idle worker ends her session
            Eventually.eventually(Duration.ofSeconds(5), "alice's session ended", () ->
                    "worker_crashed".equals(t.alice().get("/v1/sessions/" + alices).json().get("end_reason")));
        }
        t.end(t.alice(), alices);
        t.end(t.bob(), bobs);
        Eventually.eventually(Duration.ofSeconds(5), "alice's worker gone", () -> !HostProcesses.running(victim));
    }

    /**
     * The files API never follows a link, whoever made it: a sandboxed session can make one
     * that points at the server's data directory even though it cannot follow it itself,
     * and the server, outside the sandbox, could.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource
    void theFilesApiDoesNotFollowALinkOutOfTheSession(Confinement c) {
        Tenants t = servers.get(c);
        String bobs = t.session(t.bob());
        Path token = t.dataDir().resolve("admin-token");
        Map<String, Object> r = t.run(t.bob(), bobs, "import os\nos.symlink(" + py(token) + ", 'token')\n"
                + "os.symlink('../..', 'data')\nopen('token').read().strip()");
        assertAttack(c, r, NO_SUCH_FILE, t.adminToken());
        String files = "/v1/sessions/" + bobs + "/files/";
        for (String path : List.of("token", "data/admin-token", "data/tokens.json")) {
            Api.Reply got = t.bob().get(files + path);
            assertThat(got.status()).as(path).isEqualTo(400);
            assertThat(got.body()).doesNotContain(t.adminToken()).contains("symbolic link");
        }
        assertThat(t.bob().send("PUT", files + "data/planted", "x", Map.of()).status()).isEqualTo(400);
        assertThat(t.dataDir().resolve("planted")).doesNotExist();
    }

    /**
     * The server checks a path for links and then opens it: a session that swaps a directory
     * of its own for a link ({@code ../..}, its data directory) between the two, over and over,
     * must still never get the server to read or write there. Only the sandboxed server: the
     * sandbox cannot stop this one (making links in its own directory is allowed), the files
     * API must.
     */
    @Test
    void aLinkSwappedInWhileTheFilesApiLooksNeverLeadsOut() throws Exception {
        Tenants t = servers.get(Confinement.SANDBOXED);
        String bobs = t.session(t.bob());
        Map<String, Object> swapping = t.run(t.bob(), bobs, """
                import ctypes, os, time
                os.mkdir('d')
                open('d/admin-token', 'w').write('decoy')
                os.symlink('../..', 'l')
                libc = ctypes.CDLL(None, use_errno=True)
                AT_FDCWD, RENAME_EXCHANGE = -100, 2
                swapper = os.fork()
                if swapper == 0:
                    end = time.monotonic() + 60
                    while time.monotonic() < end:
                        for _ in range(1000):
                            libc.renameat2(AT_FDCWD, b'd', AT_FDCWD, b'l', RENAME_EXCHANGE)
                    os._exit(0)
                swapper""");
        assertThat(swapping).containsEntry("status", "ok");
        String files = "/v1/sessions/" + bobs + "/files/";
        AtomicInteger throughDirectory = new AtomicInteger();
        AtomicInteger refusedLink = new AtomicInteger();
        Queue<String> leaks = new ConcurrentLinkedQueue<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        try (var threads = Executors.newFixedThreadPool(4)) {
            for (int i = 0; i < 4; i++) {
                int thread = i;
                threads.submit(() -> {
                    for (int n = 0; System.nanoTime() < deadline && leaks.isEmpty(); n++) {
                        Api.Reply got = t.bob().get(files + "d/admin-token");
                        if (got.body().contains(t.adminToken())) {
                            leaks.add("GET d/admin-token read the admin token");
                        } else if (got.status() == 200) {
                            throughDirectory.incrementAndGet();
                        } else if (got.status() == 400) {
                            refusedLink.incrementAndGet();
                        }
                        String planted = "planted-" + thread + "-" + n;
                        t.bob().send("PUT", files + "d/" + planted, "x", Map.of());
                        if (Files.exists(t.dataDir().resolve(planted))) {
                            leaks.add("PUT d/" + planted + " wrote into the data directory");
                        }
                    }
                    return null;
                });
            }
        }
        assertThat(leaks).as("what the session reached through the files API").isEmpty();
        assertThat(throughDirectory.get()).as("requests that found the directory").isPositive();
        assertThat(refusedLink.get()).as("requests that found the link").isPositive();
        t.end(t.bob(), bobs);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aHardLinkCannotCarryTheAdminTokenOutThroughTheFilesApi(Confinement c) {
        Tenants t = servers.get(c);
        String bobs = t.session(t.bob());
        Map<String, Object> r = t.run(t.bob(), bobs, "import os\nos.link(" + py(t.dataDir().resolve("admin-token"))
                + ", 'token')\nos.path.exists('token')");
        assertAttack(c, r, NO_SUCH_FILE, true);
        Api.Reply got = t.bob().get("/v1/sessions/" + bobs + "/files/token");
        if (c.sandboxed()) {
            assertThat(got.status()).isEqualTo(404);
        } else {
            assertThat(got.body().trim()).as("the attack works without the sandbox").isEqualTo(t.adminToken());
        }
    }
}
