package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkerOptions;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One live worker process and its {@link ControlChannel} (the protocol is described at the
 * top of {@code worker.py}). There is no reader thread: the thread that waits for an answer
 * reads the frames itself — the executing thread its execution's output and end, a pinger
 * its pong, the starting thread the hello — so an answer reaches the thread that needs it
 * without a hand-off. Between executions nothing reads; a worker that dies then is noticed
 * by its process's exit ({@link OsProcess#whenExited}).
 *
 * <p>Thread-safe. {@link #submit} and {@link #await} are called by one executing thread at a
 * time; {@link #interrupt}, {@link #ping} and {@link #kill} from any thread.
 */
final class PythonProcess {
    private static final byte OP_EXEC = 'x';
    private static final byte OP_INTERRUPT = 'i';
    private static final byte OP_PING = 'p';
    private static final byte OP_INPUT = 'n';
    static final byte OP_COMPLETE = 'c';
    static final byte OP_INSPECT = 'd';
    /** How long a query that overran its timeout has to end once interrupted, before the process is killed. */
    private static final Duration QUERY_GRACE = Duration.ofSeconds(1);

    private final OsProcess process;
    private final long pid;
    private final Instant startedAt;
    private final ControlChannel channel;
    private final long maxOutputBytes;
    private final int maxFrameBytes;
    private final Consumer<PythonProcess> onDeath;

    /** Held by the thread reading frames; the fields below it are guarded by it. */
    private final ReentrantLock reading = new ReentrantLock();
    private boolean helloSeen;
    private String startFailure;
    private long lastPong;
    private long frameChars; // the length of the frame being dispatched
    private long queryId;    // the query waiting for its answer, 0 for none
    private Map<String, Object> answer;

    private final AtomicLong executionIds = new AtomicLong();
    private final AtomicLong pingIds = new AtomicLong();
    private volatile Execution inFlight;

    private final AtomicBoolean dead = new AtomicBoolean();
    private volatile String deathReason;

    private PythonProcess(OsProcess process, ControlChannel channel, long maxOutputBytes,
                          Consumer<PythonProcess> onDeath) {
        this.process = process;
        this.pid = process.pid();
        this.startedAt = process.startedAt();
        this.channel = channel;
        this.maxOutputBytes = maxOutputBytes;
        this.maxFrameBytes = maxFrameBytes(maxOutputBytes);
        this.onDeath = onDeath;
    }

    /**
     * Drives a started worker process over its control channel and waits for its hello.
     *
     * @param deadlineNanos when the hello must have come ({@link System#nanoTime})
     * @throws TetherException {@code runtime_unavailable} when it fails to start or does not
     *     say hello in time; the process is killed then
     */
    static PythonProcess attach(OsProcess process, ControlChannel channel, long deadlineNanos, WorkerOptions options,
                                Consumer<PythonProcess> onDeath) {
        PythonProcess p = new PythonProcess(process, channel, options.limits().maxOutputBytes(), onDeath);
        p.awaitHello(deadlineNanos);
        process.whenExited(p::exited);
        return p;
    }

    private void awaitHello(long deadlineNanos) {
        boolean inTime = true;
        reading.lock();
        try {
            while (!helloSeen && startFailure == null && !dead.get()) {
                if (!readFrame(deadlineNanos)) {
                    inTime = dead.get();
                    break;
                }
            }
        } finally {
            channel.restoreInterrupt();
            reading.unlock();
        }
        if (helloSeen && !dead.get()) {
            return;
        }
        String why = !inTime ? "it did not answer in time"
                : startFailure != null ? startFailure : String.valueOf(deathReason);
        kill("failed to start");
        throw unavailable("the Python worker did not start: " + why, null);
    }

    long pid() {
        return pid;
    }

    boolean isDead() {
        return dead.get();
    }

    /**
     * Sends code to run; {@link #await} it on the same thread.
     *
     * @param stdin       the UTF-8 text it reads as standard input (may be empty)
     * @param interactive whether input requests past {@code stdin} go to {@code listener}
     */
    Execution submit(long number, byte[] code, byte[] stdin, boolean interactive, OutputListener listener) {
        Execution ex = new Execution(executionIds.incrementAndGet(), number, listener, maxOutputBytes);
        inFlight = ex;
        // terminate() sets dead before it reads inFlight, we set inFlight before we read
        // dead: one of us sees the other, so the execution is never left waiting.
        if (dead.get()) {
            ex.crash(deathReason);
            return ex;
        }
        // length, op, id, then the payload: the cell number, flags, stdin, the code
        ByteBuffer head = ByteBuffer.allocate(26).putInt(9 + 13 + stdin.length + code.length).put(OP_EXEC)
                .putLong(ex.id).putLong(number).put((byte) (interactive ? 1 : 0)).putInt(stdin.length).flip();
        send(head, ByteBuffer.wrap(stdin), ByteBuffer.wrap(code));
        return ex;
    }

    /**
     * Reads the worker's frames on this thread (passing output to the execution's listener)
     * until {@code ex} ended or {@code deadlineNanos} ({@link System#nanoTime};
     * {@code Long.MAX_VALUE} for none) passed. Interrupting the thread does not end the wait;
     * the flag is kept.
     *
     * @return whether it ended
     */
    boolean await(Execution ex, long deadlineNanos) {
        reading.lock();
        try {
            while (!ex.hasEnded()) {
                if (dead.get()) {
                    ex.awaitEnd(); // terminate() ends it, maybe still busy on another thread
                    break;
                }
                if (!readFrame(deadlineNanos) && !dead.get()) {
                    return false;
                }
            }
        } finally {
            channel.restoreInterrupt();
            reading.unlock();
        }
        return true;
    }

    /** The output of execution {@code number} so far while it is in flight here, else {@code null}. */
    ExecutionOutput outputSoFar(long number) {
        Execution ex = inFlight;
        return ex != null && ex.number == number ? ex.soFar() : null;
    }

    /**
     * Answers the input request of the execution in flight.
     *
     * @return false when none waits for input
     */
    boolean answerInput(String value) {
        Execution ex = inFlight;
        if (ex == null || !ex.takeInputRequest()) {
            return false;
        }
        byte[] line = value.getBytes(StandardCharsets.UTF_8);
        send(ByteBuffer.allocate(13).putInt(9 + line.length).put(OP_INPUT).putLong(ex.id).flip(), ByteBuffer.wrap(line));
        return true;
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
        send(control(OP_INTERRUPT, ex.id));
    }

    /**
     * Whether the worker answers a ping within {@code timeout}. True at once when another
     * thread is reading its channel (an execution is running: the worker is busy, not hung).
     */
    boolean ping(Duration timeout) {
        if (!reading.tryLock()) {
            return !dead.get();
        }
        try {
            long id = pingIds.incrementAndGet();
            send(control(OP_PING, id));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (lastPong < id && !dead.get()) {
                if (!readFrame(deadline)) {
                    return false;
                }
            }
            return lastPong >= id;
        } finally {
            channel.restoreInterrupt();
            reading.unlock();
        }
    }

    /**
     * Asks the idle worker a question about its namespace ({@link #OP_COMPLETE} or
     * {@link #OP_INSPECT} at {@code cursor}, in code points) and reads its answer on this
     * thread. One that overruns {@code timeout} (user code such as a property hangs) is
     * interrupted as an execution is; one that ignores that too is killed with the process.
     *
     * @return the answer frame, or {@code null} when the process died or was killed meanwhile
     */
    Map<String, Object> query(byte op, int cursor, byte[] code, Duration timeout) {
        reading.lock();
        try {
            long id = executionIds.incrementAndGet();
            queryId = id;
            answer = null;
            ByteBuffer head = ByteBuffer.allocate(17).putInt(9 + 4 + code.length).put(op).putLong(id)
                    .putInt(cursor).flip();
            send(head, ByteBuffer.wrap(code));
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean interrupted = false;
            while (answer == null && !dead.get()) {
                if (!readFrame(deadline) && !dead.get()) {
                    if (interrupted) {
                        kill("a completion or inspection ran past " + timeout + " and ignored the interrupt");
                        break;
                    }
                    interrupted = true;
                    send(control(OP_INTERRUPT, id));
                    deadline = System.nanoTime() + QUERY_GRACE.toNanos();
                }
            }
            Map<String, Object> a = answer;
            queryId = 0;
            answer = null;
            return a;
        } finally {
            channel.restoreInterrupt();
            reading.unlock();
        }
    }

    /** Kills the process and everything it started. Idempotent; never throws. */
    void kill(String reason) {
        terminate(reason, true);
    }

    /** A frame without payload: length, op, id. */
    private static ByteBuffer control(byte op, long id) {
        return ByteBuffer.allocate(13).putInt(9).put(op).putLong(id).flip();
    }

    private void send(ByteBuffer... parts) {
        try {
            channel.write(parts);
        } catch (IOException e) {
            // The connection broke: the process is gone or going.
            terminate("the control channel broke: " + e.getMessage(), false);
        }
    }

    /**
     * Reads and dispatches one frame; the caller holds {@link #reading}.
     *
     * @return false when the deadline passed first, or the channel ended or broke (the
     *     process is then terminated, {@link #dead} is set)
     */
    private boolean readFrame(long deadlineNanos) {
        String reason;
        try {
            long length = channel.readInt(deadlineNanos);
            if (length < 0) {
                return false;
            }
            if (length < 2 || length > maxFrameBytes) {
                reason = "protocol error: a frame of " + length + " bytes";
            } else {
                String text = channel.readText((int) length, deadlineNanos == Long.MAX_VALUE ? Long.MAX_VALUE
                        : Math.max(deadlineNanos, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)));
                if (text == null) {
                    reason = "protocol error: a frame of " + length + " bytes did not arrive";
                } else {
                    frameChars = length;
                    dispatch(Json.parse(text));
                    return true;
                }
            }
        } catch (EOFException e) {
            terminate(null, false);
            return false;
        } catch (IOException | RuntimeException e) {
            reason = dead.get() ? null : "protocol error: " + e;
        }
        terminate(reason, true);
        return false;
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
            case "display" -> {
                Execution ex = inFlight;
                if (ex != null && ex.id == number(frame, "id")) {
                    ex.display(new Output.DisplayData(object(frame, "data"), object(frame, "metadata"),
                            Boolean.TRUE.equals(frame.get("truncated"))), frameChars);
                }
            }
            case "input" -> {
                Execution ex = inFlight;
                if (ex != null && ex.id == number(frame, "id")) {
                    ex.inputRequested(String.valueOf(frame.get("prompt")), Boolean.TRUE.equals(frame.get("password")));
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
            case "pong" -> lastPong = Math.max(lastPong, number(frame, "id"));
            case "answer" -> {
                if (queryId != 0 && queryId == number(frame, "id")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> a = (Map<String, Object>) frame;
                    answer = a;
                }
            }
            case "hello" -> helloSeen = true;
            case "fatal" -> startFailure = String.valueOf(frame.get("message"));
            default -> throw new IllegalArgumentException("unknown frame " + frame.get("t"));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<?, ?> frame, String key) {
        return frame.get(key) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /**
     * The largest frame read from a worker whose output cap is {@code maxOutputBytes}. An
     * output frame carries at most 64 KiB read at once; a done frame a result or an error, a
     * display frame a bundle: at most two texts of maxOutputBytes code points each (an
     * error's value and its traceback; a bundle's text/plain, and its other values together;
     * worker.py caps them), escaped to at most 12 ASCII bytes per code point (a surrogate
     * pair), plus a short error name or the bundle's keys.
     */
    static int maxFrameBytes(long maxOutputBytes) {
        return (int) Math.min(Integer.MAX_VALUE - 16, 24 * maxOutputBytes + (1 << 20));
    }

    private static long number(Map<?, ?> frame, String key) {
        return ((Number) frame.get(key)).longValue();
    }

    /** The process exited while nobody read its channel (or while somebody did). */
    private void exited() {
        terminate(null, false);
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
        channel.close(); // a live worker kills its own process group when its channel ends
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
        onDeath.accept(this);
    }

    private static TetherException unavailable(String message, Throwable cause) {
        return new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, message, cause);
    }
}
