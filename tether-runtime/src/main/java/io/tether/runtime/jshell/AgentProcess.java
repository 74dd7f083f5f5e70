package io.tether.runtime.jshell;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.LinuxProcesses;

/**
 * One agent JVM seen from the parent: the process, its control socket, a thread that reads
 * frames into an inbox and two that drain the process's own stdout and stderr (output
 * written below {@code System.out}, e.g. by a child process that inherited fd 1).
 *
 * <p>{@link #send} is thread-safe; {@link #poll} is for one consumer at a time.
 */
final class AgentProcess {
    /** Put in the inbox when the socket ends: the agent died or was killed. */
    static final Wire.Frame EOF = new Wire.Frame((byte) -1, new byte[0]);

    private static final int RECENT_STDERR = 4 << 10;
    /** How long bubblewrap's monitor may take to exit once its namespace is killed. */
    private static final Duration MONITOR_EXIT = Duration.ofSeconds(2);

    private final Process process;
    /** Whether {@link #process} is bubblewrap's monitor with the JVM in its namespace. */
    private final boolean jailed;
    private SocketChannel channel;
    private OutputStream out;
    private final BlockingQueue<Wire.Frame> inbox = new LinkedBlockingQueue<>();
    private final StringBuilder recentStderr = new StringBuilder();
    /** Where output of the process's own fd 1 and 2 goes; null drops it. */
    private volatile BiConsumer<Boolean, String> nativeOutput;
    private volatile String javaVersion;
    private final Thread stderrDrainer;
    private final java.util.concurrent.CompletableFuture<Void> ended = new java.util.concurrent.CompletableFuture<>();

    private AgentProcess(Process process, boolean jailed) {
        this.process = process;
        this.jailed = jailed;
        // Drain from the start: a JVM that fails to start says why on stderr.
        Thread.ofPlatform().daemon().name("tether-jshell-out-" + process.pid()).stackSize(256 << 10)
                .start(() -> drain(process.getInputStream(), false));
        stderrDrainer = Thread.ofPlatform().daemon().name("tether-jshell-err-" + process.pid()).stackSize(256 << 10)
                .start(() -> drain(process.getErrorStream(), true));
    }

    private void connected(SocketChannel channel) {
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        Thread.ofPlatform().daemon().name("tether-jshell-read-" + process.pid()).start(this::readFrames);
    }

    /** The command line of an agent that connects to {@code socket}; it may prepare the socket for it. */
    @FunctionalInterface
    interface Command {
        List<String> connectingTo(Path socket);
    }

