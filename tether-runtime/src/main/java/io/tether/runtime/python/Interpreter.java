package io.tether.runtime.python;

import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How to launch the worker: the interpreter, its flags and the worker's arguments.
 *
 * <p>Flags, chosen for a fast and predictable cold start. Medians of 40 starts on the
 * build machine (Python 3.11, 2 CPUs, shared with other builds, so ±2 ms): bare
 * {@code python3 -c pass} 13.6 ms, with {@code -S} 9.6 ms; this worker from spawn to hello
 * 24.8 ms with no flags, 19.8 ms with {@code -S}, 18.4 ms with {@code -S -E -B}, 23.7 ms
 * with {@code -X frozen_modules=off} (so the default {@code on} stays), {@code -u} no
 * measurable change (the worker makes its own line-buffered streams) and {@code -I}
 * 26.9 ms. The worker's own imports are kept to C modules (see worker.py), which saved
 * about 18 ms more. So:
 * <ul>
 *   <li>{@code -S}: no {@code site}: no site-packages scan and no {@code .pth} files,
 *       which can run arbitrary code at start (a {@code .pth} that imports a module costs
 *       tens of milliseconds). Users add their packages with
 *       {@link PythonRuntime.Builder#pythonPath}.</li>
 *   <li>{@code -E}: ignore {@code PYTHON*} variables of the server's environment
 *       ({@code PYTHONSTARTUP}, {@code PYTHONPATH}, {@code PYTHONHOME}…), so a worker does
 *       not depend on how the JVM happened to be started.</li>
 *   <li>{@code -B}: no {@code __pycache__} directories written into the session's working
 *       directory when user code imports its own modules.</li>
 * </ul>
 */
record Interpreter(Path executable, List<Path> pythonPath, Duration startTimeout) {

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

    /** The fork server, listening on {@code socket}; {@code sandbox} as for {@link #command}. */
    List<String> forkServerCommand(Path script, String sandbox, Path socket) {
        List<String> cmd = flags(script, sandbox);
        cmd.add("--fork-server");
        cmd.add(socket.toString());
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
        cmd.add("-S");
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
     * installation (when not under {@code /usr}), the extra {@code sys.path} entries and
     * the directory of Tether's programs.
     */
    List<Path> readOnlyPaths(Path scripts) {
        List<Path> paths = new ArrayList<>();
        paths.add(scripts);
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
