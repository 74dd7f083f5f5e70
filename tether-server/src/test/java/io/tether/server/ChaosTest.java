package io.tether.server;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos, bounded: a real server in a process of its own (sandbox on, SQLite, Python) under
 * four client threads that create sessions, update their data and execute code, while the
 * test kills, with SIGKILL, a session's worker, the fork server or the whole server, 20
 * times in a random order (the seed is in every failure message; {@code -Dchaos.seed=N}
 * replays one). After each fault:
 * <ul>
 *   <li>a killed worker's session ends {@code error} / {@code worker_crashed} within a second or
 *       two, and only that session;</li>
 *   <li>after a killed fork server new Python sessions still start and run code;</li>
 *   <li>after a killed server no process it started is left, and the next start has every
 *       session and update it acknowledged, the sessions that had workers ended
 *       {@code node_lost};</li>
 *   <li>the server answers.</li>
 * </ul>
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ChaosTest {
    private static final int CYCLES = 20;
    private static final int CLIENTS = 4;
    /** Python sessions a client keeps live at once (each holds one of the pool's 64 workers). */
    private static final int MAX_PYTHON_PER_CLIENT = 3;

    enum Fault { WORKER, FORK_SERVER, SERVER }

    @TempDir
    Path dataDir;

    private final long seed = Long.getLong("chaos.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Child server;

    /** What the clients were told: per session, the data values a read may show (the acknowledged one, and any sent after it). */
    private final Map<String, Ledger> ledger = new ConcurrentHashMap<>();
    private final AtomicLong values = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();

    /** One session as the clients know it. */
    private static final class Ledger {
        final boolean python;
        long acked;
        final Set<Long> maybe = ConcurrentHashMap.newKeySet(); // sent, answer not seen

        Ledger(boolean python, long acked) {
            this.python = python;
            this.acked = acked;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.kill();
        }
    }

    @Test
    void nothingAcknowledgedIsLostAndNothingIsLeftBehindWhateverIsKilled() throws Exception {
        String why = "seed " + seed;
        Api.openToTheJail(dataDir);
        server = Child.start(dataDir);
        List<Fault> plan = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            plan.add(Fault.values()[i % Fault.values().length]);
        }
        Collections.shuffle(plan, random);
        Map<Fault, Integer> done = new EnumMap<>(Fault.class);
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Fault fault = plan.get(cycle);
            String at = why + ", cycle " + cycle + " (" + fault + ")";
            AtomicBoolean stop = new AtomicBoolean();
            List<CompletableFuture<Void>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                long clientSeed = random.nextLong();
                Api api = server.api();
                clients.add(CompletableFuture.runAsync(() -> client(api, new Random(clientSeed), stop)));
            }
            TimeUnit.MILLISECONDS.sleep(200 + random.nextInt(400)); // load before the fault, not a wait for a result
            switch (fault) {
                case WORKER -> killAWorker(at);
                case FORK_SERVER -> killTheForkServer(at);
                case SERVER -> killTheServer(at);
            }
            stop.set(true);
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
            if (fault == Fault.SERVER) {
                restartAndCheckTheLedger(at);
            } else {
                endPythonSessions(server.api()); // each holds a pool worker; the next cycle's clients start afresh
            }
            assertThat(server.api().get("/healthz").status()).as(at + ": the server answers").isEqualTo(200);
            done.merge(fault, 1, Integer::sum);
        }
        assertThat(done).as(why).containsOnlyKeys(Fault.values());
        assertThat(acknowledged.get()).as(why + ": acknowledged writes checked").isGreaterThan(100);
    }

    /** Creates sessions, updates their data and runs code until {@code stop}; records what was acknowledged. */
    private void client(Api api, Random r, AtomicBoolean stop) {
        List<String> own = new ArrayList<>();
        List<String> ownPython = new ArrayList<>();
        while (!stop.get()) {
            try {
                int op = own.isEmpty() ? 0 : r.nextInt(10);
                if (op < 2) {
                    boolean python = r.nextBoolean();
                    if (python && ownPython.size() >= MAX_PYTHON_PER_CLIENT) {
                        // each session holds a pool worker while it lives: end the oldest first
                        String oldest = ownPython.get(0);
                        if (api.send("DELETE", "/v1/sessions/" + oldest, null, Map.of()).status() != 200) {
                            continue;
                        }
                        ownPython.remove(0);
                        own.remove(oldest);
                        acknowledged.incrementAndGet();
                    }
                    long v = values.incrementAndGet();
                    Map<String, Object> body = python ? Map.of("runtime", "python", "data", Map.of("v", v))
                            : Map.of("data", Map.of("v", v));
                    Api.Reply reply = api.post("/v1/sessions", body);
                    if (reply.status() == 201) {
                        String id = (String) reply.json().get("id");
                        ledger.put(id, new Ledger(python, v));
                        own.add(id);
                        if (python) {
                            ownPython.add(id);
                        }
                        acknowledged.incrementAndGet();
                    }
                } else if (op < 6) {
                    String id = own.get(r.nextInt(own.size()));
                    Ledger l = ledger.get(id);
                    long v = values.incrementAndGet();
                    l.maybe.add(v);
                    Api.Reply reply = api.send("PATCH", "/v1/sessions/" + id, Map.of("data", Map.of("v", v)), Map.of());
                    if (reply.status() == 200) {
                        synchronized (l) {
                            l.acked = v;
                            l.maybe.removeIf(m -> m <= v);
                        }
                        acknowledged.incrementAndGet();
                    } else if (reply.status() < 500) {
                        l.maybe.remove(v); // refused (e.g. the session ended): nothing was written
                    }
                } else {
                    String id = own.get(r.nextInt(own.size()));
                    if (ledger.get(id).python) {
                        api.send("POST", "/v1/execute", Map.of("code", "x = globals().get('x', 0) + 1"),
                                Map.of("Tether-Session", id));
                    }
                }
            } catch (AssertionError e) {
                pause(); // the server is down or going: try again
            }
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(20); // back off from a server that is not there
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A fresh session's interpreter, killed between executions: its session ends worker_crashed, no other. */
    private void killAWorker(String at) throws Exception {
        Api api = server.api();
        String victim = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
        String marker = "chaos-" + victim;
        assertThat(api.send("POST", "/v1/execute", Map.of("code", "open('" + marker + "', 'w').close()"),
                Map.of("Tether-Session", victim)).json()).as(at).containsEntry("status", "ok");
        long pid = Api.interpreterPid(dataDir, marker);
        Set<String> activeBefore = activePython(api);

        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        eventually(Duration.ofSeconds(2), at + ": the victim's session ended", () ->
                !"active".equals(api.get("/v1/sessions/" + victim).json().get("status")));
        assertThat(api.get("/v1/sessions/" + victim).json()).as(at).containsEntry("status", "error")
                .containsEntry("end_reason", "worker_crashed");
        activeBefore.remove(victim);
        Set<String> activeAfter = activePython(api);
        assertThat(activeBefore).as(at + ": no other session ended with it")
                .allMatch(id -> activeAfter.contains(id) || endedByItself(api, id));
    }

    private static void endPythonSessions(Api api) {
        for (String id : activePython(api)) {
            api.send("DELETE", "/v1/sessions/" + id, null, Map.of());
        }
    }

    /** A session the clients ended or that expired, not one the kill took along. */
    private static boolean endedByItself(Api api, String id) {
        Object reason = api.get("/v1/sessions/" + id).json().get("end_reason");
        return !"worker_crashed".equals(reason) && !"node_lost".equals(reason);
    }

    private static Set<String> activePython(Api api) {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> items = (List<Map<String, Object>>) api.get("/v1/sessions?status=active&runtime=python&limit=1000")
                .json().get("items");
        items.forEach(s -> ids.add((String) s.get("id")));
        return ids;
    }

    /**
     * The fork server, killed: sessions it had forked live on, run code and end at once (it
     * took 5 s each while the sessions' inits kept the dead server's stdout open, so its death
     * went unnoticed); new Python sessions still start and run code.
     */
    private void killTheForkServer(String at) throws Exception {
        Api api = server.api();
        String before = api.post("/v1/execute", Map.of("code", "x = 1")).header("Tether-Session");
        // After MAX_FORK_SERVER_RESTARTS deaths the runtime starts workers cold and runs no fork server.
        Optional<Long> found = server.forkServerPid();
        if (found.isPresent()) {
            long pid = found.get();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            eventually(Duration.ofSeconds(5), at + ": the fork server is gone",
                    () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        }
        assertThat(api.send("POST", "/v1/sessions/" + before + "/executions", Map.of("code", "x + 1"), Map.of()).json())
                .as(at + ": a session forked before lives on").containsEntry("status", "ok");
        long ending = System.nanoTime();
        assertThat(api.send("DELETE", "/v1/sessions/" + before, null, Map.of()).status()).as(at).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - ending)).as(at + ": ending it").isLessThan(Duration.ofSeconds(2));
        Api.Reply[] last = new Api.Reply[1];
        try {
            eventually(Duration.ofSeconds(30), at + ": a new Python session runs code", () -> {
                last[0] = api.post("/v1/execute", Map.of("code", "6 * 7"));
                return last[0].status() == 200 && "ok".equals(last[0].json().get("status"));
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last answer: " + last[0].status() + " " + last[0].body()
                    + "; active python sessions: " + activePython(api).size() + "; runtimes: "
                    + api.get("/v1/runtimes").body(), e);
        }
    }

    /** The whole server, killed: nothing it started is left. */
    private void killTheServer(String at) throws Exception {
        List<ProcessHandle> family = server.process.descendants().toList();
        server.kill();
        for (ProcessHandle p : family) {
            eventually(Duration.ofSeconds(10), at + ": pid " + p.pid() + " " + p.info().commandLine().orElse("")
                    + " left by the killed server", () -> !p.isAlive());
        }
    }

    /** Starts the server again and compares every session with what the clients were told. */
    private void restartAndCheckTheLedger(String at) throws Exception {
        Files.deleteIfExists(dataDir.resolve(TetherServer.SERVER_FILE));
        server = Child.start(dataDir);
        Api api = server.api();
        for (Map.Entry<String, Ledger> e : ledger.entrySet()) {
            Api.Reply reply = api.get("/v1/sessions/" + e.getKey());
            assertThat(reply.status()).as(at + ": acknowledged session " + e.getKey()).isEqualTo(200);
            Map<String, Object> s = reply.json();
            Ledger l = e.getValue();
            @SuppressWarnings("unchecked")
            long stored = ((Number) ((Map<String, Object>) s.get("data")).get("v")).longValue();
            synchronized (l) {
                assertThat(stored).as(at + ": data of " + e.getKey() + " (acknowledged " + l.acked + ", unanswered "
                        + l.maybe + ")").matches(v -> v == l.acked || l.maybe.contains(v));
                l.acked = stored;
                l.maybe.clear();
            }
            if (l.python) {
                assertThat(s.get("status")).as(at + ": " + e.getKey() + " had a worker").isNotEqualTo("active");
            }
        }
    }

    /** The server in a process of its own, as `tether serve` runs it. */
    private record Child(Process process, String url) {
        static Child start(Path dataDir) throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "-Dorg.sqlite.tmpdir=" + dataDir, "-cp",
                    System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "io.tether.server.ChildServer", "--port", "0", "--auth", "none", "--runtimes", "python",
                    "--python-pool-min-idle", "2", "--data-dir", dataDir.toString()));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("listening on (http://\\S+)");
            StringBuilder banner = new StringBuilder();
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                banner.append(line).append('\n');
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    Thread.ofPlatform().daemon().start(() -> drain(out)); // its log, read so it never blocks
                    return new Child(p, m.group(1));
                }
            }
            p.destroyForcibly();
            throw new AssertionError("the server did not start:\n" + banner);
        }

        private static void drain(BufferedReader out) {
            try {
                while (out.readLine() != null) {
                    // the server's log: not checked
                }
            } catch (IOException e) {
                // the server is gone
            }
        }

        Api api() {
            return new Api(url, null);
        }

        /** The Python fork server: the process running worker.py with --fork-server whose parent does not. */
        Optional<Long> forkServerPid() {
            return process.descendants().filter(p -> forkServer(p) && p.parent().map(q -> !forkServer(q)).orElse(true))
                    .map(ProcessHandle::pid).findFirst();
        }

        private static boolean forkServer(ProcessHandle p) {
            try {
                return Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).contains("--fork-server");
            } catch (IOException e) {
                return false;
            }
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
