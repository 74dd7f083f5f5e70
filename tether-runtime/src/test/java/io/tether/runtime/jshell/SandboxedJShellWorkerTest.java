package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.sandbox.HostPids;

/**
 * Every behaviour of {@link JShellWorkerTest} with the JVM in the sandbox's jail, and what
 * the jail refuses: each attack runs in a sandboxed worker, where it fails, and in one of a
 * runtime without the sandbox, where it succeeds, so that it is the jail that stops it.
 */
class SandboxedJShellWorkerTest extends JShellWorkerTest {
    private static final String SECRET = "the server's secret";

    private JShellRuntime unconfined;
    /** A worker without the sandbox, beside the fixture's sandboxed {@link #worker}. */
    private Worker open;
    private Path secret;

    @Override
    boolean sandboxed() {
        return true;
    }

    @BeforeAll
    void startUnconfinedWorker() throws Exception {
        secret = Files.writeString(base.resolve("secret.txt"), SECRET);
        unconfined = JShellRuntime.builder().workRoot(workRoot).build();
        open = unconfined.start(options(1 << 20, 1 << 20, 512L << 20, Duration.ofSeconds(2)));
    }

    @AfterAll
    void closeUnconfinedWorker() {
        open.close();
    }

    private static ExecutionResult run(Worker worker, String code) {
        return worker.execute(new ExecutionRequest(1, code, Duration.ofSeconds(30)), OutputListener.NONE);
    }

    private Worker attacker(boolean sandboxed) {
        return sandboxed ? worker : open;
    }

    /** Its value as JSON, asserting that it ran. */
    private static Object value(ExecutionResult result) {
        assertThat(result.status()).as("%s", result).isEqualTo(ExecutionStatus.OK);
        return result.result().get("application/json");
    }

