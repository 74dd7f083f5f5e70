package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.WorkerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The {@code python} runtime: each worker is its own CPython process, started cold from
 * the system interpreter, running Tether's worker program (standard library only).
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
 * <p>The interpreter runs with {@code -S -E -B}: no {@code site} module (faster start, and no
 * {@code .pth} code), no {@code PYTHON*} environment variables, no bytecode files in the
 * working directory. Third-party packages are therefore not importable by default: list
 * their directories (e.g. a virtual environment's {@code site-packages}) with
 * {@link Builder#pythonPath}. The rest of the JVM's environment is inherited.
 *
 * <p>Thread-safe and immutable; {@link #start} blocks until the worker said hello (a cold
 * start is about 20–40 ms). If the JVM dies, its workers notice the end of their control
 * stream and kill themselves and their process group.
 */
public final class PythonRuntime implements SessionRuntime {
    /** The interpreter used when none is set. */
    public static final Path DEFAULT_EXECUTABLE = Path.of("/usr/bin/python3");
    /** How long a worker may take to start when nothing else is set. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(10);

    private final Interpreter interpreter;
    private final Path workRoot;
    private volatile boolean closed;

    private PythonRuntime(Interpreter interpreter, Path workRoot) {
        this.interpreter = interpreter;
        this.workRoot = workRoot;
    }

    /** A builder with the defaults: {@code /usr/bin/python3}, no extra path, 10 s start timeout. */
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
        return PythonWorker.start(interpreter, workRoot, options);
    }

    /**
     * Refuses further starts. Workers already started belong to their sessions and stay
     * alive until they are closed. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "PythonRuntime[" + interpreter.executable() + "]";
    }

    /**
     * Configures a {@link PythonRuntime}. Not thread-safe; each option may be set once.
     */
    public static final class Builder {
        private Path executable;
        private List<Path> pythonPath;
        private Duration startTimeout;
        private Path workRoot;

        private Builder() {
        }

        /**
         * The interpreter to run, by absolute path. Default {@code /usr/bin/python3}.
         *
         * @throws IllegalArgumentException when the path is not absolute
         * @throws IllegalStateException when set twice
         */
        public Builder executable(Path executable) {
            Objects.requireNonNull(executable, "executable");
            if (this.executable != null) {
                throw new IllegalStateException("executable was already set to " + this.executable);
            }
            if (!executable.isAbsolute()) {
                throw new IllegalArgumentException("the Python executable must be an absolute path, not " + executable);
            }
            this.executable = executable;
            return this;
        }

        /**
         * Directories put on every worker's {@code sys.path}, after the working directory and
         * before the standard library — the way to reach installed packages, since workers run
         * without {@code site}. Default none.
         *
         * @throws IllegalArgumentException when an entry is not absolute
         * @throws IllegalStateException when set twice
         */
        public Builder pythonPath(List<Path> directories) {
            Objects.requireNonNull(directories, "directories");
            if (this.pythonPath != null) {
                throw new IllegalStateException("pythonPath was already set to " + this.pythonPath);
            }
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
         * How long {@link PythonRuntime#start} waits for a worker to be ready. Default 10 s.
         *
         * @throws IllegalArgumentException when not positive
         * @throws IllegalStateException when set twice
         */
        public Builder startTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (this.startTimeout != null) {
                throw new IllegalStateException("startTimeout was already set to " + this.startTimeout);
            }
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
            if (this.workRoot != null) {
                throw new IllegalStateException("workRoot was already set to " + this.workRoot);
            }
            this.workRoot = root.toAbsolutePath();
            return this;
        }

        /**
         * The runtime.
         *
         * @throws TetherException {@code runtime_unavailable} when the executable does not
         *     exist or is not an executable regular file
         */
        public PythonRuntime build() {
            Path exe = executable != null ? executable : DEFAULT_EXECUTABLE;
            if (!Files.isRegularFile(exe) || !Files.isExecutable(exe)) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                        "no executable Python interpreter at " + exe);
            }
            return new PythonRuntime(new Interpreter(exe, pythonPath != null ? pythonPath : List.of(),
                    startTimeout != null ? startTimeout : DEFAULT_START_TIMEOUT),
                    workRoot != null ? workRoot : WorkDirectories.defaultRoot());
        }
    }
}
