package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.SetOnce;
import io.tether.TetherException;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.WorkerEnvironment;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.CgroupSlot;
import io.tether.runtime.sandbox.Sandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code python} runtime: each worker is its own CPython process, forked from a
 * pre-warmed fork server or started cold from the system interpreter, running Tether's
 * worker program (standard library only).
 *
 * <p>A worker keeps one namespace for its life (variables, functions, classes and imports
 * persist), returns a trailing expression's value like a REPL ({@code text/plain} is its
 * {@code repr}, {@code application/json} is added when the value is plain JSON data),
 * streams stdout and stderr while code runs — including what is written at the OS level
 * by {@code os.write}, {@code os.system} or child processes, which can never disturb the
 * control channel — and stops on interrupt (pure Python loops and blocking sleeps) keeping
 * its state. A timeout interrupts; if the code does not stop within the limits' kill grace
 * the process is killed and the worker is {@code DEAD} until {@link Worker#restart}. A
 * crashed or closed worker leaves no process behind: the worker leads its own process
 * group, and everything in it is killed. Resource limits (memory, CPU time, processes,
 * file size) are applied with {@code setrlimit} before any user code runs; the worker starts
 * in its own private directory ({@link Worker#workingDirectory()}, under the
 * {@linkplain Builder#workRoot work root}), which is first on {@code sys.path}.
 *
 * <p><b>Packages.</b> A worker sees the interpreter's installed packages, as {@code python3}
 * at a shell does: the system's site-packages (Debian's {@code /usr/lib/python3/dist-packages})
 * or, when {@link Builder#executable} is a virtualenv's {@code bin/python}, that
 * virtualenv's. {@link Builder#pythonPath} adds directories. The interpreter runs with
 * {@code -E -B}: no {@code PYTHON*} environment variables, no bytecode files in the working
 * directory. The fork server imports {@code site} once; its workers inherit it.
 *
 * <p><b>Environment.</b> Workers get none of the JVM's environment: {@code PATH} (the
 * interpreter's directory, then {@code /usr/local/bin:/usr/bin:/bin}), {@code LANG=C.UTF-8},
 * and what {@link Builder#workerEnvironment} names.
 *
 * <p><b>Fork server</b> ({@link Builder#forkServer}, on by default on Linux): the first
 * {@link #start} launches one pre-warmed Python parent that has loaded the worker program
 * and frozen its heap ({@code gc.freeze()}) and keeps one child forked in advance; from
 * then on each worker is such a child, ready in a millisecond or two instead of a cold
 * start (a few milliseconds when starts come faster than the server forks), and shares the
 * server's memory copy-on-write. A
 * forked worker behaves exactly like a cold one (own process group, limits, working
 * directory, output capture); its parent is the fork server, not the JVM, and it lives on
 * if the server dies. When the server dies it is started again on the next {@link #start}
 * (that start is cold); when it cannot be started, or died more than
 * {@value #MAX_FORK_SERVER_RESTARTS} times within {@link #FORK_SERVER_FAILURE_WINDOW} (a
 * server that dies now and then, say killed for memory once a week, is always started
 * again), the runtime falls back to cold starts for good and logs a warning once
 * ({@link #mode()} then says {@link Mode#COLD}). Forked workers share the server's hash
 * seed and any state it had at fork time.
 *
 * <p>Thread-safe; {@link #start} blocks until the worker said hello (a cold start is about
 * 20–40 ms, a forked worker 1–3 ms; the first start with a fork server also starts the
 * server, about 40 ms). If the JVM dies, its workers notice the end of their control
 * channel and kill themselves and their process group, and the fork server exits (and its
 * spare with it).
 */
public final class PythonRuntime implements SessionRuntime {
    /** The interpreter used when none is set. */
    public static final Path DEFAULT_EXECUTABLE = Path.of("/usr/bin/python3");
    /** How long a worker may take to start when nothing else is set. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(10);

    /** How often a fork server that died is started again within the window before the runtime stays cold. */
    static final int MAX_FORK_SERVER_RESTARTS = 3;
    /** The time within which more than {@link #MAX_FORK_SERVER_RESTARTS} deaths make the runtime give up its fork server. */
    static final Duration FORK_SERVER_FAILURE_WINDOW = Duration.ofMinutes(10);
    private static final Logger log = LoggerFactory.getLogger(PythonRuntime.class);

    /** How a runtime starts its workers. */
    public enum Mode {
        /** Forked from a pre-warmed fork server. */
        FORK_SERVER,
        /** Each started cold from the interpreter. */
        COLD
    }

    private final Interpreter interpreter;
    private final Sandbox sandbox;
    private final Path workRoot;
    private final boolean forkServerEnabled;
    /**
     * Not a monitor: starting the fork server spawns a process and waits for it, on the
     * thread of a session create, which may be virtual (it must not keep its carrier).
     */
    private final ReentrantLock forkLock = new ReentrantLock();
    private ForkServer forkServer;          // guarded by forkLock; null until the first start
    private final List<String> preload;     // modules the fork server imports once
    private final ArrayDeque<Long> forkServerDeaths = new ArrayDeque<>(); // nanoTime of each within the window; guarded by forkLock
    private volatile LongSupplier nanoClock = System::nanoTime;
    private volatile boolean forkServerFailed;
    private volatile boolean closed;

    private PythonRuntime(Interpreter interpreter, Sandbox sandbox, Path workRoot, boolean forkServerEnabled,
                          List<String> preload) {
        this.interpreter = interpreter;
        this.preload = preload;
        this.sandbox = sandbox;
        this.workRoot = workRoot;
        this.forkServerEnabled = forkServerEnabled;
    }

    /**
     * A builder with the defaults: {@code /usr/bin/python3}, no extra path, 10 s start timeout,
     * fork server on Linux.
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "python";
    }

    /** The interpreter workers run. */
    public Path executable() {
        return interpreter.executable();
    }

    /**
     * How workers are started now: {@link Mode#FORK_SERVER} when the fork server is enabled
     * and has not failed for good (also before the first start launched it), else
     * {@link Mode#COLD}.
     */
    public Mode mode() {
        return forkServerEnabled && !forkServerFailed ? Mode.FORK_SERVER : Mode.COLD;
    }

    /** The live fork server's pid, or -1. For tests and diagnostics. */
    /** For tests: the clock the window of fork-server deaths is measured on (nanoseconds). */
    void nanoClock(LongSupplier clock) {
        this.nanoClock = clock;
    }

    long forkServerPid() {
        forkLock.lock();
        try {
            return forkServer != null && forkServer.isAlive() ? forkServer.pid() : -1;
        } finally {
            forkLock.unlock();
        }
    }

    /** The live fork server's socket, or null. For tests and diagnostics. */
    Path forkServerSocket() {
        forkLock.lock();
        try {
            return forkServer != null && forkServer.isAlive() ? forkServer.socketPath() : null;
        } finally {
            forkLock.unlock();
        }
    }

    /**
     * Starts a fresh interpreter process and waits until it is ready.
     *
     * @throws TetherException {@code runtime_unavailable} when the interpreter cannot be
     *     started, fails while starting (for example a limit too small for it to run), does
     *     not answer within the start timeout, or this runtime is closed
     */
    @Override
    public Worker start(WorkerOptions options) {
        Objects.requireNonNull(options, "options");
        if (closed) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "the python runtime is closed");
        }
        sandbox.checkNetwork(options.network());
        return PythonWorker.start(this::spawn, workRoot, options);
    }

    /** The sandbox its workers run in. */
    public Sandbox sandbox() {
        return sandbox;
    }

    private PythonProcess spawn(WorkerOptions options, Path directory, Consumer<PythonProcess> onDeath) {
        sandbox.handOver(directory);
        CgroupSlot slot = sandbox.newSlot(options.limits().memoryBytes(), options.limits().maxProcesses());
        Consumer<PythonProcess> died = slot == null ? onDeath : p -> {
            slot.close(); // takes whatever the session left with it
            onDeath.accept(p);
        };
        PythonProcess p = null;
        try {
            // Into the cgroup before any user code runs (nothing forks meanwhile).
            p = start(options, directory, died, slot == null ? null : pid -> Sandbox.join(slot, pid));
            return p;
        } catch (RuntimeException e) {
            if (p != null) {
                p.kill("its cgroup could not be made");
            }
            if (slot != null) {
                slot.close();
            }
            throw e;
        }
    }

    /**
     * Starts a worker process; {@code prepare} (null for nothing) gets its pid before it
     * answers its first request (for a forked one, while it gets ready).
     */
    private PythonProcess start(WorkerOptions options, Path directory, Consumer<PythonProcess> onDeath,
                                LongConsumer prepare) {
        // Forked workers never have network (each spare is made in a namespace without it):
        // a session that asks for it gets a cold worker whose jail keeps the network.
        ForkServer server = options.network() ? null : forkServer();
        if (server != null) {
            try {
                return server.fork(options, directory, onDeath, prepare);
            } catch (ForkServer.Unavailable e) {
                serverFailed(server, e);
            }
        }
        PythonProcess p = ColdStart.start(interpreter, sandbox, options, directory, onDeath);
        try {
            if (prepare != null) {
                prepare.accept(p.pid());
            }
        } catch (RuntimeException e) {
            p.kill("it could not be prepared");
            throw e;
        }
        return p;
    }

    /** The live fork server, started or restarted as needed; null when workers start cold. */
    private ForkServer forkServer() {
        if (!forkServerEnabled || forkServerFailed) {
            return null;
        }
        forkLock.lock();
        try {
            if (closed || forkServerFailed) {
                return null;
            }
            if (forkServer != null && forkServer.isAlive()) {
                return forkServer;
            }
            if (forkServer != null) {
                serverFailed(forkServer, null);
                return null; // this start is cold; the next one starts a new server
            }
            try {
                forkServer = ForkServer.start(interpreter, WorkerScript.path(), sandbox, workRoot, preload);
                return forkServer;
            } catch (ForkServer.Unavailable e) {
                forkServerFailed = true;
                log.warn("the Python fork server cannot start, workers start cold from now on: {}",
                        e.getMessage());
                return null;
            }
        } finally {
            forkLock.unlock();
        }
    }

    private void serverFailed(ForkServer server, ForkServer.Unavailable cause) {
        forkLock.lock();
        try {
            if (forkServer != server) {
                return;
            }
            forkServer = null;
            server.close();
            long now = nanoClock.getAsLong();
            forkServerDeaths.addLast(now);
            while (now - forkServerDeaths.peekFirst() > FORK_SERVER_FAILURE_WINDOW.toNanos()) {
                forkServerDeaths.removeFirst();
            }
            if (forkServerDeaths.size() > MAX_FORK_SERVER_RESTARTS) {
                forkServerFailed = true;
                log.warn("the Python fork server {} failed {} times within {}, workers start cold from now on: {}",
                        server.pid(), forkServerDeaths.size(), FORK_SERVER_FAILURE_WINDOW,
                        cause != null ? cause.getMessage() : "it exited");
            } else {
                log.warn("the Python fork server {} failed, starting a new one on the next start: {}",
                        server.pid(), cause != null ? cause.getMessage() : "it exited");
            }
        } finally {
            forkLock.unlock();
        }
    }

    /**
     * Refuses further starts and stops the fork server (waiting up to about 2 s). Workers
     * already started belong to their sessions and stay alive until they are closed; a
     * restart of one of them is a cold start. Idempotent.
     */
    @Override
    public void close() {
        ForkServer server;
        forkLock.lock();
        try {
            closed = true;
            server = forkServer;
            forkServer = null;
        } finally {
            forkLock.unlock();
        }
        if (server != null) {
            server.close();
        }
    }

    @Override
    public String toString() {
        return "PythonRuntime[" + interpreter.executable() + ", " + mode() + "]";
    }

    /**
     * Configures a {@link PythonRuntime}. Not thread-safe; each option may be set once.
     */
    public static final class Builder {
        private static final java.util.regex.Pattern MODULE_NAME =
                java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
        private Path executable;
        private List<Path> pythonPath;
        private Map<String, String> workerEnvironment;
        private Duration startTimeout;
        private Path workRoot;
        private Boolean forkServer;
        private Sandbox sandbox;
        private List<String> preload;

        private Builder() {
        }

        /**
         * Modules the fork server imports once, before it forks any worker, e.g.
         * {@code numpy, pandas, matplotlib.pyplot}: every forked worker has them already
         * (shared copy-on-write), so a session's {@code import pandas} costs nothing. With
         * the sandbox the server imports them in its jail, before any session's rules apply.
         * A module that cannot be imported is logged and skipped (sessions import it
         * themselves, and see its error then). Cold workers (no fork server) import
         * nothing ahead. Default none.
         *
         * @throws IllegalArgumentException when an entry is not a dotted module name
         * @throws IllegalStateException when set twice
         */
        public Builder preload(List<String> modules) {
            Objects.requireNonNull(modules, "modules");
            SetOnce.check(this.preload, "preload");
            for (String m : modules) {
                if (m == null || !MODULE_NAME.matcher(m).matches()) {
                    throw new IllegalArgumentException("not a module name to preload: " + m);
                }
            }
            this.preload = List.copyOf(modules);
            return this;
        }

        /**
         * The sandbox workers run in (see {@link Sandbox}). Default {@link Sandbox#off()}: an
         * embedding application chooses; the server's default is {@code auto}.
         *
         * @throws IllegalStateException when set twice
         */
        public Builder sandbox(Sandbox sandbox) {
            Objects.requireNonNull(sandbox, "sandbox");
            SetOnce.check(this.sandbox, "sandbox");
            this.sandbox = sandbox;
            return this;
        }

        /**
         * Whether workers are forked from a pre-warmed fork server (see {@link PythonRuntime})
         * instead of each started cold. Default {@code true} on Linux, {@code false} elsewhere.
         * When the server cannot run, the runtime falls back to cold starts and logs a warning.
         *
         * @throws IllegalStateException when set twice
         */
        public Builder forkServer(boolean enabled) {
            SetOnce.check(this.forkServer, "forkServer");
            this.forkServer = enabled;
            return this;
        }

        /**
         * The interpreter to run, by absolute path. Default {@code /usr/bin/python3}.
         *
         * @throws IllegalArgumentException when the path is not absolute
         * @throws IllegalStateException when set twice
         */
        public Builder executable(Path executable) {
            Objects.requireNonNull(executable, "executable");
            SetOnce.check(this.executable, "executable");
            if (!executable.isAbsolute()) {
                throw new IllegalArgumentException("the Python executable must be an absolute path, not " + executable);
            }
            this.executable = executable;
            return this;
        }

        /**
         * Directories put on every worker's {@code sys.path}, after the working directory and
         * before the standard library and the interpreter's site-packages. Default none.
         *
         * @throws IllegalArgumentException when an entry is not absolute
         * @throws IllegalStateException when set twice
         */
        public Builder pythonPath(List<Path> directories) {
            Objects.requireNonNull(directories, "directories");
            SetOnce.check(this.pythonPath, "pythonPath");
            List<Path> copy = new ArrayList<>(directories.size());
            for (Path p : directories) {
                Objects.requireNonNull(p, "pythonPath entry");
                if (!p.isAbsolute()) {
                    throw new IllegalArgumentException("pythonPath entries must be absolute, not " + p);
                }
                copy.add(p);
            }
            this.pythonPath = List.copyOf(copy);
            return this;
        }

        /**
         * Environment variables workers get besides {@code PATH} and {@code LANG} (see
         * {@link PythonRuntime}): each entry is either {@code NAME}, which passes the JVM's
         * value of that variable (when it has one), or {@code NAME=value}, which sets it (and
         * may override {@code PATH} or {@code LANG}). {@code PYTHON*} variables have no
         * effect (workers run with {@code -E}). Default none: nothing of the JVM's
         * environment, which is the operator's (tokens, credentials, host layout).
         *
         * @throws IllegalArgumentException when a name is not a valid variable name
         *     ({@code [A-Za-z_][A-Za-z0-9_]*})
         * @throws IllegalStateException when set twice
         */
        public Builder workerEnvironment(List<String> entries) {
            Objects.requireNonNull(entries, "entries");
            SetOnce.check(this.workerEnvironment, "workerEnvironment");
            this.workerEnvironment = WorkerEnvironment.of(entries);
            return this;
        }

        /**
         * How long {@link PythonRuntime#start} waits for a worker to be ready. Default 10 s.
         *
         * @throws IllegalArgumentException when not positive
         * @throws IllegalStateException when set twice
         */
        public Builder startTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            SetOnce.check(this.startTimeout, "startTimeout");
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("startTimeout must be positive, not " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Where each worker gets its own private working directory (deleted with the worker).
         * Default {@link WorkDirectories#defaultRoot()}.
         *
         * @throws IllegalStateException when set twice
         */
        public Builder workRoot(Path root) {
            Objects.requireNonNull(root, "root");
            SetOnce.check(this.workRoot, "workRoot");
            this.workRoot = root.toAbsolutePath();
            return this;
        }

        /**
         * The runtime. Runs the interpreter once to check it (about 20 ms).
         *
         * @throws TetherException {@code runtime_unavailable} when the executable does not
         *     exist, is not an executable regular file, or is not a Python 3.8 or later that
         *     starts with the configured environment
         */
        public PythonRuntime build() {
            Path exe = executable != null ? executable : DEFAULT_EXECUTABLE;
            Interpreter interpreter = new Interpreter(exe, pythonPath != null ? pythonPath : List.of(),
                    startTimeout != null ? startTimeout : DEFAULT_START_TIMEOUT,
                    workerEnvironment != null ? workerEnvironment : Map.of());
            checkInterpreter(interpreter);
            Sandbox confined = sandbox != null ? sandbox : Sandbox.off();
            if (confined.enabled()) {
                refuseUnderTmp(interpreter);
            }
            return new PythonRuntime(interpreter,
                    confined,
                    workRoot != null ? workRoot : WorkDirectories.defaultRoot(),
                    forkServer != null ? forkServer : isLinux(),
                    preload != null ? preload : List.of());
        }

        /**
         * A sandboxed session has a private, empty {@code /tmp}: an interpreter, virtualenv or
         * extra path under {@code /tmp} would be missing in every session, so it is refused here
         * with what to do rather than failing each session's imports.
         */
        private static void refuseUnderTmp(Interpreter interpreter) {
            Path tmp = Path.of("/tmp");
            for (Path p : interpreter.readOnlyPaths(Path.of("/"))) {
                if (p.toAbsolutePath().normalize().startsWith(tmp)) {
                    throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, p + " (the Python interpreter, its "
                            + "virtualenv or a python_path entry) is under /tmp, which every sandboxed session sees "
                            + "as its own empty /tmp: move it elsewhere, e.g. under /opt or /var/tmp");
                }
            }
        }

        /**
         * Runs the interpreter once, as workers will (flags and environment), so that a bad
         * {@code python} setting fails here, at start-up, with what it said, rather than at
         * every session's start. About 20 ms.
         */
        private static void checkInterpreter(Interpreter interpreter) {
            Path exe = interpreter.executable();
            if (!Files.isRegularFile(exe) || !Files.isExecutable(exe)) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                        "no executable Python interpreter at " + exe);
            }
            ProcessBuilder pb = new ProcessBuilder(exe.toString(), "-E", "-c",
                    "import sys; sys.stdout.write('%d.%d' % sys.version_info[:2])")
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            interpreter.applyEnvironment(pb);
            String said;
            int status;
            try {
                Process p = pb.start();
                byte[] out = p.getInputStream().readNBytes(4096);
                if (!p.waitFor(interpreter.startTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, exe + " did not answer within "
                            + interpreter.startTimeout() + " when asked for its version");
                }
                said = new String(out, StandardCharsets.UTF_8).strip();
                status = p.exitValue();
            } catch (IOException e) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot run " + exe + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "interrupted while checking " + exe, e);
            }
            if (status != 0 || !said.matches("3\\.\\d+") || Integer.parseInt(said.substring(2)) < 8) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, exe + " is not a Python 3.8 or later"
                        + " interpreter (asked for its version it exited with " + status + " and wrote: "
                        + (said.isEmpty() ? "nothing" : said.length() > 300 ? said.substring(0, 300) + "…" : said) + ")");
            }
        }

        private static boolean isLinux() {
            return System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux");
        }
    }
}
