package io.tether.runtime.sessions;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.pool.WarmPool;
import io.tether.runtime.python.PythonRuntime;
import io.tether.session.ConcurrencyTest;
import io.tether.session.EndReason;
import io.tether.session.MutableClock;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.session.WorkerLossPolicy;
import io.tether.testing.HostProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Sessions with real Python workers behind a real session manager; processes checked by PID. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PythonSessionsTest {
    @TempDir
    Path work;

    private final MutableClock clock = new MutableClock();
    private SessionManager manager;

    private SessionManager manager(WorkerLossPolicy policy) {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO).workerLossPolicy(policy)
                .runtime(PythonRuntime.builder().workRoot(work).build()).build().start();
        return manager;
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    private Session python() {
        return manager.create(SessionSpec.builder("alice").runtime("python").build());
    }

    private ExecutionResult run(Session s, String code) {
        return manager.execute(s.id(), code, Duration.ofSeconds(20), null);
    }

    private long pidOf(Session s) {
        return (Long) run(s, "import os\nos.getpid()").result().get("application/json");
    }

    private static void assertGone(long pid) throws Exception {
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid %d", pid).isFalse();
    }

    /** The running processes whose working directory is {@code dir}: a session's worker. */
    private static Set<Long> runningIn(Path dir) throws Exception {
        Path real = dir.toRealPath();
        Set<Long> pids = new TreeSet<>();
        for (long pid : HostProcesses.all()) {
            try {
                if (Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).equals(real)
                        && HostProcesses.running(pid)) {
                    pids.add(pid);
                }
            } catch (IOException gone) {
                // exited meanwhile
            }
        }
        return pids;
    }

    @Test
    void aWorkerKilledBetweenExecutionsEndsItsSessionWithinASecond() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        long pid = pidOf(s);

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        eventually(Duration.ofSeconds(1), "the session ended", () -> !manager.get(s.id()).isActive());
        Session after = manager.get(s.id());
        assertThat(after.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(after.endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertGone(pid);
    }

    @Test
    void withTheRestartPolicyAWorkerKilledBetweenExecutionsIsReplacedWithinASecond() throws Exception {
        manager(WorkerLossPolicy.RESTART);
        Session s = python();
        run(s, "x = 1");
        long pid = pidOf(s);
        Path dir = manager.workingDirectory(s.id()).orElseThrow();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        eventually(Duration.ofSeconds(1), "a fresh worker in the session's directory", () -> {
            try {
                Set<Long> in = runningIn(dir);
                return !in.isEmpty() && !in.contains(pid);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        ExecutionResult r = run(s, "x");
        assertThat(r.status()).as("a fresh interpreter, not a crash found out now").isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name()).isEqualTo("NameError");
        assertThat(manager.get(s.id()).isActive()).isTrue();
        assertThat(pidOf(s)).isNotEqualTo(pid);
    }

    @Test
    void aQueuedExecutionWhoseTimeoutPassesBehindABusyLoopNeverRuns() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        run(s, "ran = []");
        CompletableFuture<ExecutionResult> loop = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "while True:\n    pass", null, null));
        eventually(Duration.ofSeconds(10), "the loop runs", () -> manager.execution(s.id(), 2).isPresent());

        long start = System.nanoTime();
        assertThatThrownBy(() -> manager.execute(s.id(), "ran.append('queued')", Duration.ofMillis(500), null))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        manager.interrupt(s.id());
        assertThat(loop.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(run(s, "ran").result()).containsEntry("application/json", List.of());
    }

    @Test
    void aSessionKeepsItsNamespaceAndEndingItKillsItsWorker() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();

        run(s, "x = 41\ndef twice(v):\n    return 2 * v");
        ExecutionResult r = run(s, "twice(x + 1) // 2");
        long pid = pidOf(s);

        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(r.result()).containsEntry("text/plain", "42").containsEntry("application/json", 42L);
        assertThat(manager.get(s.id()).interactionCount()).isEqualTo(3);
        manager.end(s.id(), EndReason.MANUAL);
        assertGone(pid);
    }

    @Test
    void sessionsAreIsolatedFromEachOther() {
        manager(WorkerLossPolicy.END_SESSION);
        Session a = python();
        Session b = python();
        run(a, "secret = 'a'");

        assertThat(run(b, "secret").error().name()).isEqualTo("NameError");
        assertThat(run(a, "import os\nos.getcwd()").result().get("application/json"))
                .isNotEqualTo(run(b, "import os\nos.getcwd()").result().get("application/json"));
    }

    @Test
    void anExpiredSessionsWorkerIsKilled() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = manager.create(SessionSpec.builder("alice").runtime("python")
                .idleTimeout(Duration.ofMinutes(1)).build());
        long pid = pidOf(s);
        clock.advance(Duration.ofMinutes(2));

        assertThat(manager.cleanupInactive()).isEqualTo(1);
        assertGone(pid);
        assertThat(manager.get(s.id()).status()).isEqualTo(SessionStatus.TIMEOUT);
    }

    @Test
    void aCrashEndsTheSessionAndLeavesNoProcess() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        long pid = pidOf(s);

        ExecutionResult r = run(s, "import os\nos._exit(3)");

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(manager.get(s.id()).status()).isEqualTo(SessionStatus.ERROR);
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertGone(pid);
    }


    @Test
    void interruptStopsASleepAndKeepsTheNamespace() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        run(s, "kept = 'yes'");
        CompletableFuture<ExecutionResult> sleeping = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "import time\nprint('zz', flush=True)\ntime.sleep(1000)", null,
                        (stream, text) -> manager.interrupt(s.id())));

        assertThat(sleeping.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(run(s, "kept").result()).containsEntry("application/json", "yes");
    }

    @Test
    void concurrentExecutionsOnOneSessionRunOneAtATime() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        run(s, "n = 0");

        ConcurrencyTest.onThreads(8, t -> {
            for (int i = 0; i < 25; i++) {
                assertThat(run(s, "n = n + 1").status()).isEqualTo(ExecutionStatus.OK);
            }
        });

        assertThat(run(s, "n").result()).containsEntry("application/json", 200L);
    }

    @Test
    void closingTheManagerKillsEveryWorker() throws Exception {
        manager(WorkerLossPolicy.END_SESSION);
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pids.add(pidOf(python()));
        }
        manager.close();
        for (long pid : pids) {
            assertGone(pid);
        }
        manager = null;
    }

    @Test
    void aWarmPoolServesSessionsAndEndingOneKillsItsPooledWorker() throws Exception {
        WarmPool pool = WarmPool.builder(PythonRuntime.builder().workRoot(work).build()).minIdle(2).build();
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO).runtime(pool).build().start();
        assertThat(pool.awaitIdle(2, Duration.ofSeconds(20))).isTrue();

        Session s = python();
        long pid = pidOf(s);

        assertThat(pool.stats().hits()).isEqualTo(1);
        manager.end(s.id(), EndReason.MANUAL);
        assertGone(pid);
        assertThat(pool.awaitIdle(2, Duration.ofSeconds(20))).isTrue();
    }

    @Test
    void codeOverTheLimitIsRefusedAndChangesNothing() {
        manager(WorkerLossPolicy.END_SESSION);
        Session s = python();
        String huge = "x = '" + "a".repeat(2 << 20) + "'";
        assertThatThrownBy(() -> run(s, huge)).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE));
        assertThat(run(s, "'x' in dir()").result()).containsEntry("application/json", false);
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }
}
