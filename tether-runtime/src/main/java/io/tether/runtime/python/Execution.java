package io.tether.runtime.python;

import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.OutputListener;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One execution in flight in a {@link PythonProcess}: gathers its output, passes it to the
 * listener, and lets the executing thread wait for its end.
 *
 * <p>Output and the end arrive on the thread that reads the process's channel (normally
 * the executing thread itself; the end also on a thread that kills the process);
 * everything is guarded by one lock, the listener is called outside it, by the reading
 * thread only.
 */
final class Execution {
    final long id;
    /** The execution's number in its session. */
    final long number;
    private final OutputListener listener;
    private final long maxChars;
    private final StringBuilder stdout = new StringBuilder(0);
    private final StringBuilder stderr = new StringBuilder(0);
    private boolean truncated;
    private boolean listenerFailed;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    private boolean finished;
    private Map<String, Object> done;
    private String crash;

    Execution(long id, long number, OutputListener listener, long maxOutputBytes) {
        this.id = id;
        this.number = number;
        this.listener = listener == null ? OutputListener.NONE : listener;
        // The worker caps bytes; a decoded char is at least one byte, so this cap only
        // bites when a misbehaving worker ignores its own.
        this.maxChars = maxOutputBytes;
    }

    /** On the reading thread: a chunk of output (stream 1 = stdout, 2 = stderr). */
    void output(int stream, String text) {
        lock.lock();
        try {
            if (finished) {
                return; // killed meanwhile: the result is already out
            }
            StringBuilder sb = stream == 2 ? stderr : stdout;
            long room = maxChars - sb.length();
            if (room <= 0) {
                truncated = true;
                return;
            }
            if (text.length() > room) {
                text = text.substring(0, (int) room);
                truncated = true;
            }
            sb.append(text);
        } finally {
            lock.unlock();
        }
        if (!listenerFailed) {
            try {
                listener.output(stream == 2 ? OutputListener.Stream.STDERR : OutputListener.Stream.STDOUT, text);
            } catch (RuntimeException e) {
                listenerFailed = true; // documented: a throwing listener is dropped for the rest
            }
        }
    }

    /** The worker reported the end ({@code frame} is its done frame). */
    void finish(Map<String, Object> frame) {
        end(frame, null);
    }

    /** The process died (or was killed) before the execution ended. */
    void crash(String reason) {
        end(null, reason);
    }

    private void end(Map<String, Object> frame, String reason) {
        lock.lock();
        try {
            if (!finished) {
                finished = true;
                done = frame;
                crash = reason;
                ended.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether it finished or crashed. */
    boolean hasEnded() {
        lock.lock();
        try {
            return finished;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until it ended, when another thread ends it ({@link #crash} as the process is
     * terminated). Interrupting the thread does not end the wait; the flag is kept.
     */
    void awaitEnd() {
        boolean interrupted = false;
        lock.lock();
        try {
            while (!finished) {
                try {
                    ended.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Its output so far, on any thread: the one copy there is (see {@link io.tether.runtime.Worker#outputSoFar}). */
    ExecutionOutput soFar() {
        lock.lock();
        try {
            return new ExecutionOutput(stdout.toString(), stderr.toString(), truncated);
        } finally {
            lock.unlock();
        }
    }

    String stdout() {
        return stdout.toString();
    }

    String stderr() {
        return stderr.toString();
    }

    boolean truncated() {
        return truncated;
    }

    /** The done frame, or {@code null} when the process died first. */
    Map<String, Object> done() {
        return done;
    }

    /** Why the process died, or {@code null} when the execution ended normally. */
    String crashReason() {
        return crash;
    }
}
