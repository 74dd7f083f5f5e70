package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.WorkerState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes, kills, restarts, limits and clean-up: no process may outlive its worker. */
class PythonWorkerLifecycleTest extends PythonRuntimeFixture {
    final List<Worker> workers = new ArrayList<>();

    @AfterEach
    void closeAll() {
        workers.forEach(Worker::close);
    }

    Worker start(WorkerLimits limits) {
        Worker w = runtime.start(new WorkerOptions(limits));
        workers.add(w);
        return w;
    }

    Worker start() {
        return start(WorkerLimits.DEFAULTS);
    }

    static ExecutionResult run(Worker w, String code) {
        return w.execute(new ExecutionRequest(1, code, Duration.ofSeconds(20)), OutputListener.NONE);
    }

    /**
     * Waits (bounded) for the process to be gone, then asserts it is. A zombie counts as
     * gone: an orphaned worker (its fork server died) waits for init to reap it, which
     * {@link ProcessHandle#isAlive} would count as alive.
     */
    static void assertGone(long pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (isRunning(pid) && System.nanoTime() < deadline) {
            var handle = ProcessHandle.of(pid);
            if (handle.isPresent()) {
                try {
                    handle.get().onExit().get(5, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // look again
                }
            }
        }
        assertThat(isRunning(pid)).as("pid %d alive", pid).isFalse();
    }

    private static boolean isRunning(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static long childPid(Worker w, String code) {
        ExecutionResult r = run(w, code);
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
        long inside = (Long) r.result().get("application/json");
        long host = io.tether.runtime.sandbox.HostPids.of(w.pid(), inside);
        assertThat(host).as("host pid of session pid %d", inside).isPositive();
        return host;
    }

    @Test
    void osExitIsACrashThatLeavesNoProcess() throws Exception {
        assertCrashes("import os\nos._exit(3)", "status 3");
    }

    @Test
    void aSegfaultIsACrash() throws Exception {
        assertCrashes("import ctypes\nctypes.string_at(0)", "signal 11");
    }

    private void assertCrashes(String code, String reason) throws Exception {
        Worker w = start();
        long pid = w.pid();
        long child = childPid(w, "import subprocess\nsubprocess.Popen(['sleep', '1000']).pid");
        ExecutionResult r = run(w, code);
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().value()).contains(reason);
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertThat(w.pid()).isEqualTo(-1);
        assertThat(w.isHealthy()).isFalse();
        assertGone(pid);
        assertGone(child);
        assertThat(run(w, "1").status()).as("a dead worker answers at once").isEqualTo(ExecutionStatus.CRASHED);
    }

    @Test
    void aKillFromOutsideIsACrashAndExecuteReturnsPromptly() throws Exception {
        Worker w = start();
        long pid = w.pid();
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<ExecutionResult> result = CompletableFuture.supplyAsync(() -> w.execute(
                new ExecutionRequest(1, "import time\nprint('go', flush=True)\ntime.sleep(1000)", null),
                (s, t) -> running.countDown()));
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        ExecutionResult r = result.get(5, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.stdout()).isEqualTo("go\n");
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertGone(pid);
    }

    @Test
    void aWorkerKilledWhileIdleIsNoticedWithoutAnExecution() throws Exception {
        Worker w = start();
        long pid = w.pid();
        long child = childPid(w, "import subprocess\nsubprocess.Popen(['sleep', '1000']).pid");
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (w.state() != WorkerState.DEAD && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertGone(pid);
        assertGone(child);
    }

    @Test
    void anIdleWorkerKilledFromOutsideRunsItsDeathActionWithinASecondButRestartAndCloseDoNot()
            throws Exception {
        Worker w = start();
        java.util.concurrent.atomic.AtomicInteger deaths = new java.util.concurrent.atomic.AtomicInteger();
        w.onDeath(deaths::incrementAndGet);
        w.restart();
        long pid = w.pid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        io.tether.testing.Eventually.eventually(Duration.ofSeconds(1), "the death action ran", () -> deaths.get() > 0);
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertGone(pid);
        w.restart();
        assertThat(run(w, "1").status()).isEqualTo(ExecutionStatus.OK);
        w.close();
        assertThat(deaths.get()).as("one death from outside; restarts and the close are none").isEqualTo(1);
        AtomicBoolean ranAtOnce = new AtomicBoolean();
        Worker dead = start();
        ProcessHandle.of(dead.pid()).orElseThrow().destroyForcibly();
        io.tether.testing.Eventually.eventually(Duration.ofSeconds(1), "the worker is dead",
                () -> dead.state() == WorkerState.DEAD);
        dead.onDeath(() -> ranAtOnce.set(true));
        assertThat(ranAtOnce).as("set on a dead worker, the action runs at once").isTrue();
    }

    @Test
    void interruptingTheCallingThreadNeitherEndsTheExecutionNorHarmsTheWorker() throws Exception {
        Worker w = start();
        CompletableFuture<Boolean> flagKept = new CompletableFuture<>();
        CountDownLatch running = new CountDownLatch(1);
        Thread caller = new Thread(() -> {
            ExecutionResult r = w.execute(new ExecutionRequest(1, "import time\nprint('go', flush=True)\n"
                    + "time.sleep(0.3)\n'done'", null), (s, t) -> running.countDown());
            flagKept.complete(r.status() == ExecutionStatus.OK && Thread.currentThread().isInterrupted());
        });
        caller.start();
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();
        assertThat(flagKept.get(5, TimeUnit.SECONDS)).as("finished OK, the interrupt flag still set").isTrue();
        assertThat(w.state()).isEqualTo(WorkerState.IDLE);
        assertThat(run(w, "6 * 7").result()).containsEntry("application/json", 42L);
    }

    @Test
    void anInterpreterThatFailsBeforeConnectingIsRuntimeUnavailableWithWhatItWrote(@TempDir Path tmp)
            throws Exception {
        // It passes the builder's version check (python3 -E -c …), then fails as a worker.
        Path fake = java.nio.file.Files.writeString(tmp.resolve("python3"), "#!/bin/sh\n"
                + "if [ \"$2\" = -c ]; then printf 3.11; exit 0; fi\necho 'no python here' >&2\nexit 3\n");
        java.nio.file.Files.setPosixFilePermissions(fake, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        try (PythonRuntime broken = PythonRuntime.builder().executable(fake).workRoot(dir).build()) {
            assertThatThrownBy(() -> broken.start(new WorkerOptions(WorkerLimits.DEFAULTS)))
                    .isInstanceOf(TetherException.class).hasMessageContaining("no python here")
                    .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
            assertThat(broken.mode()).isEqualTo(PythonRuntime.Mode.COLD);
        }
    }

    @Test
    void aTimeoutThatIgnoresTheInterruptIsKilledAfterTheGrace() throws Exception {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        Worker w = start(new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), null, 0,
                d.maxFileBytes(), d.diskQuotaBytes(), Duration.ofMillis(300)));
        long pid = w.pid();
        long start = System.nanoTime();
        ExecutionResult r = w.execute(new ExecutionRequest(1, "while True:\n    try:\n        while True:\n"
                + "            pass\n    except KeyboardInterrupt:\n        pass", Duration.ofMillis(200)),
                OutputListener.NONE);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(r.error().value()).contains("killed");
        assertThat(elapsedMs).isBetween(500L, 3000L);
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertGone(pid);
        w.restart();
        assertThat(w.state()).isEqualTo(WorkerState.IDLE);
        assertThat(run(w, "1 + 1").result()).containsEntry("application/json", 2L);
    }

    @Test
    void restartGivesAFreshInterpreterInANewProcess() throws Exception {
        Worker w = start();
        long oldPid = w.pid();
        run(w, "x = 1");
        w.restart();
        assertThat(w.state()).isEqualTo(WorkerState.IDLE);
        assertThat(w.pid()).isPositive().isNotEqualTo(oldPid);
        assertGone(oldPid);
        assertThat(run(w, "x").error().name()).isEqualTo("NameError");
    }

    @Test
    void closeKillsTheProcessAndItsChildrenAndIsIdempotent() throws Exception {
        Worker w = start();
        long pid = w.pid();
        long child = childPid(w, "import subprocess\nsubprocess.Popen(['sleep', '1000']).pid");
        long grandchild = childPid(w, "import subprocess\nint(subprocess.run(['sh', '-c', 'sleep 1000 >/dev/null 2>&1 & echo $!'],"
                + " capture_output=True, text=True).stdout)");
        w.close();
        w.close();
        assertThat(w.state()).isEqualTo(WorkerState.DEAD);
        assertThat(w.pid()).isEqualTo(-1);
        assertGone(pid);
        assertGone(child);
        assertGone(grandchild);
        assertThatThrownBy(() -> run(w, "1")).isInstanceOf(TetherException.class)
                .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.SESSION_ENDED);
        assertThatThrownBy(w::restart).isInstanceOf(TetherException.class);
    }

