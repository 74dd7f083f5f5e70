package io.tether.runtime.jshell;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.CgroupSlot;

/**
 * Builds the agent JVM's command line and starts it, in the sandbox's jail when there is
 * one. Immutable.
 *
 * @param java         the {@code java} executable
 * @param jvmOptions   options before the memory limit and the class path
 * @param startTimeout how long a JVM may take to get ready
 * @param jail         the jail the JVM runs in, or null for none
 * @param environment  the JVM's variables beyond the defaults (see {@link #environment()})
 */
record JShellLauncher(Path java, List<String> jvmOptions, Duration startTimeout, AgentJail jail,
                      Map<String, String> environment) {
    /** Where programs are looked up when the environment names no {@code PATH}. */
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    /** The heap gets this share of the memory limit; the rest is metaspace, code, stacks. */
    static final int HEAP_SHARE_PERCENT = 50;
    static final long MIN_HEAP = 64L << 20;

    JShellLauncher {
        jvmOptions = List.copyOf(jvmOptions);
        environment = Map.copyOf(environment);
    }

    /**
     * Everything the JVM's environment holds: {@code PATH={@value #DEFAULT_PATH}},
     * {@code LANG=C.UTF-8} (file names and {@code sun.jnu.encoding}), then
     * {@link #environment}, which overrides both. Nothing of the server's own environment
     * (its tokens, credentials) unless named there; the JVM needs none of it, since it is
     * started by absolute path and finds its JDK from that.
     */
    Map<String, String> jvmEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", DEFAULT_PATH);
        env.put("LANG", "C.UTF-8");
        env.putAll(environment);
        return env;
    }

    AgentProcess launch(WorkerOptions options, Path directory) {
        List<String> jvm = command(options);
        if (jail == null) {
            return AgentProcess.start(socket -> withSocket(jvm, socket), jvmEnvironment(), false, directory,
                    startTimeout);
        }
        jail.handOver(directory);
        // The JVM starts inside its cgroup (where there is one), so whatever it forks is too.
        CgroupSlot slot = jail.newSlot(options);
        try {
            AgentProcess agent = AgentProcess.start(socket -> {
                jail.handOver(socket.getParent());
                jail.handOver(socket);
                List<String> command = new ArrayList<>(slot == null ? List.of() : slot.joinCommandPrefix());
                command.addAll(jail.command(withSocket(jvm, socket), directory, socket.getParent(),
                        options.limits().maxProcesses(), options.network()));
                return command;
            }, jvmEnvironment(), true, directory, startTimeout);
            if (slot != null) {
                agent.onExit(slot::close); // takes whatever the JVM left behind with it
            }
            return agent;
        } catch (RuntimeException e) {
            if (slot != null) {
                slot.close();
            }
            throw e;
        }
    }

    /** The JVM's command line without the socket argument. */
    List<String> command(WorkerOptions options) {
        List<String> command = new ArrayList<>();
        command.add((jail == null ? java : jail.java()).toString());
        command.addAll(jvmOptions);
        long memory = options.limits().memoryBytes();
        if (memory > 0) {
            long heap = Math.max(MIN_HEAP, memory / 100 * HEAP_SHARE_PERCENT);
            command.add("-Xmx" + (heap >> 20) + "m");
        }
        command.add("-cp");
        command.add(agentClassPath().toString());
        command.add(JShellAgent.class.getName());
        return command;
    }

    private static List<String> withSocket(List<String> jvm, Path socket) {
        List<String> command = new ArrayList<>(jvm);
        command.add(socket.toString());
        return command;
    }

    /** Where the agent's class was loaded from: this module's jar or classes directory. */
    static Path agentClassPath() {
        CodeSource source = JShellAgent.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                    "cannot find the jar of " + JShellAgent.class.getName() + " to start a JShell JVM with");
        }
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                    "the JShell agent is not in a file: " + source.getLocation(), e);
        }
    }
}
