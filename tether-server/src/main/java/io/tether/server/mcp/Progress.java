package io.tether.server.mcp;

import io.tether.runtime.OutputListener;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress notifications for one running execution whose caller asked for them (a
 * {@code progressToken}): every interval, the output that arrived since the last one (or a
 * note that the code is still running), so clients see it streaming and do not time out.
 * Output is only collected on the worker's thread; a thread of its own sends, so a slow
 * client never holds up the interpreter.
 */
final class Progress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
    /** How much new output one notification carries at most. */
    static final int MAX_MESSAGE_CHARS = 4_000;

    /** Sends one progress notification; throws when the client has gone. */
    @FunctionalInterface
    interface Sink {
        void send(double progress, String message);
    }

    private final Sink sink;
    private final StringBuilder pending = new StringBuilder();
    private final Thread sender;
    private final long started = System.nanoTime();
    private boolean closed;

    Progress(Sink sink, Duration interval) {
        this.sink = sink;
        this.sender = Thread.ofVirtual().name("tether-mcp-progress").start(() -> sendEvery(interval));
    }

    /** Collects output; called by the worker as it runs. */
    void output(OutputListener.Stream stream, String text) {
        synchronized (pending) {
            if (pending.length() < MAX_MESSAGE_CHARS) {
                pending.append(stream == OutputListener.Stream.STDERR ? "[stderr] " : "").append(text);
            }
        }
    }

    private void sendEvery(Duration interval) {
        double n = 0;
        try {
            while (true) {
                synchronized (this) {
                    long deadline = System.nanoTime() + interval.toNanos();
                    long left;
                    while (!closed && (left = deadline - System.nanoTime()) > 0) {
                        wait(Math.max(1, left / 1_000_000));
                    }
                    if (closed) {
                        return;
                    }
                }
                String message;
                synchronized (pending) {
                    message = pending.isEmpty()
                            ? "running for " + (System.nanoTime() - started) / 1_000_000_000 + " s"
                            : pending.length() > MAX_MESSAGE_CHARS ? pending.substring(0, MAX_MESSAGE_CHARS) + "…"
                            : pending.toString();
                    pending.setLength(0);
                }
                sink.send(++n, message);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("stopped sending progress: {}", e.toString()); // the client went away
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            sender.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
