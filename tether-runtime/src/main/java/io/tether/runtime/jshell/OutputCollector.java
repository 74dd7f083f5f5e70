package io.tether.runtime.jshell;

import java.nio.charset.StandardCharsets;

import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.OutputListener;

/**
 * The output of one execution on the parent's side: keeps up to the limit per stream, marks
 * the rest truncated, and passes what it keeps to the listener. A listener that throws is
 * ignored for the rest of the execution. Thread-safe: agent frames and the JVM's own
 * stdout and stderr arrive on different threads.
 */
final class OutputCollector {
    private final long limit;
    private OutputListener listener;
    private final StringBuilder stdout = new StringBuilder();
    private final StringBuilder stderr = new StringBuilder();
    private long stdoutBytes;
    private long stderrBytes;
    private boolean truncated;

    OutputCollector(long limit, OutputListener listener) {
        this.limit = limit;
        this.listener = listener;
    }

    synchronized void append(OutputListener.Stream stream, String text) {
        boolean isOut = stream == OutputListener.Stream.STDOUT;
        long used = isOut ? stdoutBytes : stderrBytes;
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        long room = limit - used;
        if (utf8.length > room) {
            truncated = true;
            int fits = CaptureStream.completeUtf8Prefix(utf8, (int) Math.max(0, room));
            text = new String(utf8, 0, fits, StandardCharsets.UTF_8);
            used += fits;
        } else {
            used += utf8.length;
        }
        if (isOut) {
            stdoutBytes = used;
            stdout.append(text);
        } else {
            stderrBytes = used;
            stderr.append(text);
        }
        if (text.isEmpty() || listener == null) {
            return;
        }
        try {
            listener.output(stream, text);
        } catch (RuntimeException e) {
            listener = null;
        }
    }

    /** The code waits for a line of input (System.in has no prompt). */
    synchronized void inputRequested() {
        if (listener == null) {
            return;
        }
        try {
            listener.inputRequested("", false);
        } catch (RuntimeException e) {
            listener = null;
        }
    }

    synchronized void markTruncated() {
        truncated = true;
    }

    /** What it kept so far, on any thread (see {@link io.tether.runtime.Worker#outputSoFar}). */
    synchronized ExecutionOutput soFar() {
        return new ExecutionOutput(stdout.toString(), stderr.toString(), truncated);
    }

    synchronized String stdout() {
        return stdout.toString();
    }

    synchronized String stderr() {
        return stderr.toString();
    }

    synchronized boolean truncated() {
        return truncated;
    }
}
