package io.tether.runtime.jshell;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.WorkerOptions;

/**
 * Builds the agent JVM's command line and starts it. Immutable.
 *
 * @param java         the {@code java} executable
 * @param jvmOptions   options before the memory limit and the class path
 * @param startTimeout how long a JVM may take to get ready
 */
record JShellLauncher(Path java, List<String> jvmOptions, Duration startTimeout) {
    /** The heap gets this share of the memory limit; the rest is metaspace, code, stacks. */
    static final int HEAP_SHARE_PERCENT = 50;
    static final long MIN_HEAP = 64L << 20;

    JShellLauncher {
        jvmOptions = List.copyOf(jvmOptions);
    }

    AgentProcess launch(WorkerOptions options, Path directory) {
        return AgentProcess.start(command(options), directory, startTimeout);
    }

    List<String> command(WorkerOptions options) {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
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