    private static void assertRefused(ExecutionResult result, String exception) {
        assertThat(result.status()).as("%s", result).isEqualTo(ExecutionStatus.ERROR);
        assertThat(result.error().name()).isEqualTo(exception);
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void readingAFileBesideTheWorkRoot(boolean sandboxed) {
        ExecutionResult result = run(attacker(sandboxed), "Files.readString(Path.of(\"" + secret + "\"))");
        if (sandboxed) {
            assertRefused(result, "java.nio.file.NoSuchFileException");
        } else {
            assertThat(value(result)).isEqualTo(SECRET);
        }
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void listingAnotherWorkersDirectory(boolean sandboxed) throws Exception {
        Path victim = (sandboxed ? open : worker).workingDirectory();
        Files.writeString(victim.resolve("mine.txt"), "private");
        ExecutionResult result = run(attacker(sandboxed),
                "Files.list(Path.of(\"" + victim + "\")).map(p -> p.getFileName().toString()).toList().toString()");
        if (sandboxed) {
            assertRefused(result, "java.nio.file.NoSuchFileException");
            // Where the jail keeps working directories, it has its own only.
            assertThat(value(run(worker, "Files.list(Path.of(\"/tether/work\")).map(p -> p.getFileName().toString())"
                    + ".toList().toString()"))).isEqualTo("[" + worker.workingDirectory().getFileName() + "]");
        } else {
            assertThat((String) value(result)).contains("mine.txt");
        }
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void seeingOtherProcesses(boolean sandboxed) {
        String others = (String) value(run(attacker(sandboxed), """
                ProcessHandle.allProcesses().mapToLong(ProcessHandle::pid)
                        .filter(pid -> pid != ProcessHandle.current().pid())
                        .mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(" "))
                """));
        List<Long> pids = Arrays.stream(others.split(" ")).map(Long::valueOf).toList();
        if (sandboxed) {
            // Its own PID namespace: bubblewrap's init (pid 1) and the JVM itself, nothing else.
            assertThat(pids).containsExactly(1L);
        } else {
            assertThat(pids).contains(ProcessHandle.current().pid(), worker.pid());
        }
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void connectingToAListenerOnTheHost(boolean sandboxed) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ExecutionResult result = run(attacker(sandboxed), """
                    var socket = new java.net.Socket();
                    socket.connect(new java.net.InetSocketAddress("127.0.0.1", %d), 2000);
                    socket.close();
                    "connected"
                    """.formatted(listener.getLocalPort()));
            if (sandboxed) {
                assertRefused(result, "java.net.ConnectException");
            } else {
                assertThat(value(result)).isEqualTo("connected");
            }
        }
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void leavingADaemonBehind(boolean sandboxed) throws Exception {
        Worker w = (sandboxed ? runtime : unconfined).start(options(1 << 20, 1 << 20, 512L << 20,
                Duration.ofSeconds(2)));
        long inside;
        try {
            inside = (Long) value(run(w, """
                    var shell = new ProcessBuilder("sh", "-c", "setsid sleep 1000 & echo $!").start();
                    Long.parseLong(new BufferedReader(new InputStreamReader(shell.getInputStream())).readLine().trim())
                    """));
        } catch (AssertionError | RuntimeException e) {
            w.close();
            throw e;
        }
        long daemon = HostPids.of(w.pid(), inside);
        assertThat(daemon).as("host pid of session pid %d", inside).isPositive();
        assertThat(HostPids.running(daemon)).isTrue();
        w.close();
        if (sandboxed) {
            assertThat(HostPids.goneWithin(daemon, Duration.ofSeconds(1))).as("daemon %d gone", daemon).isTrue();
        } else {
            boolean survived = HostPids.running(daemon);
            ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(survived).as("daemon %d outlived its worker", daemon).isTrue();
        }
    }

    @Test
    void theProcessLimitCountsEachSessionApart() {
        // The threads of one JVM count against its limit, not against another session's.
        String startThreads = """
                var threads = new ArrayList<Thread>();
                var release = new CountDownLatch(1);
                try {
                    for (int i = 0; i < %d; i++) {
                        Thread t = new Thread(() -> { try { release.await(); } catch (InterruptedException e) { } });
                        t.start();
                        threads.add(t);
                    }
                } catch (OutOfMemoryError e) {
                    // unable to create native thread: the process limit
                }
                threads.size()
                """;
        try (Worker holder = runtime.start(limited(64));
             Worker other = runtime.start(limited(64))) {
            assertThat(value(run(holder, startThreads.formatted(30)))).isEqualTo(30L);
            long started = (Long) value(run(other, startThreads.formatted(200)));
            // The JVM's own threads (about 20) and bubblewrap's init use part of the limit.
            assertThat(started).isBetween(20L, 63L);
            run(other, "release.countDown(); for (Thread t : threads) t.join();");
            assertThat(value(run(other, "1 + 1"))).isEqualTo(2L);
        }
    }

    private io.tether.runtime.WorkerOptions limited(int maxProcesses) {
        return new io.tether.runtime.WorkerOptions(new io.tether.runtime.WorkerOptions.WorkerLimits(1 << 20, 1 << 20,
                512L << 20, null, maxProcesses, 1L << 30, 0, Duration.ofSeconds(2)));
    }

    /** The variables a session's code sees, from {@code System.getenv()}. */
    private static Map<String, String> environment(Worker w) {
        String listing = (String) value(run(w, "System.getenv().entrySet().stream()"
                + ".map(e -> e.getKey() + \"=\" + e.getValue().replace('\\n', ' '))"
                + ".collect(java.util.stream.Collectors.joining(\"\\n\"))"));
        Map<String, String> env = new TreeMap<>();
        for (String line : listing.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    /** The server's own variables (its tokens, credentials) that a session must not read. */
    private static Map<String, String> operators() {
        Map<String, String> operators = new TreeMap<>(System.getenv());
        operators.keySet().removeIf(k -> Set.of("PATH", "LANG", "LANGUAGE", "TZ").contains(k) || k.startsWith("LC_"));
        operators.values().removeIf(v -> v.contains("\n"));
        assertThat(operators).as("the test's own environment has something to steal").isNotEmpty();
        return operators;
    }

    @ParameterizedTest(name = "sandbox {0}")
    @ValueSource(booleans = {true, false})
    void readingTheServersEnvironment(boolean sandboxed) {
        Map<String, String> seen = environment(attacker(sandboxed));
        // Not the jail's protection: the runtime starts every JVM with PATH, LANG and its
        // allow-list only, so the server's variables stay out with or without the sandbox.
        assertThat(operators().entrySet()).filteredOn(e -> e.getValue().equals(seen.get(e.getKey())))
                .as("the server's variables the session sees").isEmpty();
        assertThat(seen).containsEntry("LANG", "C.UTF-8").containsKey("PATH");
    }

    @Test
    void theAllowListPassesWhatItNamesAndNothingElse() {
        Map.Entry<String, String> allowed = operators().entrySet().iterator().next();
        JShellRuntime listing = JShellRuntime.builder().workRoot(workRoot).sandbox(sandbox)
                .workerEnvironment(List.of(allowed.getKey(), "TETHER_SET_HERE=42")).build();
        try (Worker w = listing.start(options(1 << 20, 1 << 20, 512L << 20, Duration.ofSeconds(2)))) {
            Map<String, String> seen = environment(w);
            // The same observation as above sees a variable once it is allowed: it can fail.
            assertThat(seen).containsEntry(allowed.getKey(), allowed.getValue()).containsEntry("TETHER_SET_HERE", "42");
            Map<String, String> others = operators();
            others.remove(allowed.getKey());
            assertThat(others.entrySet()).filteredOn(e -> e.getValue().equals(seen.get(e.getKey()))).isEmpty();
        }
    }
}
