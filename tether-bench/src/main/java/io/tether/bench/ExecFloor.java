package io.tether.bench;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The floor for an execute round trip: the least a Python worker over pipes can do. A bare
 * interpreter (same flags as Tether's workers) reads a 4-byte big-endian length and that
 * many bytes of code from stdin, {@code exec}s it in one dict and writes a 1-byte ack. No
 * output capture, no result value, no timeouts, no session bookkeeping.
 */
final class ExecFloor implements AutoCloseable {
    private static final String SCRIPT = String.join("\n",
            "import sys",
            "r = sys.stdin.buffer; w = sys.stdout.buffer; g = {}",
            "while True:",
            "    h = r.read(4)",
            "    if len(h) < 4: break",
            "    exec(r.read(int.from_bytes(h, 'big')), g)",
            "    w.write(b'\\x01'); w.flush()",
            "");

    private final Process process;
    private final DataOutputStream in;
    private final InputStream out;

    ExecFloor(String python) throws IOException {
        process = new ProcessBuilder(List.of(python, "-E", "-B", "-c", SCRIPT))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        in = new DataOutputStream(new BufferedOutputStream(process.getOutputStream()));
        out = process.getInputStream();
    }

    /** Runs {@code code} and waits for its ack. */
    void exec(byte[] code) throws IOException {
        in.writeInt(code.length);
        in.write(code);
        in.flush();
        if (out.read() != 1) {
            throw new EOFException("the floor worker exited (exit code " + process.exitValue() + ")");
        }
    }

    static byte[] utf8(String code) {
        return code.getBytes(StandardCharsets.UTF_8);
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws IOException {
        in.close(); // end of stdin ends the loop
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
