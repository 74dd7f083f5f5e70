package io.tether.runtime.python;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.tether.runtime.LinuxProcesses;

/**
 * The operating-system process behind a {@link PythonProcess}: either a child of the JVM
 * (a cold start) or a child of the {@link ForkServer}, which the JVM cannot wait for
 * itself and learns the exit of from the server.
 */
sealed interface OsProcess {

    long pid();

    /** When it started, for {@link ProcessGroup#kill}; {@link Instant#EPOCH} when unknown. */
    Instant startedAt();

    /** Its descendants now; empty when it is gone. */
    List<ProcessHandle> descendants();

    /** SIGKILL, unless it is known to have exited (so a recycled pid is never hit). */
    void destroyForcibly();

    /**
     * Waits at most {@code timeout} for it to exit.
     *
     * @return how it ended, e.g. "the Python process exited with status 3", or null when it
     *     still runs
     */
    String awaitExit(Duration timeout) throws InterruptedException;

    /**
     * Runs {@code action} once, on some other thread, after the process exited; how a worker
     * that dies between executions is noticed, since nothing reads its channel then.
     */
    void whenExited(Runnable action);

    /**
     * How a worker ended, from its exit code as the fork server reports it: negative for a
     * signal; in a sandbox, the session's init reports a signal as 128 + its number.
     */
    static String describe(int code) {
        if (code > 128 && code <= 128 + 64) {
            code = 128 - code;
        }
        return code < 0 ? "the Python process died with signal " + -code
                : "the Python process exited with status " + code;
    }

    /** A worker the JVM started itself. */
    record Child(Process process) implements OsProcess {
        @Override
        public long pid() {
            return process.pid();
        }

        @Override
        public Instant startedAt() {
            return process.info().startInstant().orElse(Instant.EPOCH);
        }

        @Override
        public List<ProcessHandle> descendants() {
            try {
                return process.descendants().toList();
            } catch (RuntimeException e) {
                return List.of(); // gone: the group sweep finds what is left
            }
        }

        @Override
        public void destroyForcibly() {
            process.destroyForcibly();
        }

        @Override
        public String awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return null;
            }
            int status = process.exitValue();
            return status > 128
                    ? "the Python process died with status " + status + " (signal " + (status - 128) + ")"
                    : describe(status);
        }

        @Override
        public void whenExited(Runnable action) {
            process.onExit().thenRunAsync(action);
        }
    }

    /**
     * A worker forked by the fork server. Its exit code comes from the server, which reaps
     * it; if the server is gone the orphan is reaped by init and only its end is known.
     */
    record Forked(long pid, Instant startedAt, CompletableFuture<Integer> exit,
                  CompletableFuture<Void> serverGone) implements OsProcess {
        private static final long ORPHAN_CHECK_MILLIS = 500;

        static Forked of(long pid, CompletableFuture<Integer> exit, CompletableFuture<Void> serverGone) {
            Instant started = ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).orElse(Instant.EPOCH);
            return new Forked(pid, started, exit, serverGone);
        }

        @Override
        public List<ProcessHandle> descendants() {
            if (exit.isDone()) {
                return List.of();
            }
            return ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of());
        }

        @Override
        public void destroyForcibly() {
            if (!exit.isDone()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }

        @Override
        public String awaitExit(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            try {
                CompletableFuture.anyOf(exit, serverGone).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return null;
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
            if (exit.isDone()) {
                return describe(exit.join());
            }
            // The server died first: nobody reports this exit any more and the JVM cannot wait
            // for a process that is not its child (ProcessHandle.onExit polls from 300 ms up,
            // and counts a zombie as alive until init reaps it): watch /proc instead.
            long pause = 1;
            while (!hasEnded()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                TimeUnit.MILLISECONDS.sleep(Math.min(pause, TimeUnit.NANOSECONDS.toMillis(left) + 1));
                pause = Math.min(pause * 2, 50);
            }
            return "the Python process ended";
        }

        @Override
        public void whenExited(Runnable action) {
            CompletableFuture.anyOf(exit, serverGone).thenRunAsync(() -> {
                if (exit.isDone()) {
                    action.run();
                    return;
                }
                // An orphan now: nobody reports its exit. Rare (the fork server died), so a
                // thread that looks in /proc now and then is good enough.
                Thread.ofPlatform().daemon().name("tether-python-orphan-" + pid).stackSize(128 * 1024).start(() -> {
                    try {
                        while (!hasEnded()) {
                            TimeUnit.MILLISECONDS.sleep(ORPHAN_CHECK_MILLIS);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return; // nothing interrupts this thread but JVM shutdown
                    }
                    action.run();
                });
            });
        }

        /** Gone, a zombie, or its pid now names another process. */
        private boolean hasEnded() {
            var handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().info().startInstant().map(startedAt::equals).orElse(true)) {
                return true;
            }
            return LinuxProcesses.hasExited(pid);
        }
    }
}