    /**
     * Starts the agent and waits until it is ready.
     *
     * @param environment the process's whole environment
     * @param jailed whether {@code command} runs the JVM in a jail (bubblewrap's monitor is
     *     then the process, and the JVM is in its PID namespace)
     * @throws TetherException {@code runtime_unavailable} when the JVM cannot start or does
     *     not get ready within {@code timeout}
     */
    static AgentProcess start(Command command, Map<String, String> environment, boolean jailed, Path workingDirectory,
                              Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path socketDir = null;
        AgentProcess agent = null;
        try {
            // A fresh private directory (0700): no other user can reach the socket.
            socketDir = Files.createTempDirectory("tether-jshell-");
            Path socket = socketDir.resolve("agent.sock");
            SocketChannel channel;
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                ProcessBuilder builder = new ProcessBuilder(command.connectingTo(socket))
                        .directory(workingDirectory.toFile());
                builder.environment().clear(); // a copy of the server's: its tokens stay out
                builder.environment().putAll(environment);
                agent = new AgentProcess(builder.start(), jailed);
                channel = accept(server, agent.process, deadline);
            }
            agent.connected(channel);
            agent.awaitReady(deadline);
            return agent;
        } catch (IOException | RuntimeException e) {
            String detail = "";
            if (agent != null) {
                agent.kill();
                detail = agent.stderrAfterDeath();
            }
            if (e instanceof TetherException te) {
                throw new TetherException(te.code(), te.getMessage() + detail, e);
            }
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot start a JShell JVM: " + e + detail, e);
        } finally {
            if (socketDir != null) {
                deleteQuietly(socketDir.resolve("agent.sock"));
                deleteQuietly(socketDir);
            }
        }
    }

    private static SocketChannel accept(ServerSocketChannel server, Process process, long deadline)
            throws IOException {
        server.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            server.register(selector, SelectionKey.OP_ACCEPT);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "the JShell JVM did not connect in time");
                }
                // Wake now and then to notice a JVM that died before connecting.
                selector.select(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
                SocketChannel channel = server.accept();
                if (channel != null) {
                    channel.configureBlocking(true);
                    return channel;
                }
                if (!process.isAlive()) {
                    throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                            "the JShell JVM exited with code " + process.exitValue() + " before connecting");
                }
            }
        }
    }

    /** What the dead JVM wrote to stderr last, for an error message. */
    private String stderrAfterDeath() {
        try {
            // The pipe ends with the process, so the drainer finishes promptly.
            stderrDrainer.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String err = recentStderr().strip();
        return err.isEmpty() ? "" : "; its stderr: " + err;
    }

    private void awaitReady(long deadline) {
        Wire.Frame frame;
        try {
            frame = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "interrupted while the JShell JVM started");
        }
        if (frame == null || frame.type() != Wire.READY) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, frame == null
                    ? "the JShell JVM did not get ready in time"
                    : "the JShell JVM died while starting");
        }
        javaVersion = frame.fields().string();
    }

    private void readFrames() {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel),
                1 << 16))) {
            while (true) {
                inbox.add(Wire.read(in));
            }
        } catch (IOException e) {
            // End of the socket: the agent exited, was killed, or we closed it.
        } finally {
            inbox.add(EOF);
            ended.complete(null);
        }
    }

    private void drain(InputStream stream, boolean isStderr) {
        char[] buffer = new char[8192];
        try (Reader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                String text = new String(buffer, 0, n);
                if (isStderr) {
                    synchronized (recentStderr) {
                        recentStderr.append(text);
                        if (recentStderr.length() > RECENT_STDERR) {
                            recentStderr.delete(0, recentStderr.length() - RECENT_STDERR);
                        }
                    }
                }
                BiConsumer<Boolean, String> sink = nativeOutput;
                if (sink != null) {
                    sink.accept(isStderr, text);
                }
            }
        } catch (IOException e) {
            // The pipe broke with the process; nothing more will come.
        }
    }

    /** Sends a frame. Thread-safe. */
    void send(byte type, byte[] payload) throws IOException {
        synchronized (out) {
            Wire.write(out, type, payload);
        }
    }

    /** The next frame, {@link #EOF} (again and again) once the agent is gone, or null after {@code nanos}. */
    Wire.Frame poll(long nanos) throws InterruptedException {
        Wire.Frame frame = inbox.poll(nanos, TimeUnit.NANOSECONDS);
        if (frame == EOF) {
            inbox.add(EOF);
        }
        return frame;
    }

    /** Runs {@code action} once the process has exited (at once if it already has), on some other thread. */
    void onExit(Runnable action) {
        process.onExit().thenRun(action);
    }

    /** Runs {@code action} once the agent's socket has ended (at once if it already has). */
    void onEnd(Runnable action) {
        ended.thenRun(action);
    }

    /** Drops frames left over from an earlier execution (late output of background threads). */
    void discardPending() {
        Wire.Frame frame;
        while ((frame = inbox.peek()) != null && frame != EOF) {
            inbox.poll();
        }
    }

    /** Sends output of the process's own stdout ({@code false}) and stderr ({@code true}) there. */
    void nativeOutput(BiConsumer<Boolean, String> sink) {
        this.nativeOutput = sink;
    }

    String recentStderr() {
        synchronized (recentStderr) {
            return recentStderr.toString();
        }
    }

    String javaVersion() {
        return javaVersion;
    }

    long pid() {
        return process.pid();
    }

    /** Whether it runs; false already while it is a zombie the JDK has not reaped. */
    boolean isAlive() {
        return process.isAlive() && !LinuxProcesses.hasExited(process.pid());
    }

    /** The exit code, waiting up to {@code wait} for the process to end; null if it has not. */
    Integer exitCode(Duration wait) {
        try {
            return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Kills the JVM and any process it started, and waits until they are gone. In a jail the
     * JVM, the namespace's init and whatever else is in the namespace go first; bubblewrap's
     * monitor then exits by itself, after the kernel has taken them all. Idempotent.
     */
    void kill() {
        List<ProcessHandle> family = process.toHandle().descendants().toList();
        family.forEach(ProcessHandle::destroyForcibly);
        // A monitor that lingers, or one that had not made its namespace yet, is killed too.
        if (!jailed || family.isEmpty() || exitCode(MONITOR_EXIT) == null) {
            process.destroyForcibly();
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // closing a socket of a dead process can only fail harmlessly
        }
        boolean interrupted = false;
        while (true) {
            try {
                // SIGKILL cannot be refused; this returns as soon as the kernel reaps it.
                process.waitFor();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a stale socket file in a private temp directory harms nobody
        }
    }
}
