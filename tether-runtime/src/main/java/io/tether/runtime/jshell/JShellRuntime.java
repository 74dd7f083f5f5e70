package io.tether.runtime.jshell;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.tether.ErrorCode;
import io.tether.SetOnce;
import io.tether.TetherException;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerEnvironment;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.Sandbox;

/**
 * The {@code jshell} runtime: every worker is a JShell in a JVM of its own, so a session's
 * variables, methods, classes and imports persist between executions and one session's
 * code cannot see or crash another's.
 *
 * <p>Inside the worker JVM the JShell uses its {@code local} execution engine: code runs in
 * that JVM, the one the parent talks to over a Unix-domain socket. A trivial evaluation is
 * answered in a few milliseconds (the stock remote engine pays a loopback round trip to a
 * third JVM on every evaluation).
 *
 * <p>Execution results: the value of a trailing expression as {@code text/plain} (as
 * JShell prints it) and, for numbers, booleans, chars and strings, as
 * {@code application/json}; {@code System.out} and {@code System.err} are captured and
 * streamed; an exception becomes an error named after its class with the user's stack
 * lines; code that does not compile becomes an error named {@code CompilationError} with
 * javac's diagnostics. The default imports of the {@code jshell} tool
 * ({@code java.util.*}, {@code java.io.*}, …) are in place.
 *
 * <p>Sandbox ({@link Builder#sandbox}): when its jail is in force, every worker JVM runs in
 * a bubblewrap of its own, as a cold Python worker does: its own user, PID, mount, IPC and
 * network namespaces, the system's files, the JDK and the agent read-only, its working
 * directory read-write as {@code /tether/work/<name>}, nothing else of the host; as the
 * unprivileged user when Tether runs as root. The session sees only its own processes, and
 * killing the worker kills every process in its namespace. Paths named in
 * {@link Builder#jvmOptions} (an agent, a file) are not mounted.
 *
 * <p>Environment: a worker JVM gets {@code PATH}, {@code LANG=C.UTF-8} and what
 * {@link Builder#workerEnvironment} names, nothing else of this JVM's environment.
 *
 * <p>Limits: {@link WorkerOptions.WorkerLimits#memoryBytes()} becomes the heap limit
 * ({@code -Xmx}, half of it, at least 64 MiB): a JVM reserves far more address space than
 * it uses, so an address-space limit would stop it from starting. In the jail,
 * {@link WorkerOptions.WorkerLimits#maxProcesses()} is applied with {@code prlimit} and counts
 * the JVM's threads: measured on 2 CPUs, 16 idle and 18 while evaluating, plus bubblewrap's
 * init; below 18 the JVM cannot start or evaluate. More CPUs mean more JIT compiler
 * threads, so keep it at 64 or more (the server's default is 256). Without the jail it is
 * not applied (it would count every process of the server's user). The CPU-time and file-size
 * limits are not applied. Interrupting stops the running snippet with
 * {@code JShell.stop()} and keeps the state; a timeout stops it too, and kills the JVM when
 * it has not stopped after the kill grace (the worker is then dead until restarted).
 *
 * <p>Thread-safe and immutable; {@link #start} blocks while the JVM starts (a few hundred
 * milliseconds). {@link #close} does nothing: every worker is closed by its owner.
 */
public final class JShellRuntime implements SessionRuntime {
    /**
     * Options the worker JVMs start with unless {@link Builder#jvmOptions} replaces them:
     * the serial GC (a worker is one busy thread; it keeps the footprint small) and no
     * perf-data file in /tmp.
     *
     * @implNote Measured on 2 cores with JDK 25: C1 only ({@code -XX:TieredStopAtLevel=1})
     *     starts a worker in about 1.0 s instead of 1.6 s and saves about 50 MB RSS, but
     *     every evaluation runs javac, and javac compiled by C1 only makes the median
     *     evaluation about 24 ms instead of 18 ms. Start time is hidden by a warm pool;
     *     evaluation time is not, so C2 stays on.
     */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:-UsePerfData");

    private final JShellLauncher launcher;
    private final Path workRoot;
    private final Sandbox sandbox;

    private JShellRuntime(JShellLauncher launcher, Path workRoot, Sandbox sandbox) {
        this.launcher = launcher;
        this.workRoot = workRoot;
        this.sandbox = sandbox;
    }

    /** A runtime with the defaults: the JVM this one runs on, {@link #DEFAULT_JVM_OPTIONS}. */
    public static JShellRuntime create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The sandbox its workers run in. */
    public Sandbox sandbox() {
        return sandbox;
    }

