package io.tether.runtime.sessions;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.jshell.JShellRuntime;
import io.tether.runtime.python.PythonRuntime;
import io.tether.runtime.sandbox.HostPids;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.session.WorkerLossPolicy;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.testing.HostProcesses;
import io.tether.testing.OpenDirectories;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A session's CPU time is a total over every process it started, in the sandbox (the
 * server's default): children that each stay under the limit, a background thread between
 * executions and a {@code setsid} daemon all count, and the session ends
 * {@code cpu_time_exceeded} whatever the worker-loss policy. JShell is charged from its
 * JVM's start on, not for it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CpuTimeSessionsTest {
    private static final Duration LIMIT = Duration.ofSeconds(1);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Spins until this process has used {@code s} seconds of CPU. */
    private static final String SPIN = "import time\ndef spin(s):\n    end = time.process_time() + s\n"
            + "    while time.process_time() < end:\n        pass\n";

    private Path work;
    private Sandbox sandbox;
    private SessionManager manager;
    private final List<Worker> workers = new CopyOnWriteArrayList<>();

    @BeforeAll
    void sandbox() {
        work = OpenDirectories.create("cpu-time-");
        sandbox = Sandbox.builder().workRoot(work).build();
        assertThat(sandbox.missing()).as("sandbox layers missing on this host").isEmpty();
    }

    @AfterAll
    void removeWork() {
        WorkDirectories.delete(work);
    }

    private void manager(SessionRuntime runtime) {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        WorkerLimits limits = new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), LIMIT,
                64, d.maxFileBytes(), 0, d.killGrace());
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).limitCheckInterval(Duration.ZERO)
                .workerOptions(new WorkerOptions(limits)).workerLossPolicy(WorkerLossPolicy.RESTART)
                .runtime(runtime).build().start();
    }

    private void python() {
        PythonRuntime python = PythonRuntime.builder().executable(Path.of("/usr/bin/python3")).workRoot(work)
                .sandbox(sandbox).build();
        manager(new SessionRuntime() { // the same runtime, keeping its workers for their pids
            @Override
            public String name() {
                return python.name();
            }

            @Override
            public Worker start(WorkerOptions options) {
                Worker w = python.start(options);
                workers.add(w);
                return w;
            }

            @Override
            public void close() {
                python.close();
            }
        });
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    private Session session(String runtime) {
        return manager.create(SessionSpec.builder("alice").runtime(runtime).build());
    }

    private ExecutionResult run(Session s, String code) {
        return manager.execute(s.id(), code, TIMEOUT, null);
    }

    private void assertEndedForCpu(Session s) {
        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
    }

    @Test
    void childrenThatEachStayUnderTheLimitAddUp() {
        python();
        Session s = session("python");

        ExecutionResult r = run(s, SPIN + """
                import os
                kids = []
                for _ in range(3):
                    pid = os.fork()
                    if pid == 0:
                        spin(0.5)
                        os._exit(0)
                    kids.append(pid)
                for pid in kids:
                    os.waitpid(pid, 0)
                print('three children, 0.5 s each')
                """);

        assertThat(r.stdout()).isEqualTo("three children, 0.5 s each\n");
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("CpuTimeExceeded");
        assertThat(r.error().value()).startsWith("the session's processes used 1.")
                .endsWith(" s of CPU time, its limit is 1.00 s; the worker was killed");
        assertEndedForCpu(s);
    }

    @Test
    void aBackgroundThreadBetweenExecutionsEndsTheSession() {
        python();
        Session s = session("python");
        Session other = session("python");

        ExecutionResult r = run(s, SPIN + "import threading\nthreading.Thread(target=spin, args=(30,), daemon=True)"
                + ".start()\nprint('started')");
        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);

        eventually(Duration.ofSeconds(30), "the session ended for its CPU time", () -> {
            manager.checkLimits();
            return !manager.get(s.id()).isActive();
        });
        assertEndedForCpu(s);
        assertThat(manager.get(other.id()).isActive()).isTrue();
    }

    @Test
    void aSetsidDaemonCountsAndDiesWithTheSession() throws Exception {
        python();
        Session s = session("python");
        long worker = workers.getLast().pid();
        Set<Long> before = HostProcesses.inPidNamespace(HostProcesses.pidNamespace(worker));

        ExecutionResult r = run(s, SPIN + """
                import os
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        spin(30)
                    os._exit(0)
                os.wait()
                """);
        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        Set<Long> during = HostProcesses.inPidNamespace(HostProcesses.pidNamespace(worker));
        assertThat(during).as("the daemon runs beside the session's init and interpreter").hasSize(before.size() + 1);

        eventually(Duration.ofSeconds(30), "the session ended for its CPU time", () -> {
            manager.checkLimits();
            return !manager.get(s.id()).isActive();
        });
        assertEndedForCpu(s);
        for (long pid : during) {
            assertThat(HostPids.goneWithin(pid, Duration.ofSeconds(1))).as("pid %d gone within 1 s", pid).isTrue();
        }
    }

    @Test
    void jshellIsChargedForItsCodeNotForItsJvmsStart() throws Exception {
        try (JShellRuntime jshell = JShellRuntime.builder().workRoot(work).sandbox(sandbox).build()) {
            manager(jshell);
            Session s = session("jshell");
            assertThat(run(s, "1 + 1").status()).as("a JVM's start costs more than 1 s of CPU; not charged")
                    .isEqualTo(ExecutionStatus.OK);

            ExecutionResult r = run(s, """
                    var bean = java.lang.management.ManagementFactory.getThreadMXBean();
                    long end = bean.getCurrentThreadCpuTime() + 1_500_000_000L;
                    while (bean.getCurrentThreadCpuTime() < end) { }
                    """);

            assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
            assertThat(r.error().name()).isEqualTo("CpuTimeExceeded");
            assertEndedForCpu(s);
            manager.close();
            manager = null;
        }
    }
}
