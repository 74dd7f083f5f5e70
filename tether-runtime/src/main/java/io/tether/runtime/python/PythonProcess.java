package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkerOptions;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One live worker process and its control channel (the protocol is described at the top of
 * {@code worker.py}): the process's stdin and stdout when it was started cold, or its
 * Unix-domain socket when the {@link ForkServer} forked it. One reader thread per process
 * reads every frame and dispatches it; it ends when the channel closes, i.e. when the
 * process is gone.
 *
 * <p>Thread-safe. {@link #submit} is called by one executing thread at a time;
 * {@link #interrupt}, {@link #ping} and {@link #kill} from any thread.
 */
final class PythonProcess {
    private static final byte OP_EXEC = 'x';
    private static final byte OP_INTERRUPT = 'i';
    private static final byte OP_PING = 'p';
    private static final byte[] NONE = new byte[0];

    private final OsProcess process;
    private final long pid;
    private final Instant startedAt;
    private final OutputStream control;
    private final DataInputStream frames;
    private final long maxOutputBytes;
    private final int maxFrameBytes;
    private final Consumer<PythonProcess> onDeath;

    private final AtomicLong executionIds = new AtomicLong();
    private volatile Execution inFlight;

    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile boolean helloSeen;
    private volatile String startFailure;

    private final AtomicLong pingIds = new AtomicLong();
    private final Object pongs = new Object();
    private long lastPong;

    private final AtomicBoolean dead = new AtomicBoolean();
    private volatile String deathReason;

    private PythonProcess(OsProcess process, InputStream frames, OutputStream control, long maxOutputBytes,
                          Consumer<PythonProcess> onDeath) {
        this.process = process;
        this.pid = process.pid();
        this.startedAt = process.startedAt();
        this.control = control;
        this.frames = new DataInputStream(frames);
        this.maxOutputBytes = maxOutputBytes;
        // An output frame carries at most 64 KiB read at once, a done frame a result and an
        // error each capped near maxOutputBytes chars, escaped to at most 6 ASCII bytes each.
        this.maxFrameBytes = (int) Math.min(Integer.MAX_VALUE - 16, 24 * maxOutputBytes + (1 << 20));
        this.onDeath = onDeath;
    }

    /**
     * Starts a worker and waits for its hello.
     *
     * @param onDeath called once, on some thread, when the process is gone
     * @throws TetherException {@code runtime_unavailable} when it cannot start or does not
     *     say hello within the interpreter's start timeout
     */
    static PythonProcess startCold(Interpreter interpreter, WorkerOptions options, Path directory,
                                   Consumer<PythonProcess> onDeath) {
        List<String> command = interpreter.command(WorkerScript.path(), options.limits());
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    // Until worker.py has moved fds 1 and 2 away, a Python start-up error on
                    // stderr lands in the control stream, where awaitHello reports it.
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                    "cannot start " + interpreter.executable() + " in " + directory + ": "
                            + e.getMessage(), e);
        }
        return attach(new OsProcess.Child(process), process.getInputStream(), process.getOutputStream(),
                interpreter.startTimeout(), options, onDeath);
    }

    /**
     * Drives a started worker process over its control streams and waits for its hello.
     * The streams should be buffered; the output stream is flushed after each frame.
     *
     * @throws TetherException {@code runtime_unavailable} when it fails to start or does not
     *     say hello within {@code startTimeout}; the process is killed then
     */
    static PythonProcess attach(OsProcess process, InputStream frames, OutputStream control,
                                Duration startTimeout, WorkerOptions options, Consumer<PythonProcess> onDeath) {
        PythonProcess p = new PythonProcess(process, frames, control, options.limits().maxOutputBytes(), onDeath);
        Thread reader = new Thread(null, p::readFrames, "tether-python-" + p.pid, 256 * 1024);
        reader.setDaemon(true);
        reader.start();
        p.awaitHello(startTimeout);
        return p;
    }

    private void awaitHello(Duration timeout) {
        boolean answered;
        try {
            answered = ready.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill("start interrupted");
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "interrupted while the Python worker started", e);
        }
        if (helloSeen && !dead.get()) {
            return;
        }
        String why = !answered ? "it did not answer within " + timeout
                : startFailure != null ? startFailure : String.valueOf(deathReason);
        kill("failed to start");
        throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "the Python worker did not start: " + why);
    }

    long pid() {
        return pid;
    }

    boolean isDead() {
        return dead.get();
    }

    /** Sends code to run; the returned execution ends when the worker answers or dies. */
    Execution submit(long number, byte[] code, OutputListener listener) {
        Execution ex = new Execution(executionIds.incrementAndGet(), listener, maxOutputBytes);
        inFlight = ex;
        // terminate() sets dead before it reads inFlight, we set inFlight before we read
        // dead: one of us sees the other, so the execution is never left waiting.
        if (dead.get()) {
            ex.crash(deathReason);
            return ex;
        }
        byte[] num = new byte[8];
        for (int i = 0; i < 8; i++) {
            num[i] = (byte) (number >>> (56 - 8 * i));
        }
        send(OP_EXEC, ex.id, num, code);
        return ex;
    }

    /** Interrupts the execution in flight, if any. */
    void interrupt() {
        Execution ex = inFlight;
        if (ex != null) {
            interrupt(ex);
        }
    }

    /** Interrupts {@code ex}; the worker ignores this when {@code ex} is not running any more. */
    void interrupt(Execution ex) {
        send(OP_INTERRUPT, ex.id, NONE, NONE);
    }

    /** Whether the worker answers a ping within {@code timeout}. */
    boolean ping(Duration timeout) {
        long id = pingIds.incrementAndGet();
        send(OP_PING, id, NONE, NONE);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (pongs) {
            while (lastPong < id && !dead.get()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(pongs, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return lastPong >= id;
        }
    }

    /** Kills the process and everything it started. Idempotent; never throws. */
    void kill(String reason) {
        terminate(reason, true);
    }

    private void send(byte op, long id, byte[] a, byte[] b) {
        int length = 9 + a.length + b.length;
        byte[] header = new byte[13];
        header[0] = (byte) (length >>> 24);
        header[1] = (byte) (length >>> 16);
        header[2] = (byte) (length >>> 8);
        header[3] = (byte) length;
        header[4] = op;
        for (int i = 0; i < 8; i++) {
            header[5 + i] = (byte) (id >>> (56 - 8 * i));
        }
        try {
            synchronized (control) {
                control.write(header);
                control.write(a);
                control.write(b);
                control.flush();
            }
        } catch (IOException e) {
            // The pipe broke: the process is gone or going; the reader will see EOF too.
            terminate("the control channel broke: " + e.getMessage(), false);
        }
    }

    private void readFrames() {
        String reason;
        byte[] buf = new byte[8192];
        try {
            while (true) {
                int length;
                try {
                    length = frames.readInt();
                } catch (EOFException e) {
                    reason = null;
                    break;
                }
                if (length < 2 || length > maxFrameBytes) {
                    reason = helloSeen ? "protocol error: a frame of " + length + " bytes"
                            : "it wrote: " + unframedText(length);
                    break;
                }
                if (buf.length < length) {
                    buf = new byte[Math.max(length, buf.length * 2)];
                }
                frames.readFully(buf, 0, length);
                dispatch(Json.parse(new String(buf, 0, length, StandardCharsets.ISO_8859_1)));
            }
        } catch (IOException | RuntimeException e) {
            reason = "protocol error: " + e;
        }
        terminate(reason, reason != null);
    }

    private void dispatch(Object value) {
        if (!(value instanceof Map<?, ?> frame)) {
            throw new IllegalArgumentException("a frame that is not an object");
        }
        switch (String.valueOf(frame.get("t"))) {
            case "out" -> {
                Execution ex = inFlight;
                if (ex != null && ex.id == number(frame, "id")) {
                    ex.output((int) number(frame, "s"), (String) frame.get("d"));
                }
            }
            case "done" -> {
                Execution ex = inFlight;
                if (ex != null && ex.id == number(frame, "id")) {
                    inFlight = null;
                    @SuppressWarnings("unchecked")
                    Map<String, Object> done = (Map<String, Object>) frame;
                    ex.finish(done);
                }
            }
            case "pong" -> {
                synchronized (pongs) {
                    lastPong = Math.max(lastPong, number(frame, "id"));
                    pongs.notifyAll();
                }
            }
            case "hello" -> {
                helloSeen = true;
                ready.countDown();
            }
            case "fatal" -> {
                startFailure = String.valueOf(frame.get("message"));
                ready.countDown();
            }
            default -> throw new IllegalArgumentException("unknown frame " + frame.get("t"));
        }
    }

    private static long number(Map<?, ?> frame, String key) {
        return ((Number) frame.get(key)).longValue();
    }

    /** Before the hello, bytes that are not a frame are the interpreter's own error text. */
    private String unframedText(int firstFour) {
        byte[] head = {(byte) (firstFour >>> 24), (byte) (firstFour >>> 16), (byte) (firstFour >>> 8),
                (byte) firstFour};
        byte[] rest = new byte[4096];
        int n = 0;
        try {
            InputStream in = frames;
            int r;
            while (n < rest.length && (r = in.read(rest, n, rest.length - n)) > 0) {
                n += r;
            }
        } catch (IOException e) {
            // keep what we have
        }
        byte[] all = Arrays.copyOf(head, 4 + n);
        System.arraycopy(rest, 0, all, 4, n);
        return new String(all, StandardCharsets.UTF_8).strip();
    }

    /**
     * Ends the process (at once when {@code killNow}; otherwise it already exited or is
     * exiting), kills what it started, fails the execution in flight and tells the worker.
     */
    private void terminate(String reason, boolean killNow) {
        if (!dead.compareAndSet(false, true)) {
            return;
        }
        List<ProcessHandle> children = process.descendants();
        try {
            control.close(); // a live worker kills its own process group on EOF (a socket closes both ways)
        } catch (IOException e) {
            // already closed or broken: nothing to flush
        }
        String exit = null;
        try {
            exit = killNow ? null : process.awaitExit(Duration.ofSeconds(1));
            if (exit == null) {
                process.destroyForcibly();
                exit = process.awaitExit(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        ProcessGroup.kill(pid, startedAt, children);
        String why = reason != null ? reason
                : exit != null ? exit : "the Python process stopped answering and was killed";
        deathReason = why;
        Execution ex = inFlight;
        if (ex != null) {
            ex.crash(why);
        }
        ready.countDown();
        synchronized (pongs) {
            pongs.notifyAll();
        }
        onDeath.accept(this);
    }
}
