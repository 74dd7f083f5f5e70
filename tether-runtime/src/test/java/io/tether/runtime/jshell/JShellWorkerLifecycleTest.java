package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import io.tether.runtime.sandbox.HostPids;

/** Starting, dying, restarting and closing workers: every test has workers of its own. */
class JShellWorkerLifecycleTest extends JShellRuntimeFixture {
    private Worker start(Duration killGrace) {
        return runtime.start(options(1 << 20, 1 << 20, 256L << 20, killGrace));
    }

    private Worker start() {
        return start(Duration.ofSeconds(2));
    }

    private static ExecutionResult run(Worker worker, String code) {
        return worker.execute(new ExecutionRequest(1, code, Duration.ofSeconds(30)), OutputListener.NONE);
    }

    private static void assertGone(long pid) throws InterruptedException {
        assertThat(HostPids.goneWithin(pid, Duration.ofSeconds(5))).as("pid %d gone", pid).isTrue();
    }

    @Test
    void systemExitIsACrashAndLeavesNoProcess() throws Exception {
        try (Worker worker = start()) {
            long pid = worker.pid();
            ExecutionResult result = run(worker, "System.out.println(\"bye\"); System.exit(3);");
            assertThat(result.status()).isEqualTo(ExecutionStatus.CRASHED);
            assertThat(result.error().value()).contains("code 3");
            assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
            assertThat(worker.isHealthy()).isFalse();
            assertGone(pid);
            assertThat(run(worker, "1").status()).isEqualTo(ExecutionStatus.CRASHED);
        }
    }

