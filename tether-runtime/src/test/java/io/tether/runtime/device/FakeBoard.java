package io.tether.runtime.device;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A scripted raw-REPL device in the test's own process: it answers Ctrl-A with the raw
 * prompt and each piece of code with what {@code answer} returns for it, written
 * {@code chunk} bytes at a time so the reader sees partial reads.
 */
class FakeBoard implements DeviceLink {
    enum RawPaste { DECLINE, ACCEPT, HANG }

    private final PipedInputStream fromBoard = new PipedInputStream(1 << 16);
    private final PipedOutputStream boardOut;
    private final Function<String, byte[]> answer;
    private final int chunk;
    private final RawPaste rawPaste;
    private final int window;
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    volatile int interrupts;
    private volatile boolean open = true;
    private final ByteArrayOutputStream code = new ByteArrayOutputStream();
    private int pasteState; // 0 none, 1 saw ^E, 2 saw ^E A, 3 pasting
    private int pasted;

    FakeBoard(Function<String, byte[]> answer, int chunk, RawPaste rawPaste, int window) {
        this.answer = answer;
        this.chunk = chunk;
        this.rawPaste = rawPaste;
        this.window = window;
        try {
            boardOut = new PipedOutputStream(fromBoard);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    FakeBoard(Function<String, byte[]> answer, int chunk) {
        this(answer, chunk, RawPaste.DECLINE, 0);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private final OutputStream toBoard = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            received.write(b);
            take(b & 0xff);
        }
    };

    private void take(int b) throws IOException {
        if (pasteState == 3) {
            if (b == RawRepl.CTRL_D) {
                pasteState = 0;
                if (rawPaste == RawPaste.ACCEPT) {
                    send(new byte[] {RawRepl.CTRL_D});
                    run();
                }
                return;
            }
            code.write(b);
            if (++pasted % window == 0) {
                send(new byte[] {RawRepl.CTRL_A});
            }
            return;
        }
        if (pasteState == 1 && b == 'A') {
            pasteState = 2;
            return;
        }
        if (pasteState == 2 && b == RawRepl.CTRL_A) {
            if (rawPaste == RawPaste.DECLINE) {
                pasteState = 0;
                send(bytes("R\u0000"));
            } else {
                pasteState = 3;
                pasted = 0;
                send(new byte[] {'R', 1, (byte) window, (byte) (window >> 8)});
            }
            return;
        }
        pasteState = 0;
        switch (b) {
            case RawRepl.CTRL_E -> pasteState = 1;
            case RawRepl.CTRL_C -> interrupts++;
            case RawRepl.CTRL_A -> {
                code.reset();
                send(bytes("\r\nraw REPL; CTRL-B to exit\r\n>"));
            }
            case RawRepl.CTRL_D -> {
                send(bytes("OK"));
                run();
            }
            case '\r' -> { }
            default -> code.write(b);
        }
    }

    private void run() throws IOException {
        String text = code.toString(StandardCharsets.UTF_8);
        code.reset();
        send(answer.apply(text));
    }

    void send(byte[] bytes) throws IOException {
        for (int at = 0; at < bytes.length; at += chunk) {
            boardOut.write(bytes, at, Math.min(chunk, bytes.length - at));
            boardOut.flush();
        }
    }

    /** The board goes away: its output ends. */
    void unplug() throws IOException {
        open = false;
        boardOut.close();
    }

    @Override
    public InputStream input() {
        return fromBoard;
    }

    @Override
    public OutputStream output() {
        return toBoard;
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        try {
            unplug();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
