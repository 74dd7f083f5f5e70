package io.tether.runtime.python;

import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One execution in flight in a {@link PythonProcess}: gathers its output (the streams, and
 * every output in order with the displays), passes it to the listener, and lets the
 * executing thread wait for its end.
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
    private final long maxDisplayChars;
    /** In order: a {@link StreamRun} per run of one stream's text, or an {@link Output.DisplayData}. */
    private final List<Object> outputs = new ArrayList<>(2);
    private OutputListener.Stream lastStream;
    private long displayChars;
    private boolean truncated;
    private boolean listenerFailed;
    private boolean awaitingInput;

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
        // The worker caps display data at maxOutputBytes characters of values; its frames
        // may be longer (JSON escapes, keys): the same bound as a frame's.
        this.maxDisplayChars = PythonProcess.maxFrameBytes(maxOutputBytes);
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
            OutputListener.Stream kind = stream == 2 ? OutputListener.Stream.STDERR : OutputListener.Stream.STDOUT;
            if (kind != lastStream) {
                outputs.add(new StreamRun(kind, new StringBuilder(text.length())));
                lastStream = kind;
            }
            ((StreamRun) outputs.get(outputs.size() - 1)).text.append(text);
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

    /**
     * On the reading thread: a display output ({@code frameChars}: the length of its frame,
     * what it costs to keep). One beyond the cap is left out and the execution marked
     * truncated (the worker caps them itself; this bites only when it does not).
     */
    void display(Output.DisplayData output, long frameChars) {
        lock.lock();
        try {
            if (finished) {
                return;
            }
            if (displayChars + frameChars > maxDisplayChars) {
                truncated = true;
                return;
            }
            displayChars += frameChars;
            if (output.truncated()) {
                truncated = true;
            }
            outputs.add(output);
            lastStream = null;
        } finally {
            lock.unlock();
        }
        if (!listenerFailed) {
            try {
                listener.display(output);
            } catch (RuntimeException e) {
                listenerFailed = true;
            }
        }
    }

    /** On the reading thread: the code waits for a line of input. */
    void inputRequested(String prompt, boolean password) {
        lock.lock();
        try {
            if (finished) {
                return;
            }
            awaitingInput = true;
        } finally {
            lock.unlock();
        }
        if (!listenerFailed) {
            try {
                listener.inputRequested(prompt, password);
            } catch (RuntimeException e) {
                listenerFailed = true;
            }
        }
    }

    /** Whether the code waits for input; it does not any more after this (one answer each). */
    boolean takeInputRequest() {
        lock.lock();
        try {
            boolean was = awaitingInput && !finished;
            awaitingInput = false;
            return was;
        } finally {
            lock.unlock();
        }
    }

    /** The outputs so far, in order: stream text and displays (not the result). */
    List<Output> outputs() {
        lock.lock();
        try {
            List<Output> list = new ArrayList<>(outputs.size() + 1);
            for (Object o : outputs) {
                list.add(o instanceof StreamRun run ? new Output.StreamText(run.stream, run.text.toString()) : (Output) o);
            }
            return list;
        } finally {
            lock.unlock();
        }
    }

    private record StreamRun(OutputListener.Stream stream, StringBuilder text) {
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
            return new ExecutionOutput(stdout.toString(), stderr.toString(), truncated, outputs());
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
