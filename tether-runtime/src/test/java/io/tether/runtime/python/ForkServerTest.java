package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fork server itself: who is whose parent, what survives whom, and that nothing lingers. */
class ForkServerTest {
    @TempDir
    Path dir;
    PythonRuntime runtime;
    final List<Worker> workers = new ArrayList<>();

    @BeforeEach
    void runtime() {
        runtime = PythonRuntime.builder().workRoot(dir).forkServer(true).build();
    }

    @AfterEach
    void close() {
        workers.forEach(Worker::close);
        runtime.close();
    }

    Worker start() {
        Worker w = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
        workers.add(w);
        return w;
    }

    static ExecutionResult run(Worker w, String code) {
        return w.execute(new ExecutionRequest(1, code, Duration.ofSeconds(20)), OutputListener.NONE);
    }

    /** Fields of /proc/pid/stat after the command name: [0] state, [1] ppid, [2] pgrp. */
    static String[] stat(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        return s.substring(s.lastIndexOf(')') + 2).split(" ");
    }

    static long parentOf(long pid) throws IOException {
        return Long.parseLong(stat(pid)[1]);
    }

    static List<Long> zombieChildrenOf(long parent) throws IOException {
        List<Long> zombies = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path d : dirs) {
                try {
                    String[] f = stat(Long.parseLong(d.getFileName().toString()));
                    if (f[0].equals("Z") && Long.parseLong(f[1]) == parent) {
                        zombies.add(Long.parseLong(d.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // exited while we looked
                }
            }
        }
        return zombies;
    }

    @Test
    void forkedWorkersAreChildrenOfTheForkServerInTheirOwnProcessGroups() throws Exception {
        Worker a = start();
        Worker b = start();
        long server = runtime.forkServerPid();
        assertThat(server).isPositive();
        assertThat(runtime.mode()).isEqualTo(PythonRuntime.Mode.FORK_SERVER);
        for (Worker w : List.of(a, b)) {
            assertThat(parentOf(w.pid())).isEqualTo(server);
            assertThat(Long.parseLong(stat(w.pid())[2])).as("leads its own group").isEqualTo(w.pid());
            assertThat(run(w, "import os\n[os.getpid(), os.getppid(), os.getcwd()]").result().get("application/json"))
                    .isEqualTo(List.of(w.pid(), server, w.workingDirectory().toString()));
        }
        assertThat(ProcessHandle.current().children().map(ProcessHandle::pid)).contains(server)
                .doesNotContain(a.pid(), b.pid());
    }

    @Test
    void killingTheForkServerLeavesLiveWorkersAndANewServerTakesOver() throws Exception {
        Worker before = start();
        run(before, "x = 42");
        long server = runtime.forkServerPid();
        ProcessHandle.of(server).orElseThrow().destroyForcibly();
        ProcessHandle.of(server).ifPresent(h -> h.onExit().join());

        assertThat(run(before, "x").result()).containsEntry("application/json", 42L);
        Worker during = start(); // cold, or forked by a new server: either way it works
        assertThat(run(during, "1 + 1").result()).containsEntry("application/json", 2L);
        Worker after = start();
        long newServer = runtime.forkServerPid();
        assertThat(newServer).isPositive().isNotEqualTo(server);
        assertThat(parentOf(after.pid())).isEqualTo(newServer);
        assertThat(runtime.mode()).isEqualTo(PythonRuntime.Mode.FORK_SERVER);

        long orphan = before.pid();
        before.close();
        PythonWorkerLifecycleTest.assertGone(orphan);
    }

    /** Kills the runtime's fork server and makes the next start notice it (that start is cold). */
    private void killTheForkServer() {
        Worker forked = start();
        long server = runtime.forkServerPid();
        assertThat(server).isPositive();
        ProcessHandle.of(server).ifPresent(ProcessHandle::destroyForcibly);
        io.tether.testing.Eventually.eventually(Duration.ofSeconds(10), "the fork server seen dead",
                () -> runtime.forkServerPid() == -1);
        start().close(); // finds the server dead: counts the death, starts cold
        forked.close();
    }

    @Test
    void aForkServerThatDiesNowAndThenIsStartedAgainOneThatKeepsDyingIsGivenUp() {
        long[] now = {0};
        runtime.nanoClock(() -> now[0]);
        for (int i = 0; i <= PythonRuntime.MAX_FORK_SERVER_RESTARTS + 1; i++) {
            killTheForkServer();
            now[0] += PythonRuntime.FORK_SERVER_FAILURE_WINDOW.plusSeconds(1).toNanos();
        }
        assertThat(runtime.mode()).as("deaths spread over time").isEqualTo(PythonRuntime.Mode.FORK_SERVER);

        for (int i = 0; i <= PythonRuntime.MAX_FORK_SERVER_RESTARTS; i++) {
            killTheForkServer();
        }
        assertThat(runtime.mode()).as("%d deaths within the window", PythonRuntime.MAX_FORK_SERVER_RESTARTS + 1)
                .isEqualTo(PythonRuntime.Mode.COLD);
        try (Worker cold = start()) {
            assertThat(run(cold, "6 * 7").result()).containsEntry("application/json", 42L);
            assertThat(runtime.forkServerPid()).isEqualTo(-1);
        }
    }

    @Test
    void closingTheRuntimeStopsTheForkServerButNotItsWorkers() throws Exception {
        Worker w = start();
        long server = runtime.forkServerPid();
        runtime.close();
        PythonWorkerLifecycleTest.assertGone(server);
        assertThat(runtime.forkServerPid()).isEqualTo(-1);
        assertThat(run(w, "6 * 7").result()).containsEntry("application/json", 42L);
        long pid = w.pid();
        w.restart(); // a closed runtime has no server: the restart is cold
        assertThat(parentOf(w.pid())).isEqualTo(ProcessHandle.current().pid());
        PythonWorkerLifecycleTest.assertGone(pid);
    }

    @Test
    void closingTheRuntimeJustAfterAStartLeavesThatWorkerAlive() throws Exception {
        // The server exits between the worker's "taken" and "hello" notes: the worker must not care.
        for (int i = 0; i < 10; i++) {
            try (PythonRuntime r = PythonRuntime.builder().workRoot(dir).forkServer(true).build()) {
                Worker w = r.start(new WorkerOptions(WorkerLimits.DEFAULTS));
                workers.add(w);
                r.close();
                assertThat(run(w, "6 * 7").result()).as("attempt %d", i).containsEntry("application/json", 42L);
                w.close();
            }
        }
    }

    @Test
    void closingAWorkerDoesNotWaitForItsExitReport() throws Exception {
        // The server reports an exit when SIGCHLD wakes it; one that came just before its
        // poll() once went unnoticed until something else woke it: 5 s closes, ~1 in 30
        // with a warm pool refilling in the background while workers close.
        try (io.tether.runtime.pool.WarmPool pool = io.tether.runtime.pool.WarmPool.builder(runtime).minIdle(2).build()) {
            long slowest = 0;
            for (int i = 0; i < 100; i++) {
                assertThat(pool.awaitIdle(2, Duration.ofSeconds(10))).isTrue();
                Worker w = pool.start(new WorkerOptions(WorkerLimits.DEFAULTS));
                long start = System.nanoTime();
                w.close();
                slowest = Math.max(slowest, System.nanoTime() - start);
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(slowest)).isLessThan(3_000);
        }
    }

    @Test
    void workersThatExitCrashOrAreClosedLeaveNoZombies() throws Exception {
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pids.add(start().pid());
        }
        long server = runtime.forkServerPid();
        assertThat(run(workers.get(0), "import os\nos._exit(3)").error().value()).contains("status 3");
        assertThat(run(workers.get(1), "import ctypes\nctypes.string_at(0)").error().value()).contains("signal 11");
        ProcessHandle.of(workers.get(2).pid()).orElseThrow().destroyForcibly();
        assertThat(run(workers.get(2), "1").status()).isEqualTo(ExecutionStatus.CRASHED);
        workers.get(3).restart();
        workers.forEach(Worker::close);
        for (long pid : pids) {
            PythonWorkerLifecycleTest.assertGone(pid);
        }
        // A crashed or closed worker is reported only after the server reaped it.
        assertThat(zombieChildrenOf(server)).isEmpty();
        assertThat(ProcessHandle.of(server).map(ProcessHandle::isAlive)).contains(true);
    }

