package io.tether.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A server the harness started as a child process, its output in a log file. {@link #stop}
 * ends it and everything it started: also processes that left its tree (Jupyter starts
 * kernels in their own session, so they survive their server) are remembered and killed.
 *
 * <p>Not thread-safe; one owner.
 */
final class ServerProcess implements AutoCloseable {
    private static final Duration GRACE = Duration.ofSeconds(30);

    private final String name;
    private final Process process;
    private final Path log;
    /** Every process ever seen below the server, and pids handed in by {@link #adopt}. */
    private final Set<Long> seen = new LinkedHashSet<>();
    private boolean stopped;
    /** {@link System#nanoTime} just before the process was started, and when its owner saw it ready (0: not yet). */
    private final long startedNanos;
    private long readyNanos;

    private ServerProcess(String name, Process process, Path log, long startedNanos) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.startedNanos = startedNanos;
    }

    /** Starts {@code command} with {@code env} added to the harness's environment. */
    static ServerProcess start(String name, List<String> command, Map<String, String> env, Path workDir, Path log)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        return new ServerProcess(name, pb.start(), log, t0);
    }

    /** {@link System#nanoTime} just before the process was started. */
    long startedNanos() {
        return startedNanos;
    }

    /** Notes that the server answered its readiness check now. */
    void markReady() {
        readyNanos = System.nanoTime();
    }

    /** From the process start to {@link #markReady}, in milliseconds; NaN when not marked. */
    double readyMs() {
        return readyNanos == 0 ? Double.NaN : (readyNanos - startedNanos) / 1e6;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The server's live descendants now (and remembers them, to kill them at the end). */
    List<ProcessHandle> descendants() {
        List<ProcessHandle> live = process.toHandle().descendants().filter(ProcessHandle::isAlive).toList();
        live.forEach(p -> seen.add(p.pid()));
        return live;
    }

    /** Remembers a process the server started, so {@link #stop} makes sure it ends. */
    void adopt(long pid) {
        seen.add(pid);
    }

    /** The last lines of the server's log, for error messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log " + log + " unreadable: " + e + ")";
        }
    }

    boolean logContains(String text) {
        try {
            return Files.readString(log).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    IllegalStateException failure(String what) {
        return new IllegalStateException(name + ": " + what + (process.isAlive() ? "" : " (the server exited with "
                + process.exitValue() + ")") + "; log " + log + ":\n" + logTail());
    }

    /**
     * SIGTERM, then SIGKILL after a grace period; then SIGKILL to every process seen below
     * it that has not ended a few seconds after the server did.
     *
     * @return the processes that outlived the server and had to be killed
     * @throws IllegalStateException when a process cannot be killed
     */
    List<String> stop() throws InterruptedException {
        if (stopped) {
            return List.of();
        }
        stopped = true;
        descendants();
        process.destroy();
        if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        awaitEnd(Duration.ofSeconds(5));
        List<String> killed = new ArrayList<>();
        for (long pid : seen) {
            ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(p -> {
                killed.add(pid + " " + p.info().commandLine().orElse("?"));
                p.destroyForcibly();
            });
        }
        if (!awaitEnd(Duration.ofSeconds(10))) {
            throw new IllegalStateException(name + ": processes that do not die: " + alive());
        }
        return killed;
    }

    private boolean awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!alive().isEmpty()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    private List<Long> alive() {
        return seen.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).toList();
    }

    @Override
    public void close() {
        try {
            List<String> killed = stop();
            if (!killed.isEmpty()) {
                System.err.println(name + ": killed processes left after the server ended: "
                        + killed.stream().collect(Collectors.joining("; ")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
