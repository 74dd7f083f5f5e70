package io.tether.runtime.python;

import io.tether.TetherException;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.Sandbox;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pre-warmed Python parent ({@code worker.py --fork-server}) whose children become
 * workers instead of 20–40 ms cold starts; they share its memory copy-on-write. The server
 * listens on a Unix-domain socket in a private (0700) directory and keeps one spare child
 * forked in advance, with its pipes and output thread made, waiting on that socket. This
 * side connects to it ahead, before a start needs it (at start and after each start), so
 * the spare has also accepted and armed its control signal: a request costs only the
 * set-up that depends on it (about a millisecond), not a fork nor an accept; the server
 * forks the next spare once the last one said hello. A start whose spare died meanwhile
 * asks again on a connection of its own. Each worker's control channel
 * is its own connection to the socket, so a worker outlives the server and dies when its
 * connection ends. The server reaps its children and reports their exit codes on its
 * stdout; it exits when its stdin ends ({@link #close}, or the JVM died), and an untaken
 * spare goes with it.
 *
 * <p>Thread-safe. {@link #fork} blocks until the worker said hello.
 */
final class ForkServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ForkServer.class);

    /** The server itself failed (not the worker it forked): start the worker cold instead. */
    static final class Unavailable extends Exception {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Interpreter interpreter;
    private final Sandbox sandbox;
    private final Process process;
    private final Path directory;
    private final UnixDomainSocketAddress address;
    private final Map<Long, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
    private final CompletableFuture<Long> ready = new CompletableFuture<>();
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    private final AtomicBoolean connecting = new AtomicBoolean();
    private final Object aheadLock = new Object();
    private ControlChannel ahead;   // guarded by aheadLock: connected ahead to a spare, not yet asked
    private boolean closed;         // guarded by aheadLock

    private ForkServer(Interpreter interpreter, Sandbox sandbox, Process process, Path directory, Path socket) {
        this.interpreter = interpreter;
        this.sandbox = sandbox;
        this.process = process;
        this.directory = directory;
        this.address = UnixDomainSocketAddress.of(socket);
    }

    /**
     * Starts a fork server and waits until it listens.
     *
     * @throws Unavailable when it cannot start or is not ready within the start timeout
     */
    static ForkServer start(Interpreter interpreter, Path script) throws Unavailable {
        return start(interpreter, script, Sandbox.off(), null, List.of());
    }

    /**
     * Starts a fork server in {@code sandbox}'s jail (when in force) and waits until it
     * listens; its workers get the sandbox's per-session layers.
     *
     * @param workRoot where the workers' directories are (mounted read-write into the jail);
     *                 may be null when the sandbox is off
     * @param preload modules it imports before it forks any worker
     * @throws Unavailable when it cannot start or is not ready within the start timeout
     */
    static ForkServer start(Interpreter interpreter, Path script, Sandbox sandbox, Path workRoot,
                            List<String> preload) throws Unavailable {
        Path directory;
        try {
            directory = Files.createTempDirectory("tether-fork-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException | UnsupportedOperationException e) {
            throw new Unavailable("cannot create the fork server's directory: " + e, e);
        }
        Path socket = directory.resolve("s");
        Process process;
        try {
            List<String> command = interpreter.forkServerCommand(script, sandbox.enabled()
                    ? sandbox.pythonConfig(interpreter.readOnlyPaths(script.getParent()), List.of(directory),
                    sandbox.has(Sandbox.Layer.JAIL) ? Sandbox.JAIL_WORK_ROOT : workRoot, false) : null, socket,
                    preload);
            if (sandbox.enabled()) {
                sandbox.handOver(directory);
                Files.createDirectories(workRoot);
                command = sandbox.command(interpreter.readOnlyPaths(script.getParent()), List.of(directory), workRoot,
                        Sandbox.JAIL_WORK_ROOT, false, false, directory, command);
            }
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    .redirectErrorStream(true);
            interpreter.applyEnvironment(builder); // its workers inherit it
            process = builder.start();
        } catch (IOException | TetherException e) {
            deleteQuietly(directory, socket);
            throw new Unavailable("cannot start the fork server: " + e.getMessage(), e);
        }
        ForkServer server = new ForkServer(interpreter, sandbox, process, directory, socket);
        Thread reader = new Thread(null, server::readReports, "tether-python-fork-server-" + process.pid(),
                128 * 1024);
        reader.setDaemon(true);
        reader.start();
        try {
            server.ready.get(interpreter.startTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            server.close();
            throw new Unavailable("the fork server did not start: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.toString()), e);
        }
        if (server.connecting.compareAndSet(false, true)) {
            server.connectAhead(); // here, not later: a first start at once would connect beside it and get a spare of its own
        }
        return server;
    }

    long pid() {
        return process.pid();
    }

    /** The socket it listens on. */
    Path socketPath() {
        return directory.resolve("s");
    }

    boolean isAlive() {
        return !gone.isDone();
    }

    /**
     * Forks a worker in {@code directory} and waits for its hello. {@code prepare} (null for
     * nothing) gets the worker's pid as soon as the server reports it and runs on this
     * thread while the worker gets ready (moving it into its cgroup costs about as much as
     * the rest of the start; on a thread of its own it waited ~0.4 ms more to be scheduled);
     * the worker is returned once both are done, before it runs any code.
     *
     * @throws Unavailable when the server does not answer (it is dead or stuck)
     * @throws TetherException {@code runtime_unavailable} when the forked worker itself fails
     *     to start (e.g. a memory limit too small), as a cold start would
     */
    PythonProcess fork(WorkerOptions options, Path directory, Consumer<PythonProcess> onDeath, LongConsumer prepare)
            throws Unavailable {
        try {
            return start(options, directory, onDeath, prepare);
        } finally {
            connectAheadLater(); // for the next start, once this one is done
        }
    }

    private PythonProcess start(WorkerOptions options, Path directory, Consumer<PythonProcess> onDeath,
            LongConsumer prepare) throws Unavailable {
        if (gone.isDone()) {
            throw new Unavailable("the fork server has exited", null);
        }
        Duration timeout = interpreter.startTimeout();
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] request = interpreter.forkRequest(sandbox.inJail(directory), options.limits());
        ControlChannel channel = takeAhead();
        long pid = -1;
        if (channel != null) {
            try {
                pid = ask(channel, request, deadline);
            } catch (IOException e) {
                // The spare reserved ahead died meanwhile (killed, or its connection broke):
                // once more on a connection of its own.
                log.debug("fork server {}: the spare connected ahead is gone ({}); connecting anew",
                        process.pid(), e.toString());
                channel = null;
            }
        }
        if (channel == null) {
            try {
                channel = ControlChannel.of(SocketChannel.open(address)); // its selector is made while the server forks
            } catch (IOException e) {
                throw new Unavailable("cannot connect to the fork server: " + e, e);
            }
            try {
                pid = ask(channel, request, deadline);
            } catch (IOException e) {
                throw new Unavailable("the fork server did not fork: " + e, e);
            }
        }
        if (pid < 0) {
            channel.close();
            throw new Unavailable("the fork server did not fork within " + timeout, null);
        }
        CompletableFuture<Integer> exit = exits.computeIfAbsent(pid, k -> new CompletableFuture<>());
        OsProcess.Forked forked = OsProcess.Forked.of(pid, exit, gone);
        // The worker gets ready on its own meanwhile: this thread would only wait for its hello.
        RuntimeException notPrepared = null;
        if (prepare != null) {
            try {
                prepare.accept(pid);
            } catch (RuntimeException e) {
                notPrepared = e;
            }
        }
        long workerPid = pid;
        PythonProcess p;
        try {
            p = PythonProcess.attach(forked, channel, deadline, options, dead -> {
                exits.remove(workerPid);
                onDeath.accept(dead);
            });
        } catch (RuntimeException e) {
            if (notPrepared != null) {
                e.addSuppressed(notPrepared);
            }
            throw e;
        }
        if (notPrepared != null) {
            p.kill("it could not be prepared");
            throw notPrepared;
        }
        return p;
    }

    /**
     * Sends {@code request} on {@code channel} and reads the forked worker's pid: -1 when
     * {@code deadline} passed first. Closes the channel when it fails.
     */
    private static long ask(ControlChannel channel, byte[] request, long deadline) throws IOException {
        try {
            channel.write(ByteBuffer.wrap(request));
            return channel.readInt(deadline);
        } catch (IOException e) {
            channel.close();
            throw e;
        } finally {
            channel.restoreInterrupt();
        }
    }

    /** The connection made ahead to a spare, now this caller's; null when there is none. */
    private ControlChannel takeAhead() {
        synchronized (aheadLock) {
            ControlChannel c = ahead;
            ahead = null;
            return c;
        }
    }

    /**
     * Connects to the next spare ahead of the next start, on a virtual thread: the spare
     * accepts it and does what does not depend on the request (its control signal, in a
     * sandbox its pump's confinement) before anyone waits, so a start costs one exchange
     * less. One connection at a time, and none while one is unused.
     */
    private void connectAheadLater() {
        if (!gone.isDone() && connecting.compareAndSet(false, true)) {
            Thread.ofVirtual().name("tether-python-fork-ahead").start(this::connectAhead);
        }
    }

    /** Connects ahead unless a connection is unused; the caller set {@link #connecting}. */
    private void connectAhead() {
        ControlChannel c = null;
        try {
            synchronized (aheadLock) {
                if (ahead != null || closed) {
                    return;
                }
            }
            SocketChannel socket = SocketChannel.open(address);
            try {
                socket.write(ByteBuffer.wrap(new byte[4])); // a request of length 0: "the request follows later"
            } catch (IOException e) {
                socket.close();
                throw e;
            }
            c = ControlChannel.of(socket);
            synchronized (aheadLock) {
                if (ahead == null && !closed) {
                    ahead = c;
                    c = null;
                }
            }
        } catch (IOException e) {
            log.debug("fork server {}: cannot connect ahead ({}); the next start connects itself",
                    process.pid(), e.toString());
        } finally {
            if (c != null) {
                c.close();
            }
            connecting.set(false);
        }
    }

    /** Reads the server's stdout: "ready", "exit" reports, and anything it printed (logged). */
    private void readReports() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                if (f.length == 3 && f[0].equals("exit")) {
                    exits.computeIfAbsent(Long.parseLong(f[1]), k -> new CompletableFuture<>())
                            .complete(Integer.parseInt(f[2]));
                } else if (f.length == 2 && f[0].equals("ready")) {
                    ready.complete(Long.parseLong(f[1]));
                } else {
                    log.warn("Python fork server {}: {}", process.pid(), line);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Python fork server {}: reading its reports failed", process.pid(), e);
        } finally {
            ready.completeExceptionally(new IOException("the fork server exited before it was ready"));
            gone.complete(null);
            ControlChannel unused = takeAhead();
            if (unused != null) {
                unused.close(); // its spare goes with the server
            }
        }
    }

    /**
     * Stops the server (its workers live on). Waits for it to exit, at most about 2 s
     * before killing it. Idempotent.
     */
    @Override
    public void close() {
        ControlChannel unused;
        synchronized (aheadLock) {
            closed = true;
            unused = ahead;
            ahead = null;
        }
        if (unused != null) {
            unused.close(); // its spare exits: it was never a worker
        }
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteQuietly(directory, directory.resolve("s"));
    }

    private static void deleteQuietly(Path directory, Path socket) {
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            log.warn("cannot delete the fork server's directory {}", directory, e);
        }
    }

    @Override
    public String toString() {
        return "ForkServer[pid=" + process.pid() + (isAlive() ? "" : ", exited") + "]";
    }
}
