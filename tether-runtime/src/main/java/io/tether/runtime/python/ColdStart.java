package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.Sandbox;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts a worker straight from the interpreter (no fork server): {@code python3 -S -E -B
 * worker.py --connect <socket> ...}, a child of the JVM that connects back to a socket in a
 * private directory made for this start, so that cold and forked workers have the same
 * kind of {@link ControlChannel}.
 */
final class ColdStart {
    /** How often the wait for the connection looks whether the interpreter died instead. */
    private static final long EXIT_CHECK_MILLIS = 10;

    private ColdStart() {
    }

    /**
     * Starts a worker from the interpreter and waits for its hello. The worker connects back
     * to a socket in a private directory made for this start, which is gone when this returns.
     *
     * @param onDeath called once, on some thread, when the process is gone
     * @throws TetherException {@code runtime_unavailable} when it cannot start or does not
     *     say hello within the interpreter's start timeout
     */
    static PythonProcess start(Interpreter interpreter, Sandbox sandbox, WorkerOptions options, Path directory,
                               Consumer<PythonProcess> onDeath) {
        long deadline = System.nanoTime() + interpreter.startTimeout().toNanos();
        Path socketDir;
        try {
            socketDir = Files.createTempDirectory("tether-python-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException | UnsupportedOperationException e) {
            throw unavailable("cannot create a private directory for the worker's socket: " + e, e);
        }
        Path socket = socketDir.resolve("s");
        Process process = null;
        SocketChannel accepted = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            server.bind(UnixDomainSocketAddress.of(socket));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            Path script = WorkerScript.path();
            List<String> command = interpreter.command(script, sandbox.enabled()
                    ? sandbox.pythonConfig(interpreter.readOnlyPaths(script.getParent()), List.of(), sandbox.inJail(directory),
                    options.network()) : null,
                    socket, options.limits());
            if (sandbox.enabled()) {
                // Its own bubblewrap with its own PID namespace: the session's namespaces.
                sandbox.handOver(socketDir);
                sandbox.handOver(socket);
                command = sandbox.command(interpreter.readOnlyPaths(script.getParent()), List.of(socketDir), directory,
                        sandbox.inJail(directory), true, options.network(), sandbox.inJail(directory), command);
            }
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    // What the interpreter says before worker.py connects (a start-up error).
                    .redirectErrorStream(true);
            interpreter.applyEnvironment(builder);
            process = builder.start();
            while ((accepted = server.accept()) == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive()) {
                    break;
                }
                // Wakes on the connection; now and then looks whether the process died.
                selector.select(Math.max(1, Math.min(EXIT_CHECK_MILLIS, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        } catch (IOException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            throw unavailable("cannot start " + interpreter.executable() + " in " + directory + ": "
                    + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(socketDir);
            } catch (IOException e) {
                // a stale socket in the temporary directory; nothing connects to it again
            }
        }
        if (accepted == null) {
            String said = startOutput(process, deadline);
            process.destroyForcibly();
            throw unavailable("the Python worker did not start: " + (said.isEmpty()
                    ? "it did not connect within " + interpreter.startTimeout() : "it wrote: " + said), null);
        }
        ControlChannel channel;
        try {
            channel = ControlChannel.of(accepted);
        } catch (IOException e) {
            process.destroyForcibly();
            throw unavailable("cannot use the worker's connection: " + e, e);
        }
        try {
            return PythonProcess.attach(new OsProcess.Child(process), channel, deadline, options, onDeath);
        } finally {
            closeQuietly(process.getInputStream()); // worker.py has moved its stdout and stderr away
        }
    }

    /** What a cold worker wrote to its stdout and stderr before it failed, if anything. */
    private static String startOutput(Process process, long deadline) {
        try {
            long left = Math.max(0, deadline - System.nanoTime());
            process.waitFor(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
            InputStream in = process.getInputStream();
            byte[] text = in.readNBytes(Math.min(4096, in.available()));
            return new String(text, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static TetherException unavailable(String message, Throwable cause) {
        return new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, message, cause);
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // nothing to release
        }
    }
}
