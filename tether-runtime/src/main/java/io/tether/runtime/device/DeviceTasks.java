package io.tether.runtime.device;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a device session runs besides its executions: the background tasks it started (a
 * thread each where the port has {@code _thread}, else an asyncio task), and its setup and
 * teardown code. At the end of the session, with the device idle, every task is stopped
 * (and its stop confirmed by the device), then the teardown runs. Thread-safe.
 */
final class DeviceTasks {
    private static final Logger log = LoggerFactory.getLogger(DeviceTasks.class);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(3);

    /** Tether's helpers on the device, sent before the first task of a connection. */
    static final String HELPERS = """
            import json
            try:
                import _thread as _tether_thread
            except ImportError:
                _tether_thread = None
            _tether_run = {}
            _tether_done = {}
            def _tether_start(name, fn, ms, args):
                f = globals()[fn]
                _tether_run[name] = True
                _tether_done[name] = False
                def loop():
                    import time
                    try:
                        while _tether_run.get(name):
                            f(*args)
                            time.sleep_ms(ms)
                    finally:
                        _tether_done[name] = True
                async def aloop():
                    import asyncio
                    try:
                        while _tether_run.get(name):
                            f(*args)
                            await asyncio.sleep_ms(ms)
                    finally:
                        _tether_done[name] = True
                if _tether_thread:
                    _tether_thread.start_new_thread(loop, ())
                else:
                    import asyncio
                    asyncio.create_task(aloop())
            """;

    private final DeviceWorker worker;
    private final Map<String, DeviceTask> running = new LinkedHashMap<>();
    private final List<Runnable> resetListeners = new CopyOnWriteArrayList<>();
    private boolean helpersSent;
    private String setup;
    private String teardown;

    DeviceTasks(DeviceWorker worker) {
        this.worker = worker;
    }

    /** Runs {@code action} whenever the device loses its state (its link was restarted). */
    void onReset(Runnable action) {
        resetListeners.add(action);
    }

    /** The device lost its state (its link was restarted): nothing sent is there any more. */
    void forget() {
        List<DeviceTask> lost;
        synchronized (this) {
            helpersSent = false;
            lost = new ArrayList<>(running.values());
            running.clear();
        }
        for (DeviceTask t : lost) {
            t.markStopped();
        }
        for (Runnable r : resetListeners) {
            r.run();
        }
    }

    /** Sets the session's setup code and runs it now (and again after a link restart). */
    void setup(String code) {
        synchronized (this) {
            setup = code;
        }
        check(worker.runNow(code, null), "setup");
    }

    /** Sets the code that runs when the session ends, after its tasks were stopped. */
    synchronized void teardownCode(String code) {
        teardown = code;
    }

    synchronized String setupCode() {
        return setup;
    }

    /** Starts {@code function(*argsJson)} every {@code interval} in the background, as task {@code name}. */
    DeviceTask start(String name, String function, Duration interval, String argsJson) {
        synchronized (this) {
            if (running.containsKey(name)) {
                throw TetherException.invalid("a task named '" + name + "' is running already");
            }
        }
        ensureHelpers();
        String code = "_tether_start(" + DeviceJson.pyString(name) + ", " + DeviceJson.pyString(function) + ", "
                + Math.max(0, interval.toMillis()) + ", json.loads(" + DeviceJson.pyString(argsJson) + "))";
        check(worker.runNow(code, null), "starting task " + name);
        DeviceTask t = new DeviceTask(name, this);
        synchronized (this) {
            running.put(name, t);
        }
        return t;
    }

    private void ensureHelpers() {
        synchronized (this) {
            if (helpersSent) {
                return;
            }
        }
        check(worker.runNow(HELPERS, null), "sending Tether's task helpers");
        synchronized (this) {
            helpersSent = true;
        }
    }

    /**
     * Stops task {@code name} and waits until the device confirms its loop has ended.
     *
     * @return whether the device confirmed it within {@link #STOP_TIMEOUT}
     */
    boolean stop(String name) {
        DeviceTask task;
        synchronized (this) {
            task = running.remove(name);
            if (task == null) {
                return true;
            }
        }
        String n = DeviceJson.pyString(name);
        check(worker.runNow("_tether_run[" + n + "] = False", null), "stopping task " + name);
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            ExecutionResult r = worker.runNow("print(_tether_done.get(" + n + ", True))", null);
            if (r.status() != ExecutionStatus.OK) {
                return false;
            }
            if (r.stdout().strip().equals("True")) {
                task.markStopped();
                return true;
            }
            try {
                Thread.sleep(10); // the device's loop ends at its next turn
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    synchronized List<String> running() {
        return List.copyOf(running.keySet());
    }

    /** Runs at the end of the session, with the device idle: stops every task, then runs the teardown. */
    void teardown() {
        for (String name : running()) {
            try {
                if (!stop(name)) {
                    log.warn("device {}: task {} did not confirm its stop within {}", worker.device().name(), name,
                            STOP_TIMEOUT);
                }
            } catch (RuntimeException e) {
                log.warn("device {}: stopping task {} failed", worker.device().name(), name, e);
            }
        }
        String code;
        synchronized (this) {
            code = teardown;
        }
        if (code != null) {
            ExecutionResult r = worker.runNow(code, null);
            if (r.status() != ExecutionStatus.OK) {
                log.warn("device {}: the session's teardown ended {}: {}", worker.device().name(),
                        r.status().wireName(), r.error());
            }
        }
    }

    private static void check(ExecutionResult r, String what) {
        if (r.status() != ExecutionStatus.OK) {
            throw new DeviceCallException(what + " failed on the device", r);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static ExecutionRequest request(String code, Duration timeout) {
        return new ExecutionRequest(0, code, timeout);
    }

    static final OutputListener QUIET = OutputListener.NONE;

    static TetherException closed() {
        return new TetherException(ErrorCode.SESSION_ENDED, "the device session is closed");
    }
}
