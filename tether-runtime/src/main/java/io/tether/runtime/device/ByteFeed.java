package io.tether.runtime.device;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads a device's output on a thread of its own, so the protocol can wait for a byte with
 * a deadline: a link's {@link InputStream} (a pipe, a socket, a serial port) blocks without
 * one. Single consumer; the reading thread ends with the stream.
 */
final class ByteFeed {
    private static final byte[] END = new byte[0];

    private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    private byte[] chunk = new byte[0];
    private int at;
    private boolean ended;

    /** Starts reading {@code in}; {@code onEnd} runs on the reading thread when it ends. */
    ByteFeed(InputStream in, String name, Runnable onEnd) {
        Thread.ofVirtual().name(name).start(() -> {
            pump(in);
            onEnd.run();
        });
    }

    private void pump(InputStream in) {
        byte[] buffer = new byte[4096];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (n > 0) {
                    chunks.add(Arrays.copyOf(buffer, n));
                }
            }
        } catch (IOException e) {
            // the link was closed or lost: either way its output has ended
        } finally {
            chunks.add(END);
        }
    }

    /**
     * The next byte (0–255), waiting until {@code deadlineNanos} ({@link System#nanoTime}).
     *
     * @throws DeviceException {@code TIMEOUT} past the deadline, {@code LOST} at end of stream
     * @throws InterruptedException when the waiting thread is interrupted
     */
    int next(long deadlineNanos) throws DeviceException, InterruptedException {
        while (at == chunk.length) {
            if (ended) {
                throw new DeviceException(DeviceException.Kind.LOST, "the device's connection ended");
            }
            long wait = deadlineNanos - System.nanoTime();
            byte[] c = wait > 0 ? chunks.poll(wait, TimeUnit.NANOSECONDS) : chunks.poll();
            if (c == null) {
                throw new DeviceException(DeviceException.Kind.TIMEOUT, "the device did not answer in time");
            }
            if (c == END) {
                ended = true;
            }
            chunk = c;
            at = 0;
        }
        return chunk[at++] & 0xff;
    }

    /** Drops whatever arrived so far without waiting. */
    void discardPending() {
        at = chunk.length;
        byte[] c;
        while ((c = chunks.poll()) != null) {
            if (c == END) {
                ended = true;
            }
        }
    }

    /** Whether bytes already arrived that {@link #next} returns without waiting. */
    boolean hasBuffered() {
        return at < chunk.length || !chunks.isEmpty() && chunks.peek() != END;
    }

    /** Whether the stream has ended (as far as already read). */
    boolean ended() {
        return ended;
    }
}
