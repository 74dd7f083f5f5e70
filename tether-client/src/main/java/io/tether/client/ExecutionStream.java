package io.tether.client;

import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The events of one execution as they happen, read from a server-sent event stream:
 * {@link ExecutionEvent.Start}, output, then the outcome, and always
 * {@link ExecutionEvent.End} last.
 *
 * <p>{@link #hasNext()} blocks until the next event arrives. When no line arrives for the
 * stream timeout (the server sends a keep-alive comment every 15 s while the code is
 * quiet), it closes the stream and throws {@code stream_timeout}; a broken connection
 * throws {@code connection_lost}. Neither stops the execution: it runs to its end in the
 * server and can be fetched with {@link TetherClient#execution(String, long)} by
 * {@link #number()}.
 *
 * <p>Close it when you stop reading before the end: that closes its connection. After
 * {@code End} it has closed itself and its connection serves the next call. Not
 * thread-safe: one consumer reads it.
 */
public final class ExecutionStream implements Iterator<ExecutionEvent>, AutoCloseable {
    private final String sessionId;
    private final long number;
    private final boolean newSession;
    private final Transport.OpenStream open;
    private final Duration silence;
    private final Runnable onClose;
    private ExecutionEvent next;
    private Execution end;
    private boolean done;
    private boolean closed;

    ExecutionStream(String sessionId, long number, boolean newSession, Transport.OpenStream open, Duration silence,
                    Runnable onClose) {
        this.sessionId = sessionId;
        this.number = number;
        this.newSession = newSession;
        this.open = open;
        this.silence = silence;
        this.onClose = onClose;
    }

    /** The session the code runs in. */
    public String sessionId() {
        return sessionId;
    }

    /** The execution's number in its session (from the {@code Tether-Execution} header). */
    public long number() {
        return number;
    }

    /** Whether its session was created for this call (see {@link Execution#newSession()}). */
    public boolean newSession() {
        return newSession;
    }

    /**
     * Whether another event comes; blocks until it arrives or the stream ends.
     *
     * @throws TetherClientException {@code stream_timeout}, {@code connection_lost} or
     *     {@code interrupted}; the stream is closed then
     */
    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        if (done) {
            return false;
        }
        if (closed) {
            throw new IllegalStateException("the stream of execution " + number + " was closed before its end");
        }
        next = read();
        return true;
    }

    /** The next event; blocks like {@link #hasNext()}. */
    @Override
    public ExecutionEvent next() {
        if (!hasNext()) {
            throw new NoSuchElementException("execution " + number + " has ended");
        }
        ExecutionEvent e = next;
        next = null;
        return e;
    }

    /** The remaining events as a sequential stream; closing it closes this. */
    public Stream<ExecutionEvent> stream() {
        int traits = Spliterator.ORDERED | Spliterator.NONNULL;
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, traits), false).onClose(this::close);
    }

    /** Reads the remaining events and returns the whole execution (as its {@code End} event carries it). */
    public Execution finish() {
        while (hasNext()) {
            next();
        }
        return end;
    }

    /**
     * Stops reading and closes the connection, unless the stream already ended (then its
     * connection is back in the pool). The execution is not affected. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!done) {
            abort();
        }
        onClose.run();
    }

    /** Stops the stream from any thread: a reader waiting in {@link #hasNext()} wakes with {@code interrupted}. */
    void abort() {
        open.lines().cancel();
        open.exchange().cancel(true);
    }

    private ExecutionEvent read() {
        Object item = take();
        if (item instanceof ExecutionEvent.End e) {
            Execution x = newSession ? e.execution().asNewSession() : e.execution();
            end = x;
            awaitBodyEnd();
            done = true;
            close();
            return new ExecutionEvent.End(x);
        }
        if (item instanceof ExecutionEvent e) {
            return e;
        }
        close();
        if (item == EventLines.SILENT) {
            throw TetherClientException.local("stream_timeout", "no event for " + silence + " on the stream of "
                    + "execution " + number + " of session " + sessionId + "; it goes on in the server: fetch it by "
                    + "number", false, true, null);
        }
        if (item == EventLines.CANCELLED) {
            throw TetherClientException.local("interrupted", "the stream of execution " + number + " of session "
                    + sessionId + " was cancelled (its subscriber cancelled, or the client was closed)", false, true,
                    null);
        }
        if (item == EventLines.COMPLETE) {
            throw TetherClientException.local("connection_lost", "the stream of execution " + number + " of session "
                    + sessionId + " ended before its end event; it goes on in the server: fetch it by number", false,
                    true, null);
        }
        if (item instanceof TetherClientException t) {
            throw t;
        }
        Throwable t = (Throwable) item;
        throw TetherClientException.local("connection_lost", "the stream of execution " + number + " of session "
                + sessionId + " broke (" + t + "); it goes on in the server: fetch it by number", false, true, t);
    }

    /**
     * After {@code End} only the end of the body follows: wait for it, so that the
     * connection is back in the pool before the caller's next request. A connection that
     * breaks just then costs nothing, since the execution is already complete.
     */
    private void awaitBodyEnd() {
        Object item;
        try {
            item = open.lines().take(silence);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the caller still gets the end it already has
            item = null;
        }
        if (item != EventLines.COMPLETE && !(item instanceof IOException)) {
            open.lines().cancel(); // silence, an interrupt or more than a stream has: give up the connection
        }
    }

    private Object take() {
        try {
            return open.lines().take(silence);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw TetherClientException.local("interrupted", "interrupted while reading the stream of execution "
                    + number, false, true, e);
        }
    }
}
