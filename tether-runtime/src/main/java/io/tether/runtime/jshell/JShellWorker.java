package io.tether.runtime.jshell;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

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
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import org.slf4j.LoggerFactory;

/**
 * A {@link Worker} whose interpreter is a JShell in an {@link AgentProcess}. Executions
 * hold {@link #lock}; interrupt, state, pid and close do not, so they work while code runs.
 */
final class JShellWorker implements Worker {
    private static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(2);

    private final JShellLauncher launcher;
    private final WorkerOptions options;
    private final Path directory;
    private final ReentrantLock lock = new ReentrantLock();
    /** Orders EXECUTE, the BUSY state and STOP frames; see {@link #interrupt}. */
    private final Object stopLock = new Object();
    private volatile AgentProcess agent;
    private volatile WorkerState state = WorkerState.STARTING;
    private volatile boolean closed;
    /** The process {@link #restart} is ending on purpose: its end is no death. */
    private volatile AgentProcess retired;
    private volatile Runnable deathAction = () -> { };
    /** The execution in flight and the output it keeps; {@code null} between executions. */
    private volatile InFlight inFlight;
    /** The running execution asked for input and was not answered yet; guarded by stopLock for answers. */
    private volatile boolean awaitingInput;

    private record InFlight(long number, OutputCollector output) {
    }

    /** Starts a JShell JVM in a fresh private directory under {@code workRoot}. */
    JShellWorker(JShellLauncher launcher, Path workRoot, WorkerOptions options) {
        this.launcher = launcher;
        this.options = options;
        this.directory = WorkDirectories.create(workRoot, "jshell-");
        try {
            this.agent = launch();
        } catch (RuntimeException e) {
            WorkDirectories.delete(directory);
            throw e;
        }
        this.state = WorkerState.IDLE;
    }

    private AgentProcess launch() {
        AgentProcess started = launcher.launch(options, directory);
        // A process that dies on its own (System.exit, kill -9) makes the worker dead at once,
        // not only when the next execution finds out.
        started.onEnd(() -> {
            if (agent == started && started != retired && state != WorkerState.STARTING && !closed) {
                state = WorkerState.DEAD;
                deathAction.run();
            }
        });
        return started;
    }

    @Override
    public void onDeath(Runnable action) {
        deathAction = java.util.Objects.requireNonNull(action, "action");
        if (state == WorkerState.DEAD && !closed) {
            action.run();
        }
    }

