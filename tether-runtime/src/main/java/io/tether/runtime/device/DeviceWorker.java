package io.tether.runtime.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Worker} whose interpreter is a MicroPython device reached over a {@link DeviceLink}
 * and driven through its raw REPL. Executions hold {@link #lock}; interrupt, state, pid and
 * close do not. A device that ignores Ctrl-C (the WebAssembly port while busy) has its link
 * restarted after the kill grace: its state is lost, and the execution's error says so.
 */
final class DeviceWorker implements Worker {
    private static final Logger log = LoggerFactory.getLogger(DeviceWorker.class);
    /** How often a waiting execution looks at interrupts and deadlines. */
    private static final long SLICE = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long FAR = Duration.ofDays(36500).toNanos();

    private final DeviceRuntime.Device device;
    private final WorkerOptions options;
    private final Duration commandTimeout;
    private final Path directory;
    private final ReentrantLock lock = new ReentrantLock();
    private final DeviceTasks tasks;
    private final DeviceFiles files;
    private volatile RawRepl repl;
    /** The link being replaced or closed on purpose: its end is no death. */
    private volatile RawRepl retired;
    private volatile WorkerState state = WorkerState.STARTING;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Runnable deathAction = () -> { };
    private volatile long interruptRequestedAt;
    private volatile boolean interruptRequested;

    /** Opens the device's link and enters raw mode; the caller holds the device. */
    DeviceWorker(DeviceRuntime.Device device, WorkerOptions options, Duration commandTimeout, Path workRoot) {
        this.device = device;
        this.options = options;
        this.commandTimeout = commandTimeout;
        this.directory = WorkDirectories.create(workRoot, "device-");
        this.tasks = new DeviceTasks(this);
        this.files = new DeviceFiles(this);
        try {
            repl = connect();
            if (device.capabilities() == null) {
                device.remember(detect());
            }
            device.hold(this);
        } catch (RuntimeException e) {
            closeLink(repl);
            WorkDirectories.delete(directory);
            throw e;
        }
        state = WorkerState.IDLE;
    }

    DeviceRuntime.Device device() {
        return device;
    }

    DeviceTasks tasks() {
        return tasks;
    }

    /** The device's files; use under {@link #withLock}. */
    DeviceFiles files() {
        return files;
    }

    /** Runs {@code action} holding the worker, so no execution runs meanwhile. */
    <T> T withLock(java.util.function.Supplier<T> action) {
        lock.lock();
        try {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the device session is closed");
            }
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #withLock} for an action that changes the device's files: the working directory
     * then mirrors them again (when it mirrors the device at all).
     */
    <T> T changingFiles(java.util.function.Supplier<T> action) {
        return withLock(() -> {
            T result = action.get();
            if (device.syncFiles()) {
                files.pull(directory);
            }
            return result;
        });
    }

    private RawRepl connect() {
        DeviceLink link;
        try {
            link = device.address().open();
        } catch (DeviceException e) {
            throw unavailable("device '" + device.name() + "' (" + device.address() + ") is not reachable: "
                    + e.getMessage(), e);
        }
        RawRepl[] self = new RawRepl[1];
        RawRepl r = new RawRepl(link, device.name(), () -> linkEnded(self[0]));
        self[0] = r;
        try {
            r.enter(commandTimeout);
        } catch (IOException e) {
            closeLink(r);
            throw unavailable("device '" + device.name() + "' (" + device.address() + ") did not enter its raw REPL: "
                    + e.getMessage() + stderrOf(r), e);
        } catch (InterruptedException e) {
            closeLink(r);
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while connecting to device '" + device.name() + "'", e);
        }
        return r;
    }

    /** Asks the device what it is; a raw paste that hangs costs a reconnection, once per device. */
    private DeviceCapabilities detect() {
        try {
            StringBuilder out = new StringBuilder();
            long deadline = System.nanoTime() + commandTimeout.toNanos();
            RawRepl.Reply reply = repl.start(DeviceCapabilities.PROBE.getBytes(StandardCharsets.UTF_8), false, deadline)
                    .finish(out::append, deadline);
            if (reply.failed()) {
                throw unavailable("device '" + device.name() + "' failed its capability probe: " + reply.error(), null);
            }
            boolean rawPaste = repl.probeRawPaste(device.rawPasteTimeout());
            if (!rawPaste && !responsive()) {
                RawRepl hung = repl;
                retired = hung;
                closeLink(hung);
                repl = connect();
            }
            return DeviceCapabilities.parse(out.toString(), rawPaste);
        } catch (IOException e) {
            throw unavailable("device '" + device.name() + "' did not answer its capability probe: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while probing device '" + device.name() + "'", e);
        }
    }

    /** Whether an empty program runs within a short time. */
    private boolean responsive() throws InterruptedException {
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            repl.start(new byte[0], false, deadline).finish(t -> { }, deadline);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static TetherException unavailable(String message, Throwable cause) {
        return new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, message, cause);
    }

    private static String stderrOf(RawRepl r) {
        if (r != null && r.link() instanceof ExecLink exec) {
            String tail = exec.stderrTail();
            return tail.isEmpty() ? "" : "; the device process wrote: " + tail;
        }
        return "";
    }

    private void linkEnded(RawRepl r) {
        if (r == null || r != repl || r == retired || closed || state == WorkerState.STARTING) {
            return;
        }
        if (state != WorkerState.BUSY) {
            state = WorkerState.DEAD;
            deathAction.run();
        }
        // during an execution, that execution finds the link lost and reports it
    }

    // ---------------------------------------------------------------- executions

    @Override
    public ExecutionResult execute(ExecutionRequest request, OutputListener listener) {
        byte[] code = request.code().getBytes(StandardCharsets.UTF_8);
        if (code.length > options.limits().maxCodeBytes()) {
            throw new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "code is " + code.length + " bytes; the limit is "
                    + options.limits().maxCodeBytes());
        }
        lock.lock();
        try {
            if (!device.syncFiles() || closed || state == WorkerState.DEAD) {
                return run(request, code, listener);
            }
            try {
                files.pushKnown(directory);
            } catch (DeviceCallException | java.io.UncheckedIOException e) {
                if (state == WorkerState.DEAD) {
                    return run(request, code, listener); // reports the lost device as the execution's result
                }
                log.warn("device {}: sending the working directory's changes failed", device.name(), e);
            }
            ExecutionResult r = run(request, code, listener);
            if (state == WorkerState.IDLE) {
                try {
                    files.pull(directory);
                } catch (DeviceCallException | java.io.UncheckedIOException | TetherException e) {
                    log.warn("device {}: fetching the device's changed files failed", device.name(), e);
                }
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code code} now, outside the session's execution queue (for tasks and files), under
     * {@link #lock}; at most the command timeout, or {@code timeout} when given.
     */
    ExecutionResult runNow(String code, Duration timeout) {
        lock.lock();
        try {
            return run(new ExecutionRequest(0, code, timeout == null ? commandTimeout : timeout),
                    code.getBytes(StandardCharsets.UTF_8), OutputListener.NONE);
        } finally {
            lock.unlock();
        }
    }

    /** Runs code under {@link #lock}. */
    private ExecutionResult run(ExecutionRequest request, byte[] code, OutputListener listener) {
        if (closed) {
            throw new TetherException(ErrorCode.SESSION_ENDED, "the device session is closed");
        }
        long started = System.nanoTime();
        DeviceOutput out = new DeviceOutput(options.limits().maxOutputBytes(), listener);
        if (state == WorkerState.DEAD) {
            return crashed(request, out, started, "the connection to device '" + device.name() + "' was lost");
        }
        interruptRequested = false;
        state = WorkerState.BUSY;
        RawRepl r = repl;
        try {
            long timeoutAt = request.timeout() == null ? started + FAR : started + request.timeout().toNanos();
            RawRepl.Exchange x = r.start(code, capabilitiesRawPaste(), System.nanoTime() + commandTimeout.toNanos());
            boolean timedOut = false;
            long giveUpAt = started + FAR;
            long grace = options.limits().killGrace().toNanos();
            RawRepl.Reply reply = null;
            while (reply == null) {
                long now = System.nanoTime();
                if (!timedOut && now - timeoutAt >= 0) {
                    timedOut = true;
                    r.interrupt();
                    giveUpAt = now + grace;
                } else if (interruptRequested && giveUpAt - now > grace) {
                    giveUpAt = interruptRequestedAt + grace;
                }
                if (now - giveUpAt >= 0) {
                    return uninterruptible(request, out, started, timedOut);
                }
                long until = Math.min(now + SLICE, Math.min(timedOut ? giveUpAt : timeoutAt, giveUpAt));
                try {
                    reply = x.finish(out, until);
                } catch (DeviceException e) {
                    if (e.kind() != DeviceException.Kind.TIMEOUT) {
                        throw e;
                    }
                }
            }
            state = WorkerState.IDLE;
            ExecutionStatus status = ExecutionStatus.OK;
            ExecutionError error = null;
            if (reply.failed()) {
                error = parseError(reply.error());
                status = timedOut ? ExecutionStatus.TIMEOUT
                        : interruptRequested && error.name().equals("KeyboardInterrupt") ? ExecutionStatus.INTERRUPTED
                        : ExecutionStatus.ERROR;
            } else if (timedOut) {
                status = ExecutionStatus.TIMEOUT;
            }
            return out.result(request.number(), status, error, elapsed(started));
        } catch (DeviceException e) {
            return lost(request, out, started, r, e.getMessage());
        } catch (IOException e) {
            return lost(request, out, started, r, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return lost(request, out, started, r, "interrupted while waiting for the device");
        }
    }

    private boolean capabilitiesRawPaste() {
        DeviceCapabilities c = device.capabilities();
        return c != null && c.rawPaste();
    }

    /** The device ignored Ctrl-C: restart its link so the session can go on, with its state lost. */
    private ExecutionResult uninterruptible(ExecutionRequest request, DeviceOutput out, long started, boolean timedOut) {
        String what = "device '" + device.name() + "' did not stop on Ctrl-C within "
                + options.limits().killGrace().toMillis() + " ms; its connection was restarted and its state is lost";
        log.info("{}", what);
        try {
            reconnect();
        } catch (TetherException e) {
            return crashed(request, out, started, what + ", and reconnecting failed: " + e.getMessage());
        }
        state = WorkerState.IDLE;
        ExecutionError error = new ExecutionError("DeviceRestarted", what, List.of());
        return out.result(request.number(), timedOut ? ExecutionStatus.TIMEOUT : ExecutionStatus.INTERRUPTED, error,
                elapsed(started));
    }

    private ExecutionResult lost(ExecutionRequest request, DeviceOutput out, long started, RawRepl r, String why) {
        String message = "the connection to device '" + device.name() + "' was lost: " + why + exitOf(r) + stderrOf(r);
        closeLink(r);
        return crashed(request, out, started, message);
    }

    private ExecutionResult crashed(ExecutionRequest request, DeviceOutput out, long started, String message) {
        state = WorkerState.DEAD;
        return out.result(request.number(), ExecutionStatus.CRASHED,
                new ExecutionError("DeviceLost", message, List.of()), elapsed(started));
    }

    private static String exitOf(RawRepl r) {
        if (r != null && r.link() instanceof ExecLink exec) {
            try {
                if (exec.process().waitFor(200, TimeUnit.MILLISECONDS)) {
                    return " (the device process exited with status " + exec.process().exitValue() + ")";
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return "";
    }

    private static Duration elapsed(long started) {
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /**
     * A MicroPython traceback as an error: the last line is {@code Name: value}, the lines
     * before it point into the code ({@code File "<stdin>", line 3}).
     */
    static ExecutionError parseError(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        String last = lines.isEmpty() ? "Error" : lines.get(lines.size() - 1);
        int colon = last.indexOf(": ");
        String name = colon < 0 ? last.strip().replaceAll(":$", "") : last.substring(0, colon);
        String value = colon < 0 ? "" : last.substring(colon + 2);
        return new ExecutionError(name, value, lines);
    }

    @Override
    public void interrupt() {
        RawRepl r = repl;
        if (state != WorkerState.BUSY || r == null) {
            return;
        }
        interruptRequestedAt = System.nanoTime();
        interruptRequested = true;
        try {
            r.interrupt();
        } catch (IOException e) {
            log.debug("Ctrl-C to device {} failed: {}", device.name(), e.getMessage());
        }
    }

    @Override
    public void restart() {
        lock.lock();
        try {
            if (closed) {
                throw new TetherException(ErrorCode.SESSION_ENDED, "the device session is closed");
            }
            reconnect();
            if (!device.address().kind().equals("exec")) {
                softReset();
            }
            state = WorkerState.IDLE;
        } finally {
            lock.unlock();
        }
    }

    private void reconnect() {
        RawRepl old = repl;
        retired = old;
        closeLink(old);
        tasks.forget();
        files.forget();
        state = WorkerState.STARTING;
        repl = connect();
        state = WorkerState.IDLE;
        String setup = tasks.setupCode();
        if (setup != null) {
            ExecutionResult r = run(new ExecutionRequest(0, setup, commandTimeout),
                    setup.getBytes(StandardCharsets.UTF_8), OutputListener.NONE);
            if (r.status() != ExecutionStatus.OK) {
                log.warn("device {}: the session's setup failed after a reconnection: {}", device.name(), r.error());
            }
        }
    }

    private void softReset() {
        try {
            repl.softReset(commandTimeout);
        } catch (IOException e) {
            log.info("soft reset of device {} failed: {}", device.name(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void onDeath(Runnable action) {
        deathAction = action == null ? () -> { } : action;
        if (state == WorkerState.DEAD && !closed) {
            deathAction.run();
        }
    }

    @Override
    public boolean isHealthy() {
        if (state == WorkerState.BUSY) {
            return true;
        }
        if (!lock.tryLock()) {
            return true;
        }
        try {
            if (closed || state == WorkerState.DEAD) {
                return false;
            }
            long deadline = System.nanoTime() + commandTimeout.toNanos();
            repl.start(new byte[0], false, deadline).finish(t -> { }, deadline);
            return true;
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
        RawRepl r = repl;
        return r == null ? -1 : r.pid();
    }

    @Override
    public Path workingDirectory() {
        return directory;
    }

    /**
     * Ends the session's hold on the device: its background tasks are stopped and, for a
     * device that outlives the link ({@code serial:}, {@code tcp:}), it is soft-reset; then the
     * link is closed ({@code exec:}: the process is killed) and the device released.
     */
    @Override
    public void close() {
        if (released.get()) {
            return;
        }
        boolean idle = false;
        try {
            idle = lock.tryLock(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (idle && state == WorkerState.IDLE) {
                tasks.teardown();
                if (!device.address().kind().equals("exec")) {
                    softReset();
                }
            }
            closed = true;
            state = WorkerState.DEAD;
            RawRepl r = repl;
            retired = r;
            closeLink(r);
            device.forget(this);
            WorkDirectories.delete(directory);
        } catch (RuntimeException e) {
            log.warn("closing device session of {} failed", device.name(), e);
        } finally {
            closed = true;
            if (idle) {
                lock.unlock();
            }
            if (released.compareAndSet(false, true)) {
                device.release();
            }
        }
    }

    private static void closeLink(RawRepl r) {
        if (r != null) {
            r.close();
        }
    }
}
