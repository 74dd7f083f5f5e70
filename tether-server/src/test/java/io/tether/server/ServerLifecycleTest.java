package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.store.sqlite.SqliteSessionStore;
import io.tether.testing.Eventually;
import io.tether.testing.OpenDirectories;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Start, graceful shutdown and recovery after a crash of a whole server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServerLifecycleTest {
    @TempDir
    Path dataDir;

    /** The host pid of the session's interpreter (inside its sandbox it has another). */
    private long pid(Api api, String session) throws Exception {
        Map<String, Object> r = api.send("POST", "/v1/execute", Map.of("code", "open('marker', 'w').close()"),
                Map.of("Tether-Session", session)).json();
        assertThat(r).containsEntry("status", "ok");
        return Api.interpreterPid(dataDir, "marker");
    }

    private static void awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            assertThat(System.nanoTime()).as("process %d still alive", pid).isLessThan(deadline);
            Thread.sleep(20); // waiting for a real process to exit
        }
    }

    @Test
    void gracefulShutdownLetsExecutionsFinishEndsLiveSessionsAndKillsWorkers() throws Exception {
        TetherServer server = Api.start(dataDir, Map.of("auth", "none", "shutdown_grace", "20s"));
        Api api = new Api(server.url(), null);
        String live = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
        String plain = (String) api.post("/v1/sessions", Map.of()).json().get("id");
        long worker = pid(api, live);

        CompletableFuture<Api.Reply> slow = CompletableFuture.supplyAsync(() -> api.send("POST", "/v1/execute",
                Map.of("code", "import time\ntime.sleep(0.7)\n'finished'"), Map.of("Tether-Session", live)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.manager().execution(live, 3).isEmpty()) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(10); // until the slow execution runs
        }
        server.close();

        Api.Reply finished = slow.get(10, TimeUnit.SECONDS);
        assertThat(finished.json()).containsEntry("status", "ok")
                .containsEntry("result", Map.of("text/plain", "'finished'", "application/json", "finished"));
        assertThat(ProcessHandle.of(worker).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(dataDir.resolve(TetherServer.SERVER_FILE)).doesNotExist();

        try (TetherServer again = Api.start(dataDir, Map.of("auth", "none"))) {
            Api api2 = new Api(again.url(), null);
            assertThat(api2.get("/v1/sessions/" + live).json()).containsEntry("status", "ended")
                    .containsEntry("end_reason", "server_shutdown");
            assertThat(api2.get("/v1/sessions/" + plain).json()).containsEntry("status", "active");
        }
    }

    /** The working directory of a live session, found by a file its code writes. */
    private Path workingDirectory(Api api, String session) throws Exception {
        assertThat(api.send("POST", "/v1/execute", Map.of("code", "open('here', 'w').close()"),
                Map.of("Tether-Session", session)).json()).containsEntry("status", "ok");
        try (var dirs = Files.list(dataDir.resolve("work"))) {
            return dirs.filter(d -> Files.exists(d.resolve("here"))).findFirst().orElseThrow();
        }
    }

    @Test
    void shutdownWaitsForEveryQueuedExecutionOfOneSession() throws Exception {
        TetherServer server = Api.start(dataDir, Map.of("auth", "none", "shutdown_grace", "60s"));
        Api api = new Api(server.url(), null);
        String live = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
        Path dir = workingDirectory(api, live);
        CompletableFuture<Api.Reply> first = CompletableFuture.supplyAsync(() -> api.send("POST", "/v1/execute",
                Map.of("code", "import os, time\nwhile not os.path.exists('go'): time.sleep(0.01)\n'first'"),
                Map.of("Tether-Session", live)));
        CompletableFuture<Api.Reply> second = CompletableFuture.supplyAsync(() -> api.send("POST", "/v1/execute",
                Map.of("code", "import time\ntime.sleep(0.5)\n'second'"), Map.of("Tether-Session", live)));
        Eventually.eventually(Duration.ofSeconds(20), "both executions of the session counted as executing",
                () -> ((Number) api.get("/v1/stats").json().get("executing")).intValue() == 2);

        CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
        Files.createFile(dir.resolve("go"));

        assertThat(first.get(30, TimeUnit.SECONDS).json()).containsEntry("status", "ok");
        assertThat(second.get(30, TimeUnit.SECONDS).json()).as("the queued execution ran to its end")
                .containsEntry("status", "ok")
                .containsEntry("result", Map.of("text/plain", "'second'", "application/json", "second"));
        closing.get(30, TimeUnit.SECONDS);
    }

    @Test
    void runningExecutionsAreInterruptedWhenTheGracePeriodRunsOut() throws Exception {
        TetherServer server = Api.start(dataDir, Map.of("auth", "none", "shutdown_grace", "300ms"));
        Api api = new Api(server.url(), null);
        String live = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
        Map<String, Object> noTimeout = new java.util.HashMap<>(Map.of("code", "while True: pass"));
        noTimeout.put("timeout", null);
        CompletableFuture<Api.Reply> forever = CompletableFuture.supplyAsync(() -> api.send("POST", "/v1/execute",
                noTimeout, Map.of("Tether-Session", live)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.manager().execution(live, 2).isEmpty()) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(10); // until the loop runs
        }
        server.close();
        assertThat(forever.get(10, TimeUnit.SECONDS).json()).containsEntry("status", "interrupted");
    }

    @Test
    void afterAKill9TheNextStartEndsSessionsThatHadWorkersAndKeepsPlainOnes() throws Exception {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-Dorg.sqlite.tmpdir=" + dataDir, "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.tether.server.ChildServer", "--port", "0", "--auth", "none", "--runtimes", "python",
                "--python-pool-min-idle", "0", "--data-dir", dataDir.toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        long worker;
        List<Long> between = new ArrayList<>(); // the session's init, the fork server, the jail
        String live;
        String plain;
        Path left;
        List<Path> before;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String url = null;
            Pattern listening = Pattern.compile("listening on (http://\\S+)");
            for (String line = out.readLine(); line != null && url == null; line = out.readLine()) {
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    url = m.group(1);
                }
            }
            assertThat(url).as("the child server's banner").isNotNull();
            Api api = new Api(url, null);
            live = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
            plain = (String) api.post("/v1/sessions", Map.of()).json().get("id");
            worker = pid(api, live);
            left = workingDirectory(api, live);
            try (var dirs = Files.list(dataDir.resolve("work"))) {
                before = dirs.toList();
            }
            for (var p = ProcessHandle.of(worker).flatMap(ProcessHandle::parent); p.isPresent()
                    && p.get().pid() != child.pid() && p.get().pid() > 1; p = p.get().parent()) {
                between.add(p.get().pid());
            }
            assertThat(between).as("the worker descends from the server").isNotEmpty();
        } finally {
            child.toHandle().destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        awaitGone(worker);
        for (long pid : between) {
            awaitGone(pid);
        }

        Files.deleteIfExists(dataDir.resolve(TetherServer.SERVER_FILE));
        try (TetherServer again = Api.start(dataDir, Map.of("auth", "none"))) {
            Api api = new Api(again.url(), null);
            assertThat(api.get("/v1/sessions/" + live).json()).containsEntry("status", "error")
                    .containsEntry("end_reason", "node_lost");
            assertThat(api.get("/v1/sessions/" + plain).json()).containsEntry("status", "active");
            assertThat(left).as("the lost session's working directory").doesNotExist();
            assertThat(before).as("what the killed server had under its work root").isNotEmpty()
                    .allSatisfy(p -> assertThat(p).doesNotExist());
        }
    }

    @Test
    void aStartRemovesWhatADeadServerLeftInTheWorkRootEvenATreeDeeperThanPathMax() throws Exception {
        Path left = Files.createDirectories(dataDir.resolve("work").resolve("python-left"));
        // 30 levels of 200 characters: a path of 6,030, past PATH_MAX (4,096)
        ProcessBuilder deep = new ProcessBuilder("/usr/bin/python3", "-c",
                "import os\nos.chdir(os.environ['LEFT'])\nfor _ in range(30):\n    os.mkdir('d' * 200)\n"
                        + "    os.chdir('d' * 200)\nopen('bottom', 'w').write('x')\n").inheritIO();
        deep.environment().put("LEFT", left.toString());
        Process p = deep.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        try (TetherServer server = Api.start(dataDir, Map.of("auth", "none"))) {
            assertThat(left).doesNotExist();
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirectoryIsRefusedAndTouchesNothing() throws Exception {
        try (TetherServer first = Api.start(dataDir, Map.of("auth", "none", "store", "memory"))) {
            Api api = new Api(first.url(), null);
            String live = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
            Path dir = workingDirectory(api, live);

            assertThatThrownBy(() -> Api.start(dataDir, Map.of("auth", "none", "store", "memory")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("another Tether server");
            assertThat(dir.resolve("here")).as("the first server's session files").exists();
            assertThat(api.send("POST", "/v1/execute", Map.of("code", "x"), Map.of("Tether-Session", live)).json())
                    .containsEntry("status", "ok");
        }
    }

    @Test
    void refusesToServeANonLoopbackAddressWithoutAuth() {
        assertThatThrownBy(() -> Api.start(dataDir, Map.of("auth", "none", "bind", "0.0.0.0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without auth");
        assertThat(dataDir.resolve("tether.db")).doesNotExist();
    }

    @Test
    void pythonSettingsReachTheWorkersInTheSandbox() throws Exception {
        Path extra = OpenDirectories.create("python-path-");
        try {
            Files.writeString(extra.resolve("answer_module.py"), "ANSWER = 42\n");
            extra.resolve("answer_module.py").toFile().setReadable(true, false);
            try (TetherServer server = Api.start(dataDir, Map.of("auth", "none", "python_path", extra.toString(),
                    "worker_env", "GREETING=hi,HOME"))) {
                Api api = new Api(server.url(), null);
                assertThat(api.post("/v1/execute", Map.of("code", "import os, answer_module\n"
                        + "[answer_module.ANSWER, os.environ['GREETING'], os.environ.get('HOME'), 'TETHER_TOKEN' in os.environ,"
                        + " sorted(os.environ)]")).json())
                        .containsEntry("status", "ok")
                        .extractingByKey("result").asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                        .containsEntry("application/json", List.of(42, "hi", System.getenv("HOME"), false,
                                List.of("GREETING", "HOME", "LANG", "PATH")));
            }
        } finally {
            new ProcessBuilder("rm", "-rf", extra.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void anInterpreterThatIsNotPythonFailsTheStartWithWhatItSaid() {
        assertThatThrownBy(() -> Api.start(dataDir, Map.of("auth", "none", "python", "/bin/false")))
                .hasMessageContaining("/bin/false is not a Python 3.8 or later interpreter");
        assertThatThrownBy(() -> Api.start(dataDir, Map.of("auth", "none", "python", "/no/such/python3")))
                .hasMessageContaining("no executable Python interpreter at /no/such/python3");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("python_path", "relative/dir"), Map.of(), null)))
                .hasMessageContaining("python_path").hasMessageContaining("absolute");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("worker_env", "A-B=1"), Map.of(), null)))
                .hasMessageContaining("worker_env").hasMessageContaining("'A-B=1'");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("python_preload", "numpy, os;rm"), Map.of(), null)))
                .hasMessageContaining("python_preload").hasMessageContaining("'os;rm'");
        assertThat(ServerConfig.from(Settings.resolve(Map.of("python_preload", "numpy, matplotlib.pyplot"), Map.of(), null))
                .pythonPreload()).containsExactly("numpy", "matplotlib.pyplot");
        assertThat(ServerConfig.from(Settings.resolve(Map.of(), Map.of(), null)).sqliteSync())
                .isEqualTo(SqliteSessionStore.Synchronous.FULL);
        assertThat(ServerConfig.from(Settings.resolve(Map.of("sqlite_sync", "normal"), Map.of(), null)).sqliteSync())
                .isEqualTo(SqliteSessionStore.Synchronous.NORMAL);
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("sqlite_sync", "off"), Map.of(), null)))
                .hasMessageContaining("sqlite_sync").hasMessageContaining("full or normal");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("python_pool_max_workers", "20000"),
                Map.of(), null))).hasMessageContaining("python_pool_max_workers").hasMessageContaining("10000");
    }

    @Test
    void settingsComeFromFlagsThenEnvironmentThenFileThenDefaults() throws Exception {
        Path file = dataDir.resolve("tether.conf");
        Files.writeString(file, "port = 9001\nbind = 127.0.0.2\nidle_timeout = 5m\nexecution_history = 7\n");
        Settings s = Settings.resolve(Map.of("port", "9003"),
                Map.of("TETHER_PORT", "9002", "TETHER_BIND", "127.0.0.3"), file);
        ServerConfig c = ServerConfig.from(s);
        assertThat(c.port()).isEqualTo(9003);
        assertThat(c.bind()).isEqualTo("127.0.0.3");
        assertThat(c.idleTimeout()).hasMinutes(5);
        assertThat(c.executionHistory()).isEqualTo(7);
        assertThat(c.maxSessions()).isEqualTo(100_000);
        assertThat(c.workerLimits().diskQuotaBytes()).isEqualTo(1L << 30);
        assertThat(ServerConfig.from(Settings.resolve(Map.of(), Map.of("TETHER_WORKER_DISK_QUOTA", "5MiB"), file))
                .workerLimits().diskQuotaBytes()).isEqualTo(5L << 20);
        assertThat(s.origin("bind")).isEqualTo("environment variable TETHER_BIND");
        assertThat(c.sessionRetention()).hasDays(30);
        assertThat(c.workersPerOwner(64)).isEqualTo(32);
        assertThat(ServerConfig.from(Settings.resolve(Map.of("session_retention", "none", "pool_owner_share", "1"),
                Map.of(), file))).satisfies(none -> {
                    assertThat(none.sessionRetention()).isNull();
                    assertThat(none.workersPerOwner(64)).isEqualTo(64);
                });
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("session_retention", "0s"), Map.of(), file)))
                .hasMessageContaining("session_retention").hasMessageContaining("at least 1ms");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("pool_owner_share", "0"), Map.of(), file)))
                .hasMessageContaining("pool_owner_share").hasMessageContaining("above 0 and at most 1");

        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("python_pool_min_idle", "many"), Map.of(), file)))
                .hasMessageContaining("python_pool_min_idle").hasMessageContaining("flag --python-pool-min-idle")
                .hasMessageContaining("whole number");
        Files.writeString(file, "prot = 1\n");
        assertThatThrownBy(() -> Settings.resolve(Map.of(), Map.of(), file)).hasMessageContaining("unknown settings [prot]");
        assertThat(Settings.parseDuration("1.5s")).hasMillis(1500);
        assertThat(Settings.parseBytes("2MiB")).isEqualTo(2L << 20);
    }

    @Test
    void everySettingIsDocumentedInTheConfigurationTable() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (Settings.Setting s : Settings.all()) {
            assertThat(doc).as("docs/configuration.md row of " + s.key())
                    .contains("| `" + s.key() + "` | `" + s.flag() + "` | `" + s.env() + "` | `" + s.defaultText() + "` |");
        }
    }

    /**
     * JShell's warm pool waits for its first session: a JShell worker is a JVM (~100 MB at
     * rest) that a server nobody uses JShell on should not pay for. Python's fills at start.
     */
    @Test
    void aFreshServerStartsNoJShellJvmUntilAJShellSessionIsCreated() throws Exception {
        Api.openToTheJail(dataDir);
        // The default settings (both runtimes, Python's pool 2 idle, JShell's 1), no auth.
        Map<String, String> flags = Map.of("port", "0", "data_dir", dataDir.toString(), "auth", "none",
                "access_log", "false");
        try (TetherServer server = TetherServer.start(ServerConfig.from(Settings.resolve(flags, Map.of(), null)))) {
            Api api = new Api(server.url(), null);
            // Both pools were built together: once Python's is full, an eager JShell pool would
            // have begun its start long ago (its JVM is spawned first thing).
            Eventually.eventually(Duration.ofSeconds(30), "the python pool full",
                    () -> ((Number) pool(api, "python").get("idle")).intValue() == 2);
            assertThat(pool(api, "jshell")).containsEntry("idle", 0).containsEntry("starting", 0);
            assertThat(jshellJvms()).isEmpty();

            Map<String, Object> r = api.send("POST", "/v1/execute", Map.of("code", "1 + 1", "runtime", "jshell"),
                    Map.of()).json();

            assertThat(r).containsEntry("status", "ok");
            // The session's JVM and then, once its start returned, the pool's one idle spare.
            Eventually.eventually(Duration.ofSeconds(60), "a JShell session and one idle spare",
                    () -> ((Number) pool(api, "jshell").get("idle")).intValue() == 1);
            assertThat(jshellJvms()).hasSize(2);
        }
        Eventually.eventually(Duration.ofSeconds(15), "no JShell JVM left", () -> jshellJvms().isEmpty());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> pool(Api api, String runtime) {
        List<Map<String, Object>> runtimes = (List<Map<String, Object>>) api.get("/v1/runtimes").json().get("runtimes");
        return (Map<String, Object>) runtimes.stream().filter(r -> runtime.equals(r.get("name"))).findFirst()
                .orElseThrow().get("pool");
    }

    /** This JVM's descendants that are JShell worker JVMs (in the sandbox below its jail). */
    private static List<Long> jshellJvms() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().orElse("").endsWith("/java")) // not the jail's bwrap layers
                .filter(p -> p.info().commandLine().orElse("").contains("io.tether.runtime.jshell.JShellAgent"))
                .map(ProcessHandle::pid).toList();
    }
}
