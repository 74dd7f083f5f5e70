package io.tether.runtime.python;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker's end of its control connection (a Unix-domain socket, for cold and forked
 * workers alike), read by whichever thread waits for the worker's answer: there is no
 * reader thread to hand frames over from. The socket is non-blocking and waits go through
 * its own {@link Selector}, so that a read can wait with a deadline and that interrupting
 * the reading thread cannot close the connection (a blocking read on an interruptible
 * channel would close it, and so kill the worker).
 *
 * <p>Reads are not thread-safe: one reader at a time (the caller serializes them). Writes
 * and {@link #close} may come from any thread; writes are serialized here.
 */
final class ControlChannel implements AutoCloseable {
    private static final long MAX_WRITE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final SocketChannel socket;
    private final Selector selector;
    private final Object writing = new Object();
    private final ByteBuffer out = ByteBuffer.allocateDirect(4096); // guarded by writing
    /** Read mode: the bytes read and not taken yet are between position and limit. */
    private ByteBuffer in = ByteBuffer.allocate(8192);
    private boolean swallowedInterrupt;

    private ControlChannel(SocketChannel socket, Selector selector) {
        this.socket = socket;
        this.selector = selector;
        in.limit(0);
    }

    /** Takes over {@code socket} (connected); closes it when this fails. */
    static ControlChannel of(SocketChannel socket) throws IOException {
        Selector selector = null;
        try {
            socket.configureBlocking(false);
            selector = Selector.open();
            socket.register(selector, SelectionKey.OP_READ);
            return new ControlChannel(socket, selector);
        } catch (IOException | RuntimeException e) {
            if (selector != null) {
                selector.close();
            }
            socket.close();
            throw e;
        }
    }

    /**
     * Writes {@code parts} as one message (one system call when the socket has room).
     *
     * @throws IOException when the connection is closed or broken
     */
    void write(ByteBuffer... parts) throws IOException {
        synchronized (writing) {
            int size = 0;
            for (ByteBuffer part : parts) {
                size += part.remaining();
            }
            if (size <= out.capacity()) {
                // Most frames: one copy into a direct buffer kept for this, one write; heap
                // buffers would each go through a temporary direct one.
                out.clear();
                for (ByteBuffer part : parts) {
                    out.put(part);
                }
                out.flip();
                if (socket.write(out) == size) {
                    return;
                }
                parts = new ByteBuffer[] {out};
            }
            long pause = 1_000;
            while (true) {
                socket.write(parts);
                if (!parts[parts.length - 1].hasRemaining()) {
                    return;
                }
                // The socket buffer is full (a large frame): the worker is reading it.
                LockSupport.parkNanos(pause);
                pause = Math.min(pause * 2, MAX_WRITE_PAUSE_NANOS);
            }
        }
    }

    /**
     * The next 4-byte big-endian integer, or -1 when {@code deadlineNanos}
     * ({@link System#nanoTime}; {@code Long.MAX_VALUE} for none) passed first.
     *
     * @throws EOFException when the connection ended
     * @throws IOException when it broke or was closed
     */
    long readInt(long deadlineNanos) throws IOException {
        if (!fill(4, deadlineNanos)) {
            return -1;
        }
        return in.getInt() & 0xffffffffL;
    }

    /**
     * The next {@code length} bytes as ISO-8859-1 text (the worker writes ASCII), or null
     * when {@code deadlineNanos} passed first.
     *
     * @throws EOFException when the connection ended
     * @throws IOException when it broke or was closed
     */
    String readText(int length, long deadlineNanos) throws IOException {
        if (!fill(length, deadlineNanos)) {
            return null;
        }
        String text = new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.ISO_8859_1);
        in.position(in.position() + length);
        return text;
    }

    private boolean fill(int n, long deadlineNanos) throws IOException {
        while (in.remaining() < n) {
            if (in.capacity() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(n, in.capacity() * 2));
                bigger.put(in).flip();
                in = bigger;
            }
            if (!in.hasRemaining() && !awaitReadable(deadlineNanos)) {
                return false; // nothing buffered: wait first, one system call fewer than a read that finds nothing
            }
            int start = in.position();
            int end = in.limit();
            if (in.capacity() - start < n) {
                in.compact(); // the unread bytes to the front; write mode
                end = in.position();
                start = 0;
            }
            in.limit(in.capacity()).position(end);
            int r = socket.read(in);
            in.limit(in.position()).position(start);
            if (r < 0) {
                throw new EOFException("the connection ended");
            }
            if (r == 0 && !awaitReadable(deadlineNanos)) {
                return false;
            }
        }
        return true;
    }

    /** False when the deadline passed; true when the socket may be readable now. */
    private boolean awaitReadable(long deadlineNanos) throws IOException {
        // An interrupted thread's select returns at once: keep the flag aside until the
        // caller's wait is over (restoreInterrupt), or this loop would spin.
        if (Thread.interrupted()) {
            swallowedInterrupt = true;
        }
        try {
            if (deadlineNanos == Long.MAX_VALUE) {
                selector.select(k -> { });
                return true;
            }
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            selector.select(k -> { }, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
            return true;
        } catch (ClosedSelectorException e) {
            throw new IOException("the connection was closed", e);
        }
    }

    /** Sets the reading thread's interrupt flag again if a wait took it aside; call when a wait is over. */
    void restoreInterrupt() {
        if (swallowedInterrupt) {
            swallowedInterrupt = false;
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the connection; a reader waiting in it returns with an IOException. Idempotent. */
    @Override
    public void close() {
        try {
            selector.close(); // wakes a reader waiting in select
        } catch (IOException e) {
            // nothing left to release
        }
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