    @Override
    public String name() {
        return "jshell";
    }

    /**
     * Starts a JShell JVM in a fresh private working directory and waits until it is ready.
     *
     * @throws TetherException {@code runtime_unavailable} when the JVM cannot start (the Java
     *     installation has no {@code jdk.jshell} module, the start timeout passed, …)
     */
    @Override
    public Worker start(WorkerOptions options) {
        Objects.requireNonNull(options, "options");
        sandbox.checkNetwork(options.network());
        return new JShellWorker(launcher, workRoot, options);
    }

    /** Nothing to stop: workers belong to their sessions. */
    @Override
    public void close() {
    }

    /**
     * Configures a {@link JShellRuntime}. Not thread-safe; each option may be set once.
     */
    public static final class Builder {
        private Path java;
        private List<String> jvmOptions;
        private Path workRoot;
        private Duration startTimeout;
        private Sandbox sandbox;
        private Map<String, String> environment;

        private Builder() {
        }

        /**
         * Environment variables the worker JVMs get besides {@code PATH} and {@code LANG}:
         * each entry is either {@code NAME}, which passes this JVM's value of that variable
         * (when it has one), or {@code NAME=value}, which sets it (and may override
         * {@code PATH} or {@code LANG}). Default none: nothing of this JVM's environment,
         * which is the operator's (tokens, credentials, host layout), since a session's code
         * reads it with {@code System.getenv()}.
         *
         * @throws IllegalArgumentException when a name is not a valid variable name
         *     ({@code [A-Za-z_][A-Za-z0-9_]*})
         * @throws IllegalStateException when set twice
         */
        public Builder workerEnvironment(List<String> entries) {
            Objects.requireNonNull(entries, "entries");
            SetOnce.check(this.environment, "workerEnvironment");
            this.environment = WorkerEnvironment.of(entries);
            return this;
        }

        /**
         * The sandbox workers run in (see {@link JShellRuntime}); only its jail applies to a
         * JVM. Default {@link Sandbox#off()}: an embedding application chooses; the server's
         * default is {@code auto}.
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
         * The {@code java} executable of the worker JVMs; it needs the {@code jdk.jshell}
         * module (a full JDK). Default: the one this JVM runs on ({@code java.home}).
         */
        public Builder java(Path java) {
            SetOnce.check(this.java, "java");
            if (!Files.isExecutable(java)) {
                throw new IllegalArgumentException("not an executable file: " + java);
            }
            this.java = java;
            return this;
        }

        /**
         * The worker JVMs' options, replacing {@link #DEFAULT_JVM_OPTIONS}. {@code -Xmx} is
         * added after them from the worker's memory limit. Must not contain {@code -cp}.
         */
        public Builder jvmOptions(List<String> jvmOptions) {
            SetOnce.check(this.jvmOptions, "jvmOptions");
            List<String> copy = List.copyOf(jvmOptions);
            for (String option : copy) {
                if (option.equals("-cp") || option.equals("-classpath") || option.equals("--class-path")) {
                    throw new IllegalArgumentException("the class path is the agent's; got " + option);
                }
            }
            this.jvmOptions = copy;
            return this;
        }

        /** How long a worker JVM may take to get ready. Default 30 s; must be positive. */
        public Builder startTimeout(Duration startTimeout) {
            SetOnce.check(this.startTimeout, "startTimeout");
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
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
            workRoot = root.toAbsolutePath();
            return this;
        }

        /**
         * @throws TetherException {@code runtime_unavailable} when the default {@code java}
         *     executable cannot be found, or, with a jail, the JDK or the agent cannot be
         *     resolved to mount them
         */
        public JShellRuntime build() {
            Path executable = java;
            if (executable == null) {
                executable = Path.of(System.getProperty("java.home"), "bin",
                        System.getProperty("os.name").startsWith("Windows") ? "java.exe" : "java");
                if (!Files.isExecutable(executable)) {
                    throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "no java executable at " + executable);
                }
            }
            Sandbox s = sandbox == null ? Sandbox.off() : sandbox;
            return new JShellRuntime(new JShellLauncher(executable,
                    jvmOptions == null ? DEFAULT_JVM_OPTIONS : new ArrayList<>(jvmOptions),
                    startTimeout == null ? Duration.ofSeconds(30) : startTimeout,
                    AgentJail.of(s, executable, JShellLauncher.agentClassPath()),
                    environment == null ? Map.of() : environment),
                    workRoot == null ? WorkDirectories.defaultRoot() : workRoot, s);
        }
    }
}
