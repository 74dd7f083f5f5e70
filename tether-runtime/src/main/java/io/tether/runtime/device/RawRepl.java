package io.tether.runtime.device;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * MicroPython's raw REPL over one {@link DeviceLink}: Ctrl-C stops what runs, Ctrl-A enters
 * raw mode (the device answers {@code raw REPL; CTRL-B to exit\r\n>}), code then Ctrl-D runs
 * it and the device answers {@code OK}, the output, {@code \x04}, the error text,
 * {@code \x04} and {@code >}. Raw-paste mode ({@code \x05A\x01}, answered {@code R\x01}
 * and a window size, then flow-controlled code) is used when asked for.
 *
 * <p>The output is streamed through an incremental UTF-8 decoder, so a character split
 * across reads comes out whole. A literal {@code \x04} in the code's output cannot be told
 * from the protocol's (MicroPython does not escape it): the output then ends there and the
 * rest reads as error text.
 *
 * <p>One exchange at a time, on one thread; {@link #interrupt} and {@link #close} may be
 * called from any thread.
 */
final class RawRepl implements AutoCloseable {
    static final int CTRL_A = 0x01;
    static final int CTRL_B = 0x02;
    static final int CTRL_C = 0x03;
    static final int CTRL_D = 0x04;
    static final int CTRL_E = 0x05;
    private static final byte[] BANNER_END = "raw REPL; CTRL-B to exit\r\n>".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SOFT_REBOOT = "soft reboot".getBytes(StandardCharsets.US_ASCII);
    /** Written in pieces no larger than this, as boards with small UART buffers need. */
    private static final int WRITE_CHUNK = 256;

    private final DeviceLink link;
    private final ByteFeed feed;
    private final Object writeLock = new Object();

    /** Speaks to {@code link}; {@code onEnd} runs once its output ends (closed or lost). */
    RawRepl(DeviceLink link, String name, Runnable onEnd) {
        this.link = link;
        this.feed = new ByteFeed(link.input(), "tether-device-" + name, onEnd);
    }

    RawRepl(DeviceLink link, String name) {
        this(link, name, () -> { });
    }

    DeviceLink link() {
        return link;
    }

    /** Receives the text an execution prints, in order, as it arrives. */
    @FunctionalInterface
    interface Sink {
        void text(String text);
    }

    /**
     * What an execution left: its error text (a MicroPython traceback, empty when it ran to
     * its end).
     */
    record Reply(String error) {
        boolean failed() {
            return !error.isEmpty();
        }
    }

    /**
     * Stops whatever runs and enters raw mode.
     *
     * @throws DeviceException when the device does not show the raw prompt within {@code timeout}
     */
    void enter(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        write(new byte[] {'\r', CTRL_C, CTRL_C});
        feed.discardPending();
        write(new byte[] {CTRL_A});
        awaitSuffix(BANNER_END, deadline, "the raw REPL prompt");
    }

    /**
     * Soft-resets the device from raw mode (Ctrl-D at an empty prompt): its Python state,
     * timers and, on most ports, threads are gone; it comes back in raw mode.
     */
    void softReset(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        write(new byte[] {CTRL_D});
        awaitSuffix(SOFT_REBOOT, deadline, "a soft reboot");
        awaitSuffix(BANNER_END, deadline, "the raw REPL prompt after a soft reboot");
    }

    /** Sends Ctrl-C: a device that can be interrupted raises KeyboardInterrupt in the running code. */
    void interrupt() throws IOException {
        write(new byte[] {CTRL_C});
    }

    /**
     * Sends {@code code} to run in raw mode (the device must be at the raw prompt) and waits
     * for the device to accept it.
     *
     * @param rawPaste whether to use raw-paste mode; a device that declines it gets the code
     *                 the plain way
     * @return the running exchange, to {@link Exchange#finish finish}
     */
    Exchange start(byte[] code, boolean rawPaste, long deadlineNanos) throws IOException, InterruptedException {
        if (rawPaste && startRawPaste(code, deadlineNanos)) {
            return new Exchange();
        }
        writeChunked(code);
        write(new byte[] {CTRL_D});
        int o = feed.next(deadlineNanos);
        int k = feed.next(deadlineNanos);
        if (o != 'O' || k != 'K') {
            throw new DeviceException(DeviceException.Kind.PROTOCOL,
                    "the device did not accept the code: expected OK, got " + printable(new byte[] {(byte) o, (byte) k}));
        }
        return new Exchange();
    }

    /**
     * Tries raw-paste mode: {@code true} when the device took the code that way, {@code false}
     * when it declined and waits for code the plain way.
     */
    private boolean startRawPaste(byte[] code, long deadline) throws IOException, InterruptedException {
        write(new byte[] {CTRL_E, 'A', CTRL_A});
        int r = feed.next(deadline);
        int flag = feed.next(deadline);
        if (r != 'R' || flag > 1) {
            // An old firmware echoed the request as text: back to the raw prompt.
            awaitSuffix(new byte[] {'>'}, deadline, "the raw prompt after a declined raw paste");
            return false;
        }
        if (flag == 0) {
            return false;
        }
        int window = feed.next(deadline) | feed.next(deadline) << 8;
        int remaining = window;
        int at = 0;
        while (at < code.length) {
            while (remaining == 0) {
                int b = feed.next(deadline);
                if (b == CTRL_A) {
                    remaining += window;
                } else if (b == CTRL_D) {
                    throw new DeviceException(DeviceException.Kind.PROTOCOL, "the device aborted the raw paste");
                }
            }
            int n = Math.min(remaining, code.length - at);
            synchronized (writeLock) {
                link.output().write(code, at, n);
                link.output().flush();
            }
            at += n;
            remaining -= n;
        }
        write(new byte[] {CTRL_D});
        // The device answers CTRL_D once it has compiled the code; flow-control bytes may come first.
        int b;
        while ((b = feed.next(deadline)) != CTRL_D) {
            if (b != CTRL_A) {
                throw new DeviceException(DeviceException.Kind.PROTOCOL,
                        "unexpected byte " + printable(new byte[] {(byte) b}) + " ending a raw paste");
            }
        }
        return true;
    }

    /**
     * Whether raw-paste mode works: runs {@code pass} that way. A device that acknowledges it
     * and then never answers (the WebAssembly port) gives {@code false} after {@code timeout};
     * the link is then unusable and must be reopened.
     */
    boolean probeRawPaste(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            write(new byte[] {CTRL_E, 'A', CTRL_A});
            int r = feed.next(deadline);
            int flag = feed.next(deadline);
            if (r != 'R' || flag != 1) {
                if (r == 'R' && flag == 0) {
                    write(new byte[] {CTRL_D}); // the empty plain-mode code: OK, \x04, \x04, >
                    awaitSuffix(new byte[] {CTRL_D, CTRL_D, '>'}, deadline, "the raw prompt");
                } else {
                    awaitSuffix(new byte[] {'>'}, deadline, "the raw prompt after a declined raw paste");
                }
                return false;
            }
            feed.next(deadline);
            feed.next(deadline);
            write("pass".getBytes(StandardCharsets.US_ASCII));
            write(new byte[] {CTRL_D});
            int b;
            while ((b = feed.next(deadline)) != CTRL_D) {
                if (b != CTRL_A) {
                    return false;
                }
            }
            new Exchange().finish(text -> { }, deadline);
            return true;
        } catch (DeviceException e) {
            if (e.kind() == DeviceException.Kind.TIMEOUT) {
                return false;
            }
            throw e;
        }
    }

    /** Whether the link is still open. */
    boolean isOpen() {
        return link.isOpen() && !feed.ended();
    }

    long pid() {
        return link.pid();
    }

    @Override
    public void close() {
        link.close();
    }

    private void write(byte[] bytes) throws IOException {
        synchronized (writeLock) {
            OutputStream out = link.output();
            out.write(bytes);
            out.flush();
        }
    }

    private void writeChunked(byte[] bytes) throws IOException {
        for (int at = 0; at < bytes.length; at += WRITE_CHUNK) {
            synchronized (writeLock) {
                link.output().write(bytes, at, Math.min(WRITE_CHUNK, bytes.length - at));
                link.output().flush();
            }
        }
    }

    /** Reads until the bytes read end with {@code suffix}. */
    private void awaitSuffix(byte[] suffix, long deadline, String what) throws DeviceException, InterruptedException {
        byte[] window = new byte[suffix.length];
        int seen = 0;
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            while (true) {
                int b = feed.next(deadline);
                if (got.size() < 200) {
                    got.write(b);
                }
                System.arraycopy(window, 1, window, 0, window.length - 1);
                window[window.length - 1] = (byte) b;
                seen++;
                if (seen >= suffix.length && java.util.Arrays.equals(window, suffix)) {
                    return;
                }
            }
        } catch (DeviceException e) {
            throw new DeviceException(e.kind(), "waiting for " + what + ": " + e.getMessage()
                    + (got.size() == 0 ? " (it sent nothing)" : " (it sent " + printable(got.toByteArray()) + ")"));
        }
    }

    static String printable(byte[] bytes) {
        StringBuilder s = new StringBuilder("\"");
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c));
            }
        }
        return s.append('"').toString();
    }

    /**
     * The rest of one execution after the device accepted its code: its output until
     * {@code \x04}, its error text until {@code \x04}, then the prompt. A {@link #finish}
     * that ran out of time may be called again with a later deadline (after an interrupt,
     * say): it goes on where it stopped.
     */
    final class Exchange {
        private static final int OUTPUT = 0;
        private static final int ERROR = 1;
        private static final int PROMPT = 2;
        private int phase = OUTPUT;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private final ByteBuffer pending = ByteBuffer.allocate(8192);
        private final CharBuffer chars = CharBuffer.allocate(8192);
        private final ByteArrayOutputStream error = new ByteArrayOutputStream();

        /**
         * Reads the rest of the exchange, passing output to {@code sink} as it arrives.
         *
         * @throws DeviceException {@code TIMEOUT} past the deadline (the exchange may be
         *     finished later), {@code LOST}, or {@code PROTOCOL} when the prompt is missing
         */
        Reply finish(Sink sink, long deadline) throws DeviceException, InterruptedException {
            try {
                while (phase == OUTPUT) {
                    int b = feed.next(deadline);
                    if (b == CTRL_D) {
                        flush(sink, true);
                        phase = ERROR;
                        break;
                    }
                    pending.put((byte) b);
                    if (!pending.hasRemaining() || !feed.hasBuffered()) {
                        flush(sink, false);
                    }
                }
            } catch (DeviceException e) {
                flush(sink, false);
                throw e;
            }
            while (phase == ERROR) {
                int b = feed.next(deadline);
                if (b == CTRL_D) {
                    phase = PROMPT;
                } else {
                    error.write(b);
                }
            }
            int b = feed.next(deadline);
            if (b != '>') {
                throw new DeviceException(DeviceException.Kind.PROTOCOL,
                        "expected the raw prompt after an execution, got " + printable(new byte[] {(byte) b}));
            }
            return new Reply(error.toString(StandardCharsets.UTF_8));
        }

        private void flush(Sink sink, boolean end) {
            pending.flip();
            decoder.decode(pending, chars, end);
            if (end) {
                decoder.flush(chars);
            }
            pending.compact();
            chars.flip();
            if (chars.hasRemaining()) {
                sink.text(chars.toString());
            }
            chars.clear();
        }
    }
}