    @Override
    public ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
        byte[] code = request.code().getBytes(StandardCharsets.UTF_8);
        if (code.length > options.limits().maxCodeBytes()) {
            throw new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "the code has " + code.length
                    + " bytes; this worker accepts at most " + options.limits().maxCodeBytes());
        }
        lock.lock();
        try {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
            }
            long started = System.nanoTime();
            AgentProcess current = agent;
            OutputCollector output = new OutputCollector(options.limits().maxOutputBytes(),
                    listener == null ? OutputListener.NONE : listener);
            if (state == WorkerState.DEAD && !current.isAlive()) {
                return crashed(request, output, started, "the JShell process is not running; restart the worker");
            }
            inFlight = new InFlight(request.number(), output);
            try {
                return run(current, request, output, started);
            } finally {
                awaitingInput = false;
                inFlight = null;
                current.nativeOutput(null);
                synchronized (stopLock) {
                    if (state == WorkerState.BUSY) {
                        state = WorkerState.IDLE;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public ExecutionOutput outputSoFar(long number) {
        InFlight f = inFlight;
        return f != null && f.number() == number ? f.output().soFar() : null;
    }

    private ExecutionResult run(AgentProcess current, ExecutionRequest request, OutputCollector output,
                                long started) {
        current.discardPending();
        current.nativeOutput((isStderr, text) -> output.append(
                isStderr ? OutputListener.Stream.STDERR : OutputListener.Stream.STDOUT, text));
        try {
            // BUSY only once EXECUTE is out, so an interrupt that sees BUSY reaches this execution.
            synchronized (stopLock) {
                current.send(Wire.EXECUTE, new Wire.Fields.Writer().string(request.code())
                        .longValue(options.limits().maxOutputBytes()).string(request.stdin())
                        .bool(request.interactive()).bytes());
                state = WorkerState.BUSY;
            }
        } catch (IOException e) {
            return died(current, request, output, started);
        }
        Duration timeout = request.timeout();
        long deadline = timeout == null ? Long.MAX_VALUE : started + timeout.toNanos();
        boolean timedOut = false;
        try {
            while (true) {
                long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
                Wire.Frame frame = left <= 0 ? null : current.poll(left);
                if (frame == null) {
                    if (timedOut) {
                        // It did not stop within the grace period (it swallows the stop or
                        // blocks where stop cannot reach): only killing ends it.
                        kill(current);
                        return result(request, ExecutionStatus.TIMEOUT, output, Map.of(), new ExecutionError("Timeout",
                                "the code ran past its timeout of " + timeout + " and did not stop within "
                                        + options.limits().killGrace() + "; the JShell process was killed",
                                List.of()), started);
                    }
                    timedOut = true;
                    stop(current);
                    deadline = System.nanoTime() + options.limits().killGrace().toNanos();
                    continue;
                }
                switch (frame.type()) {
                    case Wire.STDOUT -> output.append(OutputListener.Stream.STDOUT, frame.fields().string());
                    case Wire.STDERR -> output.append(OutputListener.Stream.STDERR, frame.fields().string());
                    case Wire.INPUT_REQUEST -> {
                        awaitingInput = true;
                        if (request.interactive()) {
                            output.inputRequested();
                        }
                    }
                    case Wire.RESULT -> {
                        return finished(request, Wire.Outcome.decode(frame.payload()), timedOut, timeout, output,
                                started);
                    }
                    case -1 -> {
                        return died(current, request, output, started);
                    }
                    default -> {
                        // PONG of a health check that gave up waiting: harmless
                    }
                }
            }
        } catch (InterruptedException e) {
            // The caller gave up on this execution; the process may be anywhere, so it goes.
            Thread.currentThread().interrupt();
            kill(current);
            return crashed(request, output, started, "the executing thread was interrupted; the JShell process was killed");
        }
    }

    private ExecutionResult finished(ExecutionRequest request, Wire.Outcome outcome, boolean timedOut,
                                     Duration timeout, OutputCollector output, long started) {
        if (outcome.truncated()) {
            output.markTruncated();
        }
        return switch (outcome.kind()) {
            case OK -> result(request, ExecutionStatus.OK, output, bundle(outcome), null, started);
            case ERROR -> result(request, ExecutionStatus.ERROR, output, Map.of(),
                    new ExecutionError(outcome.errorName(), outcome.errorValue(), outcome.traceback()), started);
            case INTERRUPTED -> timedOut
                    ? result(request, ExecutionStatus.TIMEOUT, output, Map.of(), new ExecutionError("Timeout",
                            "the code ran past its timeout of " + timeout + " and was stopped", List.of()), started)
                    : result(request, ExecutionStatus.INTERRUPTED, output, Map.of(), null, started);
        };
    }

    static Map<String, Object> bundle(Wire.Outcome outcome) {
        if (outcome.text() == null) {
            return Map.of();
        }
        Map<String, Object> bundle = new LinkedHashMap<>();
        bundle.put("text/plain", outcome.text());
        Object json = switch (outcome.jsonKind()) {
            case NONE -> null;
            case BOOLEAN -> Boolean.valueOf(outcome.json());
            case STRING -> outcome.json();
            case NUMBER -> number(outcome.json());
        };
        if (json != null) {
            bundle.put("application/json", json);
        }
        return Map.copyOf(bundle);
    }

    private static Object number(String text) {
        try {
            if (text.indexOf('.') < 0 && text.indexOf('E') < 0) {
                BigInteger big = new BigInteger(text);
                return big.bitLength() < 64 ? (Object) big.longValue() : big;
            }
            double d = Double.parseDouble(text);
            return Double.isFinite(d) ? (Object) d : new BigDecimal(text);
        } catch (NumberFormatException e) {
            return null; // not a plain number after all: text/plain alone says it
        }
    }

    private ExecutionResult died(AgentProcess current, ExecutionRequest request, OutputCollector output,
                                 long started) {
        Integer code = current.exitCode(EXIT_WAIT);
        kill(current);
        return crashed(request, output, started, code == null ? "the JShell process stopped answering and was killed"
                : "the JShell process exited with code " + code);
    }

    private ExecutionResult crashed(ExecutionRequest request, OutputCollector output, long started, String why) {
        return result(request, ExecutionStatus.CRASHED, output, Map.of(),
                new ExecutionError("WorkerCrashed", why, List.of()), started);
    }

    private static ExecutionResult result(ExecutionRequest request, ExecutionStatus status, OutputCollector output,
                                          Map<String, Object> value, ExecutionError error, long started) {
        return new ExecutionResult(request.number(), status, output.stdout(), output.stderr(), value, error,
                Duration.ofNanos(System.nanoTime() - started), output.truncated());
    }

    private void kill(AgentProcess current) {
        state = WorkerState.DEAD;
        current.kill();
    }

    private static void stop(AgentProcess current) {
        try {
            current.send(Wire.STOP, new byte[0]);
        } catch (IOException e) {
            // The agent is gone; the execution loop sees the end of its socket next.
        }
    }

    @Override
    public boolean answerInput(String value) {
        java.util.Objects.requireNonNull(value, "value");
        synchronized (stopLock) {
            AgentProcess current = agent;
            if (!awaitingInput || inFlight == null || state != WorkerState.BUSY) {
                return false;
            }
            awaitingInput = false;
            try {
                current.send(Wire.INPUT, new Wire.Fields.Writer().string(value).bytes());
            } catch (IOException e) {
                return false; // the process died: the execution ends crashed
            }
            return true;
        }
    }

    @Override
    public void interrupt() {
        synchronized (stopLock) {
            if (state == WorkerState.BUSY) {
                stop(agent);
            }
        }
    }

    @Override
    public void restart() {
        if (closed) {
            throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
        }
        // Kill first so a running execution ends now (as crashed) instead of holding the lock.
        retired = agent;
        agent.kill();
        lock.lock();
        try {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
            }
            state = WorkerState.STARTING;
            agent.kill();
            try {
                agent = launch();
            } catch (RuntimeException e) {
                state = WorkerState.DEAD;
                throw e;
            }
            state = WorkerState.IDLE;
            if (closed) {
                // close() ran while we started: it killed the old process, this one goes too
                close();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Completion complete(String code, int cursor, Duration timeout) {
        Wire.Fields.Reader answer = query(Wire.COMPLETE, Wire.COMPLETION, code, cursor, timeout);
        List<String> matches = answer.strings();
        int anchor = answer.integer();
        return new Completion(matches, code.codePointCount(0, Math.clamp(anchor, 0, code.length())), cursor);
    }

    @Override
    public Inspection inspect(String code, int cursor, Duration timeout) {
        String text = query(Wire.INSPECT, Wire.DOCUMENTATION, code, cursor, timeout).string();
        return text == null ? Inspection.NOT_FOUND : new Inspection(true, Map.of("text/plain", text));
    }

    /** Asks the idle agent about its snippets; {@code cursor} in code points, sent as a UTF-16 index. */
    private Wire.Fields.Reader query(byte ask, byte answer, String code, int cursor, Duration timeout) {
        if (!lock.tryLock()) {
            throw new TetherException(ErrorCode.SESSION_BUSY, "the worker is executing");
        }
        try {
            AgentProcess current = agent;
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the worker is closed");
            }
            if (state != WorkerState.IDLE || !current.isAlive()) {
                throw new TetherException(ErrorCode.INTERNAL, "the JShell worker is " + state.name().toLowerCase());
            }
            current.discardPending();
            current.send(ask, new Wire.Fields.Writer().string(code).integer(code.offsetByCodePoints(0, cursor))
                    .bytes());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Wire.Frame frame = current.poll(Math.max(0, deadline - System.nanoTime()));
                if (frame == null || frame == AgentProcess.EOF) {
                    throw new TetherException(ErrorCode.INTERNAL, frame == null
                            ? "the JShell worker did not answer within " + timeout : "the JShell worker died");
                }
                if (frame.type() == answer) {
                    return frame.fields();
                }
            }
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "the JShell worker's connection broke: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TetherException(ErrorCode.INTERNAL, "interrupted while waiting for the JShell worker", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isHealthy() {
        if (closed || state == WorkerState.DEAD) {
            return false;
        }
        if (!lock.tryLock()) {
            return true; // busy executing: the contract says healthy
        }
        try {
            AgentProcess current = agent;
            if (state != WorkerState.IDLE || !current.isAlive()) {
                return false;
            }
            current.discardPending();
            current.send(Wire.PING, new byte[0]);
            long deadline = System.nanoTime() + PING_TIMEOUT.toNanos();
            while (true) {
                Wire.Frame frame = current.poll(Math.max(0, deadline - System.nanoTime()));
                if (frame == null || frame == AgentProcess.EOF) {
                    return false;
                }
                if (frame.type() == Wire.PONG) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public WorkerState state() {
        return state;
    }

    @Override
    public long pid() {
        return closed ? -1 : agent.pid();
    }

    @Override
    public void close() {
        closed = true;
        state = WorkerState.DEAD;
        agent.kill();
        try {
            WorkDirectories.delete(directory);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(JShellWorker.class).warn("deleting {} failed", directory, e);
        }
    }

    @Override
    public Optional<Duration> cpuTime() {
        long pid = pid();
        return pid < 0 ? Optional.empty() : LinuxProcesses.cpuTime(pid);
    }

    @Override
    public Path workingDirectory() {
        return directory;
    }

    /** For tests: the Java version the agent runs on. */
    String javaVersion() {
        return agent.javaVersion();
    }
}
