package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.Completion;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Inspection;
import io.tether.runtime.LinuxProcesses;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Worker} backed by one {@link PythonProcess} at a time; {@link #restart} swaps
 * in a fresh one. State transitions happen under this object's monitor; readers of
 * {@link #state} and {@link #pid} never block.
 */
final class PythonWorker implements Worker {
    private static final Logger log = LoggerFactory.getLogger(PythonWorker.class);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(1);

    /** Starts the process behind a worker: cold, or forked by the fork server. */
    @FunctionalInterface
    interface Spawner {
        /**
         * @throws TetherException {@code runtime_unavailable} when no worker could start
         */
        PythonProcess spawn(WorkerOptions options, Path directory, Consumer<PythonProcess> onDeath);
    }

    private final Spawner spawner;
    private final WorkerOptions options;
    private final Path directory;
    private final ReentrantLock restarting = new ReentrantLock();
    /** The number of the execution sent to the process and not yet over; -1 when none. */
    private volatile long submitted = -1;
    /** The number of the execution {@link #interrupt(long)} asked for and nobody has interrupted yet; -1 when none. */
    private final AtomicLong interruptFor = new AtomicLong(-1);
    private volatile PythonProcess process;
    private volatile WorkerState state = WorkerState.STARTING;
    private volatile boolean closed;
    private Runnable deathAction = () -> { }; // guarded by this

    private PythonWorker(Spawner spawner, WorkerOptions options, Path directory) {
        this.spawner = spawner;
        this.options = options;
        this.directory = directory;
    }

    /** Starts a worker in a fresh private directory under {@code workRoot}. */
    static PythonWorker start(Spawner spawner, Path workRoot, WorkerOptions options) {
        Path directory = WorkDirectories.create(workRoot, "python-");
        PythonWorker worker = new PythonWorker(spawner, options, directory);
        PythonProcess p;
        try {
            p = spawner.spawn(options, directory, worker::processDied);
        } catch (RuntimeException e) {
            WorkDirectories.delete(directory);
            throw e;
        }
        synchronized (worker) {
            worker.process = p;
            worker.state = p.isDead() ? WorkerState.DEAD : WorkerState.IDLE;
        }
        return worker;
    }

    /** The process behind this worker ended; one that {@link #restart} or {@link #close} ended is not news. */
    private void processDied(PythonProcess p) {
        Runnable action;
        synchronized (this) {
            if (process != p || closed) {
                return;
            }
            state = WorkerState.DEAD;
            action = deathAction;
        }
        action.run();
    }

    @Override
    public void onDeath(Runnable action) {
        Objects.requireNonNull(action, "action");
        boolean dead;
        synchronized (this) {
            deathAction = action;
            dead = state == WorkerState.DEAD && !closed;
        }
        if (dead) {
            action.run();
        }
    }

    @Override
    public ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
        Objects.requireNonNull(request, "request");
        byte[] code = encode(request.code(), options.limits().maxCodeBytes());
        PythonProcess p;
        synchronized (this) {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
            }
            if (state == WorkerState.BUSY) {
                throw new IllegalStateException("the worker is already executing; callers serialize execute");
            }
            if (state != WorkerState.IDLE) {
                return new ExecutionResult(request.number(), ExecutionStatus.CRASHED, "", "", null,
                        new ExecutionError("WorkerDead", "the worker is " + state.name().toLowerCase()
                                + "; restart it", List.of()), Duration.ZERO, false);
            }
            state = WorkerState.BUSY;
            p = process;
        }
        long start = System.nanoTime();
        byte[] stdin = request.stdin() == null ? new byte[0] : request.stdin().getBytes(StandardCharsets.UTF_8);
        Execution ex = p.submit(request.number(), code, stdin, request.interactive(), listener);
        submitted = request.number();
        if (interruptFor.compareAndSet(request.number(), -1)) {
            p.interrupt(ex); // asked for before it was sent
        }
        boolean timedOut = false;
        boolean killed = false;
        Duration timeout = request.timeout();
        if (timeout == null) {
            p.await(ex, Long.MAX_VALUE);
        } else if (!p.await(ex, start + saturatedNanos(timeout))) {
            timedOut = true;
            p.interrupt(ex);
            if (!p.await(ex, System.nanoTime() + saturatedNanos(options.limits().killGrace()))) {
                killed = true;
                p.kill("timed out and ignored the interrupt for " + options.limits().killGrace());
                p.await(ex, Long.MAX_VALUE);
            }
        }
        submitted = -1;
        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        synchronized (this) {
            if (state == WorkerState.BUSY && process == p) {
                state = p.isDead() ? WorkerState.DEAD : WorkerState.IDLE;
            }
        }
        return result(request.number(), ex, timedOut, killed, duration);
    }

    private static byte[] encode(String code, int maxBytes) {
        // A char is at least one UTF-8 byte: longer strings are too large without encoding.
        if (code.length() > maxBytes) {
            throw tooLarge(maxBytes);
        }
        byte[] bytes = code.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxBytes) {
            throw tooLarge(maxBytes);
        }
        return bytes;
    }

    private static TetherException tooLarge(int maxBytes) {
        return new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "code is larger than " + maxBytes + " bytes");
    }

    private static long saturatedNanos(Duration d) {
        try {
            return Math.max(0, d.toNanos());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    @SuppressWarnings("unchecked")
    private static ExecutionResult result(long number, Execution ex, boolean timedOut, boolean killed,
                                          Duration duration) {
        Map<String, Object> done = ex.done();
        if (done == null) {
            ExecutionError error = killed
                    ? new ExecutionError("TimeoutError", ex.crashReason() + "; the process was killed", List.of())
                    : new ExecutionError("WorkerCrashed", ex.crashReason(), List.of());
            return new ExecutionResult(number, timedOut ? ExecutionStatus.TIMEOUT : ExecutionStatus.CRASHED,
                    ex.stdout(), ex.stderr(), null, error, duration, ex.truncated(), ex.outputs());
        }
        ExecutionStatus status = switch (String.valueOf(done.get("status"))) {
            case "ok" -> ExecutionStatus.OK;
            case "interrupted" -> ExecutionStatus.INTERRUPTED;
            default -> ExecutionStatus.ERROR;
        };
        if (timedOut && status != ExecutionStatus.OK) {
            status = ExecutionStatus.TIMEOUT;
        }
        ExecutionError error = null;
        if (done.get("error") instanceof Map<?, ?> e) {
            error = new ExecutionError(String.valueOf(e.get("name")), String.valueOf(e.get("value")),
                    (List<String>) e.get("traceback"));
        }
        Map<String, Object> value = (Map<String, Object>) done.get("result");
        boolean truncated = Boolean.TRUE.equals(done.get("truncated")) || ex.truncated();
        List<Output> outputs = ex.outputs();
        if (value != null && !value.isEmpty()) {
            outputs.add(new Output.ExecuteResult(value, done.get("result_metadata") instanceof Map<?, ?> m
                    ? (Map<String, Object>) m : Map.of(), Boolean.TRUE.equals(done.get("result_truncated"))));
        }
        return new ExecutionResult(number, status, ex.stdout(), ex.stderr(), value, error, duration, truncated,
                outputs);
    }

    @Override
    public Completion complete(String code, int cursor, Duration timeout) {
        Map<String, Object> a = query(PythonProcess.OP_COMPLETE, code, cursor, timeout);
        List<String> matches = ((List<?>) a.get("matches")).stream().map(String::valueOf).toList();
        return new Completion(matches, ((Number) a.get("cursor_start")).intValue(),
                ((Number) a.get("cursor_end")).intValue());
    }

    @Override
    @SuppressWarnings("unchecked")
    public Inspection inspect(String code, int cursor, Duration timeout) {
        Map<String, Object> a = query(PythonProcess.OP_INSPECT, code, cursor, timeout);
        return Boolean.TRUE.equals(a.get("found")) && a.get("data") instanceof Map<?, ?> data
                ? new Inspection(true, (Map<String, Object>) data) : Inspection.NOT_FOUND;
    }

    private Map<String, Object> query(byte op, String code, int cursor, Duration timeout) {
        byte[] bytes = encode(code, options.limits().maxCodeBytes());
        PythonProcess p;
        synchronized (this) {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
            }
            if (state != WorkerState.IDLE) {
                throw new TetherException(state == WorkerState.DEAD ? ErrorCode.INTERNAL : ErrorCode.SESSION_BUSY,
                        "the worker is " + state.name().toLowerCase());
            }
            p = process;
        }
        Map<String, Object> a = p.query(op, cursor, bytes, timeout);
        if (a == null) {
            throw new TetherException(ErrorCode.INTERNAL, "the Python worker died while it answered: "
                    + (p.isDead() ? "see the session's end reason" : "it was killed"));
        }
        if (a.get("error") != null) {
            throw new TetherException(ErrorCode.INTERNAL, "the Python worker failed to answer: " + a.get("error"));
        }
        return a;
    }

    @Override
    public ExecutionOutput outputSoFar(long number) {
        PythonProcess p = process;
        return p == null ? null : p.outputSoFar(number);
    }

    @Override
    public boolean answerInput(String value) {
        PythonProcess p = process;
        return p != null && state == WorkerState.BUSY && p.answerInput(value);
    }

    @Override
    public void interrupt() {
        PythonProcess p = process;
        if (p != null && state == WorkerState.BUSY) {
            p.interrupt();
        }
    }

    /**
     * Whichever of this and {@link #execute} comes second sends the interrupt, exactly once:
     * each writes its side ({@code interruptFor}, {@code submitted}) before it reads the
     * other's, and the one that takes {@code interruptFor} back sends it.
     */
    @Override
    public void interrupt(long number) {
        interruptFor.set(number);
        PythonProcess p = process;
        if (p != null && submitted == number && interruptFor.compareAndSet(number, -1)) {
            p.interrupt();
        }
    }

    @Override
    public void restart() {
        restarting.lock();
        try {
            PythonProcess old;
            synchronized (this) {
                if (closed) {
                    throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
                }
                old = process;
                process = null;
                state = WorkerState.STARTING;
            }
            if (old != null) {
                old.kill("restarted");
            }
            PythonProcess fresh;
            try {
                fresh = spawner.spawn(options, directory, this::processDied);
            } catch (RuntimeException e) {
                synchronized (this) {
                    state = WorkerState.DEAD;
                }
                throw e;
            }
            synchronized (this) {
                if (!closed) {
                    process = fresh;
                    state = fresh.isDead() ? WorkerState.DEAD : WorkerState.IDLE;
                    return;
                }
            }
            fresh.kill("closed during restart");
            throw new TetherException(ErrorCode.SESSION_ENDED, "the worker was closed during restart");
        } finally {
            restarting.unlock();
        }
    }

    @Override
    public boolean isHealthy() {
        WorkerState s = state;
        if (s == WorkerState.BUSY) {
            return true;
        }
        PythonProcess p = process;
        return s == WorkerState.IDLE && p != null && p.ping(HEALTH_TIMEOUT);
    }

    @Override
    public WorkerState state() {
        return state;
    }

    @Override
    public long pid() {
        PythonProcess p = process;
        return p == null || p.isDead() ? -1 : p.pid();
    }

    @Override
    public Optional<Duration> cpuTime() {
        long pid = pid();
        return pid < 0 ? Optional.empty() : LinuxProcesses.cpuTime(pid);
    }

    @Override
    public void close() {
        PythonProcess p;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            state = WorkerState.DEAD;
            p = process;
        }
        if (p != null) {
            try {
                p.kill("closed");
            } catch (RuntimeException e) {
                log.warn("closing Python worker {} failed", p.pid(), e);
            }
        }
        try {
            WorkDirectories.delete(directory);
        } catch (RuntimeException e) {
            log.warn("deleting the working directory of Python worker {} failed", p == null ? -1 : p.pid(), e);
        }
    }

    @Override
    public Path workingDirectory() {
        return directory;
    }

    @Override
    public String toString() {
        return "PythonWorker[pid=" + pid() + ", state=" + state + "]";
    }
}
