package io.tether.runtime.python;

import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How to launch the worker: the interpreter, its flags, its environment and the worker's
 * arguments.
 *
 * <p>Flags: {@code -E -B}. The interpreter imports {@code site}, so the installed packages
 * are importable as they are for {@code python3} at a shell (Debian's
 * {@code /usr/lib/python3/dist-packages}, or a virtualenv's {@code site-packages} when
 * {@code executable} is its {@code bin/python}). {@code site} costs a cold start its
 * directory scan and the {@code .pth} files of the site-packages (14 ms under heavy load on
 * the build machine; see docs/benchmarks.md); the fork server pays it once and its workers
 * inherit it. {@code -E}: no {@code PYTHON*} variables, so a worker does not
 * depend on how the JVM happened to be started (extra directories come from
 * {@link #pythonPath}). {@code -B}: no {@code __pycache__} directories written into the
 * session's working directory when user code imports its own modules.
 *
 * <p>Environment: nothing of the JVM's environment unless named in {@code environment}
 * (see {@link #workerEnvironment()}).
 *
 * @param environment the workers' variables beyond the defaults, by name (see
 *                    {@link PythonRuntime.Builder#workerEnvironment})
 */
record Interpreter(Path executable, List<Path> pythonPath, Duration startTimeout, Map<String, String> environment) {
    /** Where programs are looked up when the environment names no {@code PATH}. */
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    Interpreter {
        pythonPath = List.copyOf(pythonPath);
        environment = Map.copyOf(environment);
    }

    /**
     * The variables a worker (and the fork server) gets: {@code PATH} (the interpreter's
     * directory first when it is not a system one, as an activated virtualenv has it, then
     * {@value #DEFAULT_PATH}), {@code LANG=C.UTF-8}, then {@code environment}, which
     * overrides both.
     */
    Map<String, String> workerEnvironment() {
        Map<String, String> env = new HashMap<>();
        String dir = executable.getParent().toString();
        env.put("PATH", Arrays.asList(DEFAULT_PATH.split(":")).contains(dir) ? DEFAULT_PATH : dir + ":" + DEFAULT_PATH);
        env.put("LANG", "C.UTF-8");
        env.putAll(environment);
        return env;
    }

    /** Replaces {@code builder}'s environment (a copy of the JVM's) with {@link #workerEnvironment()}. */
    void applyEnvironment(ProcessBuilder builder) {
        Map<String, String> env = builder.environment();
        env.clear();
        env.putAll(workerEnvironment());
    }


    /**
     * A cold worker that connects to {@code socket}: {@code python3 -S -E -B worker.py
     * [--sandbox <config>] --connect <socket> <arguments>}.
     *
     * @param sandbox the {@code --sandbox} configuration, or null for none
     */
    List<String> command(Path script, String sandbox, Path socket, WorkerLimits limits) {
        List<String> cmd = flags(script, sandbox);
        cmd.add("--connect");
        cmd.add(socket.toString());
        cmd.addAll(arguments(limits));
        return cmd;
    }

    /**
     * The fork server, listening on {@code socket}, importing {@code preload} first (with
     * the extra {@code sys.path} entries, where such a module may live); {@code sandbox} as
     * for {@link #command}.
     */
    List<String> forkServerCommand(Path script, String sandbox, Path socket, List<String> preload) {
        List<String> cmd = flags(script, sandbox);
        cmd.add("--fork-server");
        cmd.add(socket.toString());
        if (!preload.isEmpty()) {
            cmd.add("--preload");
            cmd.add(String.join(",", preload));
            cmd.add(String.join(java.io.File.pathSeparator,
                    pythonPath.stream().map(Path::toString).toList()));
        }
        return cmd;
    }

    /** What a forked worker reads first: its working directory, then its arguments. */
    byte[] forkRequest(Path directory, WorkerLimits limits) {
        List<String> fields = new ArrayList<>();
        fields.add(directory.toString());
        fields.addAll(arguments(limits));
        byte[] body = String.join("\0", fields).getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    private List<String> flags(Path script, String sandbox) {
        List<String> cmd = new ArrayList<>(14 + pythonPath.size());
        cmd.add(executable.toString());
        cmd.add("-E");
        cmd.add("-B");
        cmd.add(script.toString());
        if (sandbox != null) {
            cmd.add("--sandbox");
            cmd.add(sandbox);
        }
        return cmd;
    }

    /**
     * What a jailed interpreter must be able to read besides the system's files: its own
     * installation (when not under {@code /usr}), the virtualenv its executable is in (the
     * directory above {@code bin/python}; a link to the system's interpreter, whose real
     * path is elsewhere), the extra {@code sys.path} entries and the directory of Tether's
     * programs. Nothing else new: site-packages are under one of those.
     */
    List<Path> readOnlyPaths(Path scripts) {
        List<Path> paths = new ArrayList<>();
        paths.add(scripts);
        Path venv = executable.getParent().getParent();
        if (venv != null && Files.isRegularFile(venv.resolve("pyvenv.cfg"))) {
            paths.add(venv);
        }
        try {
            Path prefix = executable.toRealPath().getParent().getParent();
            if (prefix != null) {
                paths.add(prefix);
            }
        } catch (java.io.IOException e) {
            // checked at build; the jail then fails to start and says why
        }
        paths.addAll(pythonPath);
        return paths;
    }

    /** Output cap, the four limits (0 = unlimited), then the extra {@code sys.path} entries. */
    private List<String> arguments(WorkerLimits limits) {
        List<String> args = new ArrayList<>(5 + pythonPath.size());
        args.add(Long.toString(limits.maxOutputBytes()));
        args.add(Long.toString(limits.memoryBytes()));
        args.add(Long.toString(cpuSeconds(limits.cpuTime())));
        args.add(Integer.toString(limits.maxProcesses()));
        args.add(Long.toString(limits.maxFileBytes()));
        for (Path p : pythonPath) {
            args.add(p.toString());
        }
        return args;
    }

    /**
     * RLIMIT_CPU, a backstop for each process: the limit rounded up to whole seconds, plus one
     * (never 0, which means unlimited). The limit proper is the session's total, which the
     * session manager checks every limit check interval and ends the session for with its
     * reason; the kernel's signal, a crash, comes only where nothing checks in time.
     */
    private static long cpuSeconds(Duration cpu) {
        if (cpu == null || cpu.isZero() || cpu.isNegative()) {
            return 0;
        }
        return cpu.getSeconds() + (cpu.getNano() > 0 ? 1 : 0) + 1;
    }
}