    @Test
    void processKilledFromOutsideIsACrash() throws Exception {
        try (Worker worker = start()) {
            long pid = worker.pid();
            CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                    () -> run(worker, "Thread.sleep(60_000)"));
            while (worker.state() != WorkerState.BUSY) {
                Thread.onSpinWait();
            }
            new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
            assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.CRASHED);
            assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
            assertGone(pid);
        }
    }

    @Test
    void idleWorkerKilledFromOutsideIsDead() throws Exception {
        try (Worker worker = start()) {
            long pid = worker.pid();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            assertGone(pid);
            assertThat(worker.isHealthy()).isFalse();
            assertThat(run(worker, "1").status()).isEqualTo(ExecutionStatus.CRASHED);
            assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
        }
    }

    @Test
    void anIdleWorkerKilledFromOutsideRunsItsDeathActionWithinASecondButRestartAndCloseDoNot()
            throws Exception {
        try (Worker worker = start()) {
            java.util.concurrent.atomic.AtomicInteger deaths = new java.util.concurrent.atomic.AtomicInteger();
            worker.onDeath(deaths::incrementAndGet);
            worker.restart();
            long pid = worker.pid();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            io.tether.testing.Eventually.eventually(Duration.ofSeconds(1), "the death action ran",
                    () -> deaths.get() > 0);
            assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
            worker.restart();
            assertThat(run(worker, "1").status()).isEqualTo(ExecutionStatus.OK);
            worker.close();
            assertThat(deaths.get()).as("one death from outside; restarts and the close are none").isEqualTo(1);
        }
    }

    @Test
    void codeThatIgnoresTheStopIsKilledAfterTheGrace() throws Exception {
        try (Worker worker = start(Duration.ofMillis(500))) {
            long pid = worker.pid();
            // Waits forever inside the JDK, deaf to interrupts and past JShell's stop checks. The
            // timeout leaves javac time to compile the snippet even on a loaded machine: a stop
            // that arrives while it compiles is obeyed (status interrupted), which is not this test.
            ExecutionResult result = worker.execute(new ExecutionRequest(1,
                    "new java.util.concurrent.Semaphore(0).acquireUninterruptibly();", Duration.ofSeconds(2)),
                    OutputListener.NONE);
            assertThat(result.status()).isEqualTo(ExecutionStatus.TIMEOUT);
            assertThat(result.error().value()).contains("killed");
            assertThat(result.duration()).isLessThan(Duration.ofSeconds(6));
            assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
            assertGone(pid);
        }
    }

    @Test
    void restartGivesAFreshInterpreterInANewProcess() throws Exception {
        try (Worker worker = start()) {
            long oldPid = worker.pid();
            run(worker, "int remembered = 5;");
            worker.restart();
            assertThat(worker.pid()).isNotEqualTo(oldPid);
            assertGone(oldPid);
            assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
            ExecutionResult result = run(worker, "remembered");
            assertThat(result.status()).isEqualTo(ExecutionStatus.ERROR);
            assertThat(result.error().name()).isEqualTo("CompilationError");
            assertThat(run(worker, "1 + 1").result()).containsEntry("text/plain", "2");
        }
    }

    @Test
    void restartRevivesADeadWorker() {
        try (Worker worker = start()) {
            run(worker, "System.exit(1)");
            worker.restart();
            assertThat(run(worker, "\"alive\"").result()).containsEntry("application/json", "alive");
        }
    }

    @Test
    void closeKillsTheProcessAndIsIdempotent() throws Exception {
        Worker worker = start();
        long pid = worker.pid();
        worker.close();
        worker.close();
        assertGone(pid);
        assertThat(worker.state()).isEqualTo(WorkerState.DEAD);
        assertThat(worker.pid()).isEqualTo(-1);
        assertThatThrownBy(() -> run(worker, "1")).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED));
    }

    @Test
    void closeLeavesNoProcessOfTheWorker() throws Exception {
        Worker worker = start();
        assertThat(run(worker, "new ProcessBuilder(\"sleep\", \"1000\").start().pid()").status())
                .isEqualTo(ExecutionStatus.OK);
        // The worker and all it runs: in a jail bubblewrap's monitor, the namespace's init, the JVM
        // and the sleep; else the JVM and the sleep. (A daemon: SandboxedJShellWorkerTest.)
        List<Long> pids = new ArrayList<>(List.of(worker.pid()));
        ProcessHandle.of(worker.pid()).orElseThrow().descendants().forEach(p -> pids.add(p.pid()));
        assertThat(pids).hasSize(sandboxed() ? 4 : 2);
        worker.close();
        for (long pid : pids) {
            assertThat(HostPids.running(pid)).as("pid %d after close", pid).isFalse();
        }
    }

    @Test
    void closeEndsARunningExecution() throws Exception {
        Worker worker = start();
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(() -> run(worker, "while (true) { }"));
        while (worker.state() != WorkerState.BUSY) {
            Thread.onSpinWait();
        }
        worker.close();
        assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.CRASHED);
    }

    @Test
    void workersAreIsolated() throws Exception {
        try (Worker first = start();
             Worker second = runtime.start(options(1 << 20, 1 << 20, 2L << 30, Duration.ofSeconds(2)))) {
            assertThat(first.pid()).isNotEqualTo(second.pid());
            assertThat(first.workingDirectory()).isNotEqualTo(second.workingDirectory());
            run(first, "int mine = 1; static int shared = 1;");
            assertThat(run(second, "mine").status()).isEqualTo(ExecutionStatus.ERROR);
            run(second, "System.setProperty(\"tether.test\", \"second\")");
            assertThat(run(first, "System.getProperty(\"tether.test\")").result())
                    .containsEntry("text/plain", "null");
            run(second, "System.exit(0)");
            assertThat(run(first, "mine").result()).containsEntry("text/plain", "1");
        }
    }

    @Test
    void aJvmThatCannotStartIsRuntimeUnavailable() {
        JShellRuntime broken = JShellRuntime.builder().jvmOptions(java.util.List.of("-XX:+NoSuchOption"))
                .workRoot(workRoot).sandbox(sandbox).build();
        assertThatThrownBy(() -> broken.start(new WorkerOptions(WorkerOptions.WorkerLimits.DEFAULTS)))
                .isInstanceOfSatisfying(TetherException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
                    assertThat(e.getMessage()).contains("NoSuchOption");
                });
    }
}
