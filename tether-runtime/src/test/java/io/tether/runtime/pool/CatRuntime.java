package io.tether.runtime.pool;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A runtime whose workers are real {@code /bin/cat} processes: execute echoes the code
 * back through the process. Hooks make starts block or fail on demand, and it counts how
 * many workers exist at once (starting or alive), so the pool's bound can be checked where
 * it matters: at the processes.
 */
final class CatRuntime implements SessionRuntime {
    final AtomicInteger starts = new AtomicInteger();
    final AtomicInteger failedStarts = new AtomicInteger();
    final AtomicInteger live = new AtomicInteger();
    final AtomicInteger maxLive = new AtomicInteger();
    final List<CatWorker> workers = new CopyOnWriteArrayList<>();
    final AtomicBoolean closed = new AtomicBoolean();
    volatile boolean failing;
    volatile CountDownLatch firstFailure = new CountDownLatch(1);
    private volatile Predicate<WorkerOptions> gated = o -> false;
    private volatile CountDownLatch gate = new CountDownLatch(0);
    final AtomicInteger blockedAtGate = new AtomicInteger();

    @Override
    public String name() {
        return "cat";
    }

    /** Whether this start is the pool's own refill (not a caller's direct start). */
    static boolean onRefillThread(WorkerOptions options) {
        return Thread.currentThread().getName().startsWith("tether-pool-");
    }

    /** Starts matching {@code which} block until {@link #openGate()}. */
    void closeGate(Predicate<WorkerOptions> which) {
        gate = new CountDownLatch(1);
        gated = which;
    }

    void openGate() {
        gate.countDown();
    }

    @Override
    public Worker start(WorkerOptions options) {
        starts.incrementAndGet();
        int now = live.incrementAndGet();
        maxLive.accumulateAndGet(now, Math::max);
        try {
            if (gated.test(options)) {
                blockedAtGate.incrementAndGet();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted at the gate", e);
                }
            }
            if (failing) {
                failedStarts.incrementAndGet();
                firstFailure.countDown();
                throw new IllegalStateException("cat refuses to start");
            }
            CatWorker w = new CatWorker();
            workers.add(w);
            return w;
        } catch (RuntimeException e) {
            live.decrementAndGet();
            throw e;
        }
    }

    CatWorker byPid(long pid) {
        return workers.stream().filter(w -> w.pid() == pid).findFirst().orElseThrow();
    }

    void killAll() {
        workers.forEach(CatWorker::close);
    }

    @Override
    public void close() {
        closed.set(true);
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    final class CatWorker implements Worker {
        private final Path directory;
        private volatile Process process;
        private BufferedReader out;
        private OutputStream in;
        volatile boolean sick;
        private volatile Runnable deathAction = () -> { };
        private volatile Process retired; // the process restart() ends on purpose
        private final AtomicBoolean closed = new AtomicBoolean();

        CatWorker() {
            try {
                this.directory = Files.createTempDirectory("cat-worker");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            launch();
        }

        @Override
        public Path workingDirectory() {
            return directory;
        }

        /** Waits until this worker's own {@link Process} knows it has exited (not only the OS). */
        void awaitExit() throws Exception {
            process.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }

        private void launch() {
            try {
                process = new ProcessBuilder("/bin/cat").directory(directory.toFile())
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot start cat: " + e, e);
            }
            Process started = process;
            started.onExit().thenRun(() -> {
                if (started != retired && !closed.get()) {
                    deathAction.run();
                }
            });
            in = process.getOutputStream();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        @Override
        public synchronized ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
            try {
                in.write((request.code() + "\n").getBytes(StandardCharsets.UTF_8));
                in.flush();
                String line = out.readLine();
                return new ExecutionResult(request.number(), ExecutionStatus.OK, line, "", null, null, Duration.ZERO,
                        false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void interrupt() {
        }

        @Override
        public synchronized void restart() {
            retired = process;
            process.destroyForcibly();
            launch();
        }

        @Override
        public void onDeath(Runnable action) {
            deathAction = action;
            if (!process.isAlive() && process != retired && !closed.get()) {
                action.run();
            }
        }

        @Override
        public boolean isHealthy() {
            return !sick && process.isAlive();
        }

        @Override
        public WorkerState state() {
            return process.isAlive() ? WorkerState.IDLE : WorkerState.DEAD;
        }

        @Override
        public long pid() {
            return process.pid();
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                process.destroyForcibly();
                try {
                    process.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                try {
                    Files.deleteIfExists(directory);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                live.decrementAndGet();
            }
        }
    }
}
