package io.tether.runtime.sessions;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.jshell.JShellRuntime;
import io.tether.runtime.python.PythonRuntime;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.session.WorkerLossPolicy;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk quota against real interpreters: code that writes past it loses its worker, its
 * execution and its session, whatever the worker-loss policy (these managers would otherwise
 * restart a crashed worker); code under it notices nothing. Processes are checked by PID.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiskQuotaSessionsTest {
    private static final long QUOTA = 5L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Appends 64 KiB at a time to 40 files under {@code loop/} until killed; says so once past 6 MiB. */
    private static final String WRITE_LOOP = """
            import os, time
            os.makedirs('loop/a/b', exist_ok=True)
            written, said = 0, False
            while True:
                with open('loop/a/b/part%d.bin' % (written // 65536 % 40), 'ab') as f:
                    f.write(b'x' * 65536)
                written += 65536
                if written > 6 << 20 and not said:
                    print('past the quota', flush=True)
                    said = True
                time.sleep(0.002)
            """;

    @TempDir
    Path work;

    private SessionManager manager;

    private SessionManager manager(long quota, Duration checkInterval, SessionRuntime runtime) {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        WorkerLimits limits = new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), d.cpuTime(),
                d.maxProcesses(), d.maxFileBytes(), quota, d.killGrace());
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).limitCheckInterval(checkInterval)
                .workerOptions(new WorkerOptions(limits)).workerLossPolicy(WorkerLossPolicy.RESTART)
                .runtime(runtime).build().start();
        return manager;
    }

    private SessionManager python(long quota, Duration checkInterval) {
        return manager(quota, checkInterval, PythonRuntime.builder().executable(Path.of("/usr/bin/python3"))
                .workRoot(work).build());
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

    private long pythonPid(Session s) {
        return (Long) run(s, "import os\nos.getpid()").result().get("application/json");
    }

    private static void assertGone(long pid) {
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid %d", pid).isFalse();
    }

    private void assertEndedOverQuota(Session s, ExecutionResult r) {
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("DiskQuotaExceeded");
        assertThat(r.error().value()).startsWith("the session's working directory holds ")
                .contains(", its quota is 5 MiB; the worker was killed");
        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
    }

    @Test
    void pythonWritingPastTheQuotaInNestedDirectoriesLosesItsWorkerAndItsSession() {
        python(QUOTA, Duration.ZERO);
        Session s = session("python");
        long pid = pythonPid(s);
        Path dir = manager.workingDirectory(s.id()).orElseThrow();

        ExecutionResult r = run(s, """
                import os
                for i in range(8):
                    d = os.path.join('out', 'level%d' % (i % 3), 'deeper')
                    os.makedirs(d, exist_ok=True)
                    with open(os.path.join(d, 'chunk%d.bin' % i), 'wb') as f:
                        f.write(b'x' * (1 << 20))
                print('wrote 8 MiB')
                """);

        assertEndedOverQuota(s, r);
        assertThat(r.error().value()).contains("holds 8.0").contains(" MiB in 8 files");
        assertThat(r.stdout()).isEqualTo("wrote 8 MiB\n");
        assertGone(pid);
        assertThat(Files.exists(dir, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void pythonUnderTheQuotaIsUntouched() {
        python(QUOTA, Duration.ZERO);
        Session s = session("python");
        long pid = pythonPid(s);

        ExecutionResult r = run(s, """
                import os
                os.makedirs('a/b', exist_ok=True)
                for name in ('a/one.bin', 'a/b/two.bin', 'three.bin'):
                    with open(name, 'wb') as f:
                        f.write(b'x' * (1 << 20))
                """);

        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.checkLimits()).isZero();
        assertThat(run(s, "os.path.getsize('a/b/two.bin')").result()).containsEntry("application/json", 1L << 20);
        assertThat(pythonPid(s)).isEqualTo(pid);
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }

    @Test
    void aFileAtTheBottomOfATreeDeeperThanPathMaxCountsAndTheTreeIsDeletedWithTheSession() {
        python(16L << 20, Duration.ZERO);
        Session s = session("python");
        Path dir = manager.workingDirectory(s.id()).orElseThrow();
        // 2,100 directories of 4 KiB each here: 8.2 MiB, under the quota without the file at the
        // bottom. All in one execution: the check after it is this directory's first measurement;
        // later ones of a tree this big are spaced out (DiskQuota.SPACED_ENTRIES).
        ExecutionResult r = run(s, """
                import os
                fd = os.open('.', os.O_RDONLY)
                for _ in range(2100):
                    os.mkdir('d', dir_fd=fd)
                    below = os.open('d', os.O_RDONLY, dir_fd=fd)
                    os.close(fd)
                    fd = below
                f = os.open('bottom.bin', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600, dir_fd=fd)
                os.write(f, b'x' * (9 << 20))
                os.close(f)
                """);

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().value()).contains(" MiB in 1 file, its quota is 16 MiB");
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(Files.exists(dir, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void theCheckWhileRunningStopsALongWriteLoop() throws Exception {
        python(QUOTA, Duration.ZERO);
        Session s = session("python");
        long pid = pythonPid(s);
        CountDownLatch past = new CountDownLatch(1);
        CompletableFuture<ExecutionResult> looping = CompletableFuture.supplyAsync(() -> manager.execute(s.id(),
                WRITE_LOOP, TIMEOUT, (stream, text) -> {
                    if (text.contains("past the quota")) {
                        past.countDown();
                    }
                }));
        assertThat(past.await(60, TimeUnit.SECONDS)).isTrue();

        assertThat(manager.checkLimits()).isEqualTo(1);
        ExecutionResult r = looping.get(30, TimeUnit.SECONDS);

        assertEndedOverQuota(s, r);
        assertThat(r.stdout()).contains("past the quota");
        assertGone(pid);
    }

    @Test
    void theBackgroundCheckFindsALongWriteLoopByItself() throws Exception {
        python(QUOTA, Duration.ofMillis(50));
        Session s = session("python");
        long pid = pythonPid(s);

        ExecutionResult r = manager.execute(s.id(), WRITE_LOOP, TIMEOUT, OutputListener.NONE);

        assertEndedOverQuota(s, r);
        assertGone(pid);
    }

    @Test
    void jshellWritingPastTheQuotaLosesItsWorkerAndItsSession() {
        manager(QUOTA, Duration.ZERO, JShellRuntime.builder().workRoot(work).build());
        Session s = session("jshell");
        long pid = Long.parseLong((String) run(s, "ProcessHandle.current().pid()").result().get("text/plain"));

        ExecutionResult r = run(s, """
                var dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of("out", "a", "b"));
                for (int i = 0; i < 6; i++) {
                    java.nio.file.Files.write(dir.resolve("f" + i + ".bin"), new byte[1 << 20]);
                }
                """);

        assertEndedOverQuota(s, r);
        assertThat(r.error().value()).contains(" MiB in 6 files");
        assertGone(pid);
    }
}