    /** The server's children that are not one of {@code workers}: its spare, once it has forked one. */
    static List<Long> sparesOf(long server, List<Worker> workers) throws Exception {
        List<Long> taken = workers.stream().map(Worker::pid).toList();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<Long> spares;
        do {
            spares = ProcessHandle.of(server).orElseThrow().children().map(ProcessHandle::pid)
                    .filter(pid -> !taken.contains(pid)).toList();
        } while (spares.isEmpty() && System.nanoTime() < deadline && sleep(5));
        return spares;
    }

    static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    @Test
    void theServerKeepsOneSpareChildReadyThatGoesWithIt() throws Exception {
        Worker w = start();
        long server = runtime.forkServerPid();
        List<Long> spares = sparesOf(server, workers);
        assertThat(spares).hasSize(1);
        long spare = spares.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Long.parseLong(stat(spare)[2]) != spare && System.nanoTime() < deadline) {
            Thread.sleep(5); // just forked: not yet through its set-up
        }
        assertThat(Long.parseLong(stat(spare)[2])).as("leads its own group").isEqualTo(spare);
        Worker next = start();
        assertThat(next.pid()).as("the spare became the next worker").isEqualTo(spare);
        List<Long> again = sparesOf(server, workers);
        assertThat(again).as("a new spare").hasSize(1).doesNotContain(spare);
        runtime.close();
        PythonWorkerLifecycleTest.assertGone(server);
        PythonWorkerLifecycleTest.assertGone(again.get(0));
        assertThat(run(w, "1 + 1").result()).containsEntry("application/json", 2L);
        assertThat(run(next, "2 + 2").result()).containsEntry("application/json", 4L);
    }

    @Test
    void aStartWhoseSpareConnectedAheadDiedGetsAnotherSpare() throws Exception {
        Worker first = start();
        long server = runtime.forkServerPid();
        long reserved = reservedSpareOf(server, first.pid());
        ProcessHandle.of(reserved).orElseThrow().destroyForcibly();
        PythonWorkerLifecycleTest.assertGone(reserved);
        Worker next = start();
        assertThat(parentOf(next.pid())).as("forked, not a cold start after giving the server up").isEqualTo(server);
        assertThat(runtime.forkServerPid()).isEqualTo(server);
        assertThat(run(next, "6 * 7").result()).containsEntry("application/json", 42L);
    }

    /** The spare that accepted the runtime's connection made ahead: it ignores SIGIO already. */
    static long reservedSpareOf(long server, long worker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            for (long pid : ProcessHandle.of(server).orElseThrow().children().map(ProcessHandle::pid).toList()) {
                if (pid != worker && ignoresSigio(pid)) {
                    return pid;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no spare accepted a connection made ahead");
    }

    static boolean ignoresSigio(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseLong(line.substring(7).trim(), 16) & (1L << 28)) != 0; // SIGIO is 29
                }
            }
        } catch (IOException e) {
            // exited meanwhile
        }
        return false;
    }

    @Test
    void aSpareExitsWhenTheServerIsKilled() throws Exception {
        start();
        long server = runtime.forkServerPid();
        List<Long> spares = sparesOf(server, workers);
        assertThat(spares).hasSize(1);
        ProcessHandle.of(server).orElseThrow().destroyForcibly();
        PythonWorkerLifecycleTest.assertGone(spares.get(0));
    }

    @Test
    void concurrentStartsEachGetTheirOwnWorker() throws Exception {
        List<java.util.concurrent.CompletableFuture<Worker>> starts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            starts.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS)),
                    java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
        }
        for (var f : starts) {
            workers.add(f.get(30, TimeUnit.SECONDS));
        }
        long server = runtime.forkServerPid();
        assertThat(workers.stream().map(Worker::pid).distinct()).hasSize(8);
        for (Worker w : workers) {
            assertThat(parentOf(w.pid())).isEqualTo(server);
            assertThat(run(w, "import os\nos.getpid()").result()).containsEntry("application/json", w.pid());
        }
    }

    @Test
    void aClientThatConnectsAndSaysNothingHoldsUpNoOne() throws Exception {
        Interpreter interpreter = new Interpreter(PythonRuntime.DEFAULT_EXECUTABLE, List.of(), Duration.ofSeconds(10), java.util.Map.of());
        try (ForkServer server = ForkServer.start(interpreter, WorkerScript.path());
             SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()));
             SocketChannel aheadOnly = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()))) {
            aheadOnly.write(ByteBuffer.wrap(new byte[4])); // connected ahead, never asks
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                PythonProcess p = server.fork(new WorkerOptions(WorkerLimits.DEFAULTS), dir, x -> { }, prepared -> { });
                try {
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
                    assertThat(parentOf(p.pid())).isEqualTo(server.pid());
                } finally {
                    p.kill("test over");
                }
            }
        }
    }

    @Test
    void aForkedChildExitsWhenItsConnectionEnds() throws Exception {
        Interpreter interpreter = new Interpreter(PythonRuntime.DEFAULT_EXECUTABLE, List.of(), Duration.ofSeconds(10), java.util.Map.of());
        try (ForkServer server = ForkServer.start(interpreter, WorkerScript.path())) {
            Path socket = server.socketPath();
            long pid;
            try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                ch.write(ByteBuffer.wrap(interpreter.forkRequest(dir, WorkerLimits.DEFAULTS)));
                ByteBuffer b = ByteBuffer.allocate(8);
                while (b.position() < 8) { // the pid, then the start of the hello frame
                    assertThat(ch.read(b)).isNotNegative();
                }
                pid = b.flip().getInt();
                assertThat(parentOf(pid)).isEqualTo(server.pid());
            }
            ProcessHandle h = ProcessHandle.of(pid).orElse(null);
            assertThat(h == null || !h.isAlive() || h.onExit().get(5, TimeUnit.SECONDS) != null).isTrue();
            PythonWorkerLifecycleTest.assertGone(pid);
        }
    }
}
