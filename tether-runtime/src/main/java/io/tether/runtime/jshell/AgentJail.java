package io.tether.runtime.jshell;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.CgroupSlot;
import io.tether.runtime.sandbox.Sandbox;
import org.slf4j.LoggerFactory;

/**
 * How an agent JVM runs in the sandbox's jail: a bubblewrap of its own with its own user,
 * PID, mount, IPC and network namespaces and {@code /proc}, as a cold Python worker does.
 * It sees the system's files, the JDK and the agent's class path read-only, its socket's
 * directory at the same path, and its working directory read-write at
 * {@link Sandbox#inJail}; nothing else of the host. When the monitor or the namespace's
 * init dies, the kernel kills everything left in the namespace, daemons included.
 *
 * <p>The process limit is applied inside the jail ({@code bwrap … -- prlimit --nproc=N:N --
 * java …}): there it counts the processes and threads of this one user namespace. Set
 * before bubblewrap, it would also become the ceiling of the namespace's creator on the
 * host, where every jail of the same user counts, so one session's threads would use up
 * another's limit. Immutable.
 */
final class AgentJail {
    /** util-linux's prlimit, which applies the process limit; looked for in the jail's /usr. */
    static final Path PRLIMIT = Path.of("/usr/bin/prlimit");
    private static final AtomicBoolean prlimitMissingLogged = new AtomicBoolean();

    private final Sandbox sandbox;
    private final Path java;
    private final List<Path> readOnly;
    private final boolean prlimit;

    private AgentJail(Sandbox sandbox, Path java, List<Path> readOnly, boolean prlimit) {
        this.sandbox = sandbox;
        this.java = java;
        this.readOnly = List.copyOf(readOnly);
        this.prlimit = prlimit;
    }

    /**
     * The jail of {@code sandbox} for agents started with {@code java}, or null when its
     * jail is not in force.
     *
     * @throws TetherException {@code runtime_unavailable} when {@code java} or the agent's
     *     class path cannot be resolved
     */
    static AgentJail of(Sandbox sandbox, Path java, Path agentClassPath) {
        if (!sandbox.has(Sandbox.Layer.JAIL)) {
            return null;
        }
        Path real;
        Path agent;
        try {
            // The jail has the JDK at its real place only: a symbolic link to it (such as
            // /usr/bin/java or a "current" link) might point outside what it mounts.
            real = java.toRealPath();
            agent = agentClassPath.toRealPath();
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot find " + java + " or the JShell agent's "
                    + "class path " + agentClassPath + " to mount them in the sandbox: " + e, e);
        }
        Path bin = real.getParent();
        if (bin == null || bin.getParent() == null) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, real + " is not in a JDK's bin directory");
        }
        return new AgentJail(sandbox, real, List.of(bin.getParent(), agent), Files.isExecutable(PRLIMIT));
    }

    /** The {@code java} executable as the jail sees it (symbolic links resolved). */
    Path java() {
        return java;
    }

    /** What the jail mounts read-only besides the system's files: the JDK and the agent. */
    List<Path> readOnly() {
        return readOnly;
    }

    /**
     * A cgroup for one JVM and everything it starts, with the worker's memory limit for the
     * whole tree and its process limit (threads count); null where the sandbox makes none.
     */
    CgroupSlot newSlot(WorkerOptions options) {
        return sandbox.newSlot(options.limits().memoryBytes(), options.limits().maxProcesses());
    }

    /** Makes {@code directory} (a working directory or the socket's) and {@code socket} the jail's user's. */
    void handOver(Path path) {
        sandbox.handOver(path);
    }

    /**
     * The command that runs {@code jvm} in the jail, with the working directory {@code
     * directory} and the socket directory {@code socketDirectory} mounted read-write, and at
     * most {@code maxProcesses} processes and threads (0 = unlimited).
     */
    List<String> command(List<String> jvm, Path directory, Path socketDirectory, int maxProcesses, boolean network) {
        List<String> program = new ArrayList<>();
        if (maxProcesses > 0) {
            if (prlimit) {
                program.addAll(List.of(PRLIMIT.toString(), "--nproc=" + maxProcesses + ":" + maxProcesses, "--"));
            } else if (prlimitMissingLogged.compareAndSet(false, true)) {
                LoggerFactory.getLogger(AgentJail.class).warn("{} (util-linux) is missing: JShell workers run "
                        + "without their process limit of {}", PRLIMIT, maxProcesses);
            }
        }
        program.addAll(jvm);
        Path inJail = sandbox.inJail(directory);
        return sandbox.command(readOnly, List.of(socketDirectory), directory, inJail, true, network, inJail, program);
    }
}