    @Test
    void theMemoryLimitGivesAMemoryErrorNotACrash() {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        Worker w = start(new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), 512L << 20, null, 0,
                d.maxFileBytes(), d.diskQuotaBytes(), d.killGrace()));
        ExecutionResult r = run(w, "big = bytearray(1 << 30)");
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name()).isEqualTo("MemoryError");
        assertThat(run(w, "len(bytearray(1 << 20))").result()).containsEntry("application/json", 1L << 20);
        assertThat(run(w, "import resource\nresource.getrlimit(resource.RLIMIT_AS)[0]").result())
                .containsEntry("application/json", 512L << 20);
    }

    @Test
    void cpuProcessAndFileLimitsAreApplied() {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        Worker w = start(new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), 0, Duration.ofMillis(1500), 50,
                4096, d.diskQuotaBytes(), d.killGrace()));
        assertThat(run(w, "import resource as r\n[r.getrlimit(x)[0] for x in (r.RLIMIT_AS, r.RLIMIT_CPU,"
                + " r.RLIMIT_NPROC, r.RLIMIT_FSIZE)]").result())
                .containsEntry("application/json", List.of(-1L, 3L, 50L, 4096L));
        ExecutionResult r = run(w, "open('big.bin', 'wb').write(b'x' * 10000)");
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().value()).contains("File too large");
    }

    @Test
    void twentyWorkersStartedAndClosedLeaveNoProcess() throws Exception {
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Worker w = start();
            pids.add(w.pid());
        }
        assertThat(pids).doesNotHaveDuplicates();
        workers.forEach(Worker::close);
        for (long pid : pids) {
            assertGone(pid);
        }
        assertThat(ProcessHandle.current().children().filter(p -> pids.contains(p.pid()))).isEmpty();
    }

    @Test
    void aStartFailureIsRuntimeUnavailable() throws Exception {
        Path notADirectory = dir.resolve("file");
        java.nio.file.Files.writeString(notADirectory, "x");
        try (PythonRuntime nowhere = PythonRuntime.builder().workRoot(notADirectory).build()) {
            assertThatThrownBy(() -> nowhere.start(new WorkerOptions(WorkerLimits.DEFAULTS)))
                    .isInstanceOf(TetherException.class).hasMessageContaining("working directory")
                    .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
        }
        WorkerLimits d = WorkerLimits.DEFAULTS;
        // Too little address space for the interpreter to work: refused at start, clearly.
        WorkerLimits tiny = new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), 1 << 20, null, 0,
                d.maxFileBytes(), d.diskQuotaBytes(), d.killGrace());
        assertThatThrownBy(() -> start(tiny)).isInstanceOf(TetherException.class)
                .hasMessageContaining("memory limit")
                .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
    }

    @Test
    void theBuilderValidatesTheInterpreter(@TempDir Path tmp) throws Exception {
        Path notExecutable = java.nio.file.Files.writeString(tmp.resolve("python3"), "");
        java.nio.file.Files.setPosixFilePermissions(notExecutable,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> PythonRuntime.builder().executable(Path.of("python3")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PythonRuntime.builder().executable(Path.of("/no/such/python")).build())
                .isInstanceOf(TetherException.class)
                .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
        assertThatThrownBy(() -> PythonRuntime.builder().executable(notExecutable).build())
                .isInstanceOf(TetherException.class);
        assertThatThrownBy(() -> PythonRuntime.builder().executable(tmp).build())
                .isInstanceOf(TetherException.class);
        assertThatThrownBy(() -> PythonRuntime.builder().startTimeout(Duration.ofSeconds(1))
                .startTimeout(Duration.ofSeconds(2))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> PythonRuntime.builder().pythonPath(List.of(Path.of("rel"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(runtime.name()).isEqualTo("python");
    }

    @Test
    void extraPythonPathEntriesComeAfterTheWorkingDirectory(@TempDir Path lib) throws Exception {
        java.nio.file.Files.writeString(lib.resolve("extra_mod.py"), "NAME = 'extra'\n");
        try (PythonRuntime custom = PythonRuntime.builder().pythonPath(List.of(lib)).workRoot(dir).build();
             Worker w = custom.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            assertThat(run(w, "import sys, extra_mod\n[extra_mod.NAME, sys.path[:2]]").result())
                    .containsEntry("application/json", List.of("extra", List.of("", lib.toString())));
        }
    }

    @Test
    void aClosedRuntimeStartsNoWorkers() {
        PythonRuntime r = PythonRuntime.builder().workRoot(dir).build();
        r.close();
        r.close();
        assertThatThrownBy(() -> r.start(new WorkerOptions(WorkerLimits.DEFAULTS)))
                .isInstanceOf(TetherException.class);
    }
}
