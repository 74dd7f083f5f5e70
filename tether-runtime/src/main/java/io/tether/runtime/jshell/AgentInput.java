package io.tether.runtime.jshell;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * {@code System.in} of a JShell agent: the execution's stdin text, then, when the parent
 * answers input requests, one line per request ({@link Wire#INPUT_REQUEST} out,
 * {@link Wire#INPUT} back); otherwise end of file. A read that waits for an answer ends
 * with an {@link InterruptedIOException} when the execution is stopped (an interrupt, a
 * timeout): {@code JShell.stop()} cannot reach a thread blocked here.
 *
 * <p>The evaluating thread reads; the agent's reading thread answers and wakes it.
 */
final class AgentInput extends InputStream {
    /** Sends the input request (after flushing the output written before it). */
    interface Asker {
        void ask() throws IOException;
    }

    private final Asker asker;
    private byte[] buffer = new byte[0];
    private int position;
    private boolean interactive;
    private BooleanSupplier stopped = () -> false;
    private byte[] answer;
    private boolean waiting;

    AgentInput(Asker asker) {
        this.asker = asker;
    }

    /** A new execution: its stdin text ({@code null} for none), and whether input is asked for past it. */
    synchronized void begin(String stdin, boolean interactive, BooleanSupplier stopped) {
        this.buffer = stdin == null ? new byte[0] : stdin.getBytes(StandardCharsets.UTF_8);
        this.position = 0;
        this.interactive = interactive;
        this.stopped = stopped;
        this.answer = null;
        this.waiting = false;
    }

    /** The answer to the request the evaluating thread waits on; dropped when none waits. */
    synchronized void answer(String line) {
        if (waiting) {
            answer = (line + "\n").getBytes(StandardCharsets.UTF_8);
            notifyAll();
        }
    }

    /** The execution was stopped: a waiting read gives up. */
    synchronized void wake() {
        notifyAll();
    }

    @Override
    public synchronized int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return buffer[position++] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, buffer.length - position);
        System.arraycopy(buffer, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public synchronized int available() {
        return buffer.length - position;
    }

    /** False at end of file; else something is buffered. Holds the lock. */
    private boolean fill() throws IOException {
        if (position < buffer.length) {
            return true;
        }
        if (!interactive || stopped.getAsBoolean()) {
            return false;
        }
        answer = null;
        waiting = true;
        try {
            asker.ask();
            while (answer == null) {
                if (stopped.getAsBoolean()) {
                    throw new InterruptedIOException("the execution was interrupted while it waited for input");
                }
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for input");
                }
            }
        } finally {
            waiting = false;
        }
        buffer = answer;
        position = 0;
        answer = null;
        return true;
    }
}
