package io.tether.runtime.jshell;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Inside the agent: what {@code System.out} or {@code System.err} writes into. Bytes are
 * buffered and sent as frames when the buffer fills, when {@link #flush} is called (the
 * agent's flusher does so every few milliseconds, and at the end of every execution),
 * never in the middle of a UTF-8 sequence. Past the per-execution limit bytes are dropped
 * and {@link #truncated} says so; the agent's JVM is then spared sending what the parent
 * would drop anyway.
 *
 * <p>Thread-safe: user code may print from any thread.
 */
final class CaptureStream extends OutputStream {
    /** Interface to the channel, so tests need no socket. */
    interface Sink {
        void send(byte type, byte[] payload) throws IOException;
    }

    private static final int BUFFER = 8 << 10;

    private final Sink sink;
    private final byte frameType;
    private byte[] buffer = new byte[BUFFER];
    private int count;
    private long limit = Long.MAX_VALUE;
    private long kept;
    private boolean truncated;

    CaptureStream(Sink sink, byte frameType) {
        this.sink = sink;
        this.frameType = frameType;
    }

    /** Starts counting for a new execution that may keep {@code limit} bytes. */
    synchronized void begin(long limit) {
        this.limit = limit;
        this.kept = 0;
        this.truncated = false;
    }

    synchronized boolean truncated() {
        return truncated;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        long room = limit - kept;
        if (len > room) {
            truncated = true;
            int fits = (int) Math.max(0, room);
            len = completeUtf8Prefix(Arrays.copyOfRange(b, off, off + fits), fits);
        }
        if (len == 0) {
            return;
        }
        kept += len;
        if (count + len > buffer.length) {
            buffer = Arrays.copyOf(buffer, count + len);
        }
        System.arraycopy(b, off, buffer, count, len);
        count += len;
        if (count >= BUFFER) {
            send(completeUtf8Prefix(buffer, count));
        }
    }

    /** Sends what is buffered up to the last complete UTF-8 character. */
    @Override
    public synchronized void flush() throws IOException {
        send(completeUtf8Prefix(buffer, count));
    }

    /** Sends everything buffered, also a partial character (at the end of an execution). */
    synchronized void flushAll() throws IOException {
        send(count);
    }

    private void send(int length) throws IOException {
        if (length == 0) {
            return;
        }
        byte[] text = Arrays.copyOf(buffer, length);
        System.arraycopy(buffer, length, buffer, 0, count - length);
        count -= length;
        if (buffer.length > BUFFER && count <= BUFFER) {
            buffer = Arrays.copyOf(buffer, BUFFER);
        }
        // The frame carries the string as UTF-8: the same bytes, behind a length.
        byte[] payload = new byte[4 + text.length];
        java.nio.ByteBuffer.wrap(payload).putInt(text.length).put(text);
        sink.send(frameType, payload);
    }

    /**
     * The length of the longest prefix of {@code bytes[0, length)} that does not end
     * inside a UTF-8 sequence.
     */
    static int completeUtf8Prefix(byte[] bytes, int length) {
        // A sequence is at most 4 bytes: look back at most 3 for its lead byte.
        for (int i = length - 1; i >= Math.max(0, length - 4); i--) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                return length;
            }
            if (b >= 0xC0) {
                int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return length - i >= need ? length : i;
            }
        }
        return length;
    }
}
