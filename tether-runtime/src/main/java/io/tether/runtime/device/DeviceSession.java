package io.tether.runtime.device;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicInteger;

import io.tether.TetherException;
import io.tether.resource.DeployedCodeCache;
import io.tether.resource.ResourceTracker;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.session.Access;
import io.tether.session.SessionManager;

/**
 * The Java API of one live device session (Belay's model): code is deployed once per session
 * and then called by name with JSON-serialisable arguments, the result decoded; background
 * tasks are started and tracked; setup and teardown code run at the start and end.
 *
 * <pre>{@code
 * DeviceSession device = DeviceSession.of(manager, runtime, sessionId);
 * device.deploy("def add(a, b):\n    return a + b");
 * long sum = device.call(Long.class, "add", 1, 2);   // 3
 * }</pre>
 *
 * <p>Deployments and calls are executions of the session (they count as activity, run in
 * order with its other executions and are kept in its history). A deployment is skipped
 * when the session's deployed-code cache ({@link ResourceTracker#deployedCode}) holds the
 * same source under the same signature (its top-level {@code def} and {@code class} names);
 * the cache is cleared when the device loses its state. Thread-safe.
 */
public final class DeviceSession {
    private static final Pattern TOP_LEVEL = Pattern.compile("(?m)^(?:async\\s+)?(?:def|class)\\s+([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String RESULT_MARK = "\u001eTETHER-RESULT ";

    private final SessionManager manager;
    private final Access access;
    private final String id;
    private final DeviceWorker worker;
    private final ResourceTracker tracker;
    private final Duration timeout;
    private final AtomicInteger deployments = new AtomicInteger();

    private DeviceSession(SessionManager manager, Access access, String id, DeviceWorker worker, Duration timeout) {
        this.manager = manager;
        this.access = access;
        this.id = id;
        this.worker = worker;
        this.tracker = manager.resources(access, id);
        this.timeout = timeout;
        DeployedCodeCache cache = tracker.deployedCode();
        worker.tasks().onReset(cache::invalidate);
    }

    /** The device session {@code id}, for any caller; calls time out after 30 s. */
    public static DeviceSession of(SessionManager manager, DeviceRuntime runtime, String id) {
        return of(manager, runtime, Access.SYSTEM, id, Duration.ofSeconds(30));
    }

    /**
     * The device session {@code id} as {@code access} sees it.
     *
     * @param timeout how long one deployment or call may run
     * @throws TetherException {@code session_not_found}, {@code session_ended}, or
     *     {@code invalid_request} when it is not a session of {@code runtime}'s devices
     */
    public static DeviceSession of(SessionManager manager, DeviceRuntime runtime, Access access, String id,
                                   Duration timeout) {
        java.nio.file.Path dir = manager.workingDirectory(access, id)
                .orElseThrow(() -> TetherException.invalid("session " + id + " is a plain session, not a device's"));
        DeviceWorker worker = runtime.workerIn(dir);
        if (worker == null) {
            throw TetherException.invalid("session " + id + " does not drive a device of this runtime");
        }
        return new DeviceSession(manager, access, id, worker, timeout);
    }

    /** The session's id. */
    public String id() {
        return id;
    }

    /** The device's name. */
    public String device() {
        return worker.device().name();
    }

    /**
     * Sends {@code source} (functions, classes, constants) to the device unless this session
     * already deployed exactly it.
     *
     * @return whether it was sent
     * @throws DeviceCallException when it fails on the device (nothing is recorded then)
     */
    public boolean deploy(String source) {
        Objects.requireNonNull(source, "source");
        TreeSet<String> names = new TreeSet<>();
        Matcher m = TOP_LEVEL.matcher(source);
        while (m.find()) {
            names.add(m.group(1));
        }
        String signature = names.isEmpty() ? "source:" + DeployedCodeCache.contentHash(source) : "defs:" + names;
        return tracker.deployedCode().deployIfAbsent(signature, source, () -> {
            ExecutionResult r = manager.execute(access, id, source, null, timeout, null);
            if (r.status() != ExecutionStatus.OK) {
                throw new DeviceCallException("deploying " + signature, r);
            }
            deployments.incrementAndGet();
        });
    }

    /** How many deployments this object actually sent (the ones the cache skipped are not counted). */
    public int deployments() {
        return deployments.get();
    }

    /**
     * Calls the deployed function {@code function} with {@code args} and returns its value,
     * decoded from JSON: {@code null}, {@code Boolean}, {@code Long} (or {@code BigInteger}),
     * {@code Double}, {@code String}, {@code List}, {@code Map}. What it prints is dropped.
     *
     * @throws IllegalArgumentException when an argument is not JSON-serialisable
     * @throws DeviceCallException when it raises, times out or the device is lost
     */
    public Object call(String function, Object... args) {
        if (!NAME.matcher(function).matches()) {
            throw TetherException.invalid("a task name is a Python identifier, got '" + function + "'");
        }
        String code = "import json\nprint(" + DeviceJson.pyString(RESULT_MARK) + " + json.dumps(" + function
                + "(*json.loads(" + DeviceJson.pyString(DeviceJson.write(java.util.Arrays.asList(args))) + "))))";
        ExecutionResult r = manager.execute(access, id, code, null, timeout, null);
        if (r.status() != ExecutionStatus.OK) {
            throw new DeviceCallException("calling " + function, r);
        }
        int at = r.stdout().lastIndexOf(RESULT_MARK);
        if (at < 0) {
            throw new DeviceCallException("calling " + function + " gave no result", r);
        }
        return io.tether.runtime.python.Json.parse(r.stdout().substring(at + RESULT_MARK.length()).strip());
    }

    /**
     * {@link #call(String, Object...)} with the value as {@code type}: {@code Long},
     * {@code Integer}, {@code Double} (from any number), {@code String}, {@code Boolean},
     * {@code List}, {@code Map}, or {@code Object}.
     *
     * @throws ClassCastException when the value is not of that type
     */
    public <T> T call(Class<T> type, String function, Object... args) {
        Object v = call(function, args);
        if (v instanceof Number n) {
            if (type == Integer.class) {
                return type.cast(Math.toIntExact(n.longValue()));
            }
            if (type == Double.class) {
                return type.cast(n.doubleValue());
            }
        }
        return type.cast(v);
    }

    /**
     * Starts calling the deployed function {@code function(*args)} in the background every
     * {@code interval}, as a thread where the device has {@code _thread}, else as an asyncio
     * task. Tracked as a resource of the session: stopped (and its stop confirmed) when the
     * session ends, or when the returned task is closed.
     *
     * @throws TetherException {@code invalid_request} when a task of that name runs already
     * @throws DeviceCallException when it cannot start on the device
     */
    public DeviceTask startTask(String name, String function, Duration interval, Object... args) {
        if (!NAME.matcher(function).matches()) {
            throw TetherException.invalid("a task's function is a Python identifier, got '" + function + "'");
        }
        DeviceTask task = worker.tasks().start(name, function, interval, DeviceJson.write(java.util.Arrays.asList(args)));
        tracker.register(DeviceTask.RESOURCE_TYPE, 1, task);
        return task;
    }

    /** The names of the background tasks running now. */
    public List<String> tasks() {
        return worker.tasks().running();
    }

    /**
     * Runs {@code code} now and again whenever the device loses its state (its link was
     * restarted), before anything else runs.
     *
     * @throws DeviceCallException when it fails on the device
     */
    public void setup(String code) {
        worker.tasks().setup(code);
    }

    /** The files on the device under its files root (the REPL's directory at connection), with sizes and SHA-256. */
    public List<DeviceFile> files() {
        return worker.withLock(() -> worker.files().list().stream()
                .map(e -> new DeviceFile(e.path(), e.size(), e.sha256())).toList());
    }

    /**
     * The content of a file on the device.
     *
     * @throws TetherException {@code not_found} when there is none; {@code invalid_request} for
     *     a path that is absolute or has {@code .} or {@code ..} parts
     */
    public byte[] readFile(String path) {
        return worker.withLock(() -> worker.files().read(path));
    }

    /**
     * Writes a file on the device (parent directories created) unless it holds exactly this
     * content already.
     *
     * @return whether the content was sent
     */
    public boolean writeFile(String path, byte[] content) {
        return worker.changingFiles(() -> worker.files().write(path, content));
    }

    /** Deletes a file on the device; one already gone is fine. */
    public void deleteFile(String path) {
        worker.changingFiles(() -> {
            worker.files().delete(path);
            return null;
        });
    }

    /**
     * Makes the device hold the files of {@code local} (a directory): files whose content the
     * device has already (by SHA-256) are not sent; files this session synced before and that
     * are gone from {@code local} are deleted from the device. When the session's working
     * directory mirrors the device ({@link DeviceRuntime.Builder#syncFiles}), it is brought up
     * to date too, as after the other file changes here.
     */
    public SyncReport sync(java.nio.file.Path local) {
        return worker.changingFiles(() -> {
            DeviceFiles.SyncReport r = worker.files().push(local);
            return new SyncReport(r.sent(), r.unchanged(), r.deleted());
        });
    }

    /**
     * A file on the device.
     *
     * @param path   relative to the files root, {@code /}-separated
     * @param size   bytes
     * @param sha256 lower-case hex SHA-256 of its content
     */
    public record DeviceFile(String path, long size, String sha256) {
    }

    /**
     * What {@link #sync} did.
     *
     * @param sent      files sent (the device lacked their content)
     * @param unchanged files not sent (the device had them)
     * @param deleted   files deleted from the device
     */
    public record SyncReport(List<String> sent, List<String> unchanged, List<String> deleted) {
    }

    /** Runs {@code code} when the session ends, after its tasks were stopped and before the device is reset. */
    public void teardown(String code) {
        worker.tasks().teardownCode(code);
    }
}
