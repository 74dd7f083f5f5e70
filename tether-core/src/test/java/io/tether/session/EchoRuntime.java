package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process runtime for testing the manager's side of executions (queueing, policies,
 * ownership); real interpreters are tested in tether-runtime. Code {@code crash} kills the
 * worker (its death action runs too), {@link EchoWorker#die} kills an idle one, {@code wait}
 * blocks until {@link #release}, an interrupt or {@code close} ({@code say-wait} prints
 * {@code "said "} first), anything else is echoed as the result and on stdout.
 */
public final class EchoRuntime implements SessionRuntime {
    final List<EchoWorker> started = new CopyOnWriteArrayList<>();
    /** Every request a worker of this runtime ran, in order. */
    final List<ExecutionRequest> executed = new CopyOnWriteArrayList<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final Semaphore released = new Semaphore(0);
    final Semaphore waiting = new Semaphore(0);
    volatile boolean failStarts;
    volatile boolean closed;
    /** Runs on every worker as it starts, before anyone has it; {@code null} for nothing. */
    volatile java.util.function.Consumer<EchoWorker> onStart;

    /** Worker directories of runtimes made without a root; made on first use, deleted at JVM exit. */
    private static final class SharedRoot {
        static final Path DIR = sharedRoot();
    }

    private final Path root;

    /** A runtime whose worker directories go under a temporary root deleted at JVM exit. */
    public EchoRuntime() {
        this(SharedRoot.DIR);
    }

    /** A runtime whose worker directories go under {@code root} (for processes killed with SIGKILL). */
    public EchoRuntime(Path root) {
        this.root = root;
    }

    private static Path sharedRoot() {
        try {
            Path dir = Files.createTempDirectory("tether-echo");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> WorkDirectories.delete(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return "echo";
    }

    @Override
    public Worker start(WorkerOptions options) {
        if (failStarts) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "echo cannot start");
        }
        EchoWorker w = new EchoWorker();
        java.util.function.Consumer<EchoWorker> hook = onStart;
        if (hook != null) {
            hook.accept(w);
        }
        started.add(w);
        return w;
    }

    /** Lets one waiting execution finish. */
    void release() {
        released.release();
    }

    /** Waits until an execution is blocked in {@code wait}. */
    void awaitWaiting() throws InterruptedException {
        if (!waiting.tryAcquire(10, TimeUnit.SECONDS)) {
            throw new AssertionError("no execution started waiting");
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    final class EchoWorker implements Worker {
        volatile WorkerState state = WorkerState.IDLE;
        volatile Thread runner;
        final AtomicInteger restarts = new AtomicInteger();
        final Path dir;
        /** What {@link #cpuTime} says; {@code null} for unknown. */
        volatile Duration cpu;
        /** What {@link #cpuTime} says after a restart; {@code null} to leave it as it was. */
        volatile Duration cpuAfterRestart;
        volatile Runnable deathAction = () -> { };
        /** The running execution's number and its output so far, kept as a worker keeps them; guarded by this. */
        private long current;
        private final StringBuilder soFar = new StringBuilder();

        EchoWorker() {
            dir = WorkDirectories.create(root, "echo-");
        }

        @Override
        public ExecutionResult execute(ExecutionRequest request, OutputListener out) {
            if (state == WorkerState.DEAD) {
                return result(request, ExecutionStatus.CRASHED, "");
            }
            synchronized (this) {
                current = request.number();
                soFar.setLength(0);
            }
            OutputListener listener = (stream, text) -> {
                synchronized (this) {
                    soFar.append(text);
                }
                out.output(stream, text);
            };
            executed.add(request);
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            state = WorkerState.BUSY;
            runner = Thread.currentThread();
            try {
                switch (request.code()) {
                    case "crash" -> {
                        state = WorkerState.DEAD;
                        deathAction.run(); // as a process's exit is noticed while its execution ends
                        return result(request, ExecutionStatus.CRASHED, "");
                    }
                    case "wait", "say-wait" -> {
                        if (request.code().equals("say-wait")) {
                            listener.output(OutputListener.Stream.STDOUT, "said ");
                        }
                        waiting.release();
                        try {
                            released.acquire();
                        } catch (InterruptedException e) {
                            // closed (the process would be gone) or interrupted
                            return result(request, state == WorkerState.DEAD ? ExecutionStatus.CRASHED
                                    : ExecutionStatus.INTERRUPTED, "");
                        }
                    }
                    default -> { }
                }
                listener.output(OutputListener.Stream.STDOUT, request.code());
                return result(request, ExecutionStatus.OK, request.code());
            } finally {
                synchronized (this) {
                    current = 0;
                }
                runner = null;
                running.decrementAndGet();
                if (state == WorkerState.BUSY) {
                    state = WorkerState.IDLE;
                }
            }
        }

        private ExecutionResult result(ExecutionRequest r, ExecutionStatus status, String out) {
            return new ExecutionResult(r.number(), status, out, "", Map.of("text/plain", out), null,
                    Duration.ZERO, false);
        }

        @Override
        public synchronized ExecutionOutput outputSoFar(long number) {
            return number == current ? new ExecutionOutput(soFar.toString(), "", false) : null;
        }

        @Override
        public void interrupt() {
            Thread t = runner;
            if (t != null) {
                t.interrupt();
            }
        }

        @Override
        public void restart() {
            restarts.incrementAndGet();
            state = WorkerState.IDLE;
            if (cpuAfterRestart != null) {
                cpu = cpuAfterRestart;
            }
        }

        /** Dies by itself between executions, as a process killed from outside. */
        void die() {
            state = WorkerState.DEAD;
            deathAction.run();
        }

        @Override
        public void onDeath(Runnable action) {
            deathAction = action;
            if (state == WorkerState.DEAD) {
                action.run();
            }
        }

        @Override
        public boolean isHealthy() {
            return state != WorkerState.DEAD;
        }

        @Override
        public WorkerState state() {
            return state;
        }

        @Override
        public long pid() {
            return -1;
        }

        @Override
        public Path workingDirectory() {
            return dir;
        }

        @Override
        public java.util.Optional<Duration> cpuTime() {
            return java.util.Optional.ofNullable(state == WorkerState.DEAD ? null : cpu);
        }

        @Override
        public void close() {
            state = WorkerState.DEAD;
            Thread t = runner;
            if (t != null) {
                t.interrupt(); // as a killed process ends its execution
            }
            WorkDirectories.delete(dir);
        }
    }
}
