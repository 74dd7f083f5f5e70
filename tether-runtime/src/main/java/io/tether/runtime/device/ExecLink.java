package io.tether.runtime.device;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A process whose standard input and output are the REPL. */
final class ExecLink implements DeviceLink {
    private final Process process;
    private final StringBuilder stderr = new StringBuilder();

    private ExecLink(Process process) {
        this.process = process;
        Thread.ofVirtual().name("tether-device-stderr-" + process.pid()).start(this::keepStderr);
    }

    static ExecLink start(List<String> command) throws DeviceException {
        try {
            return new ExecLink(new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new DeviceException(DeviceException.Kind.LOST,
                    "cannot start the device process " + command + ": " + e.getMessage());
        }
    }

    private void keepStderr() {
        try (InputStream err = process.getErrorStream()) {
            byte[] b = new byte[1024];
            int n;
            while ((n = err.read(b)) >= 0) {
                synchronized (stderr) {
                    stderr.append(new String(b, 0, n, StandardCharsets.UTF_8));
                    if (stderr.length() > 2000) {
                        stderr.delete(0, stderr.length() - 2000);
                    }
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** The end of what the process wrote to its standard error, for messages. */
    String stderrTail() {
        synchronized (stderr) {
            return stderr.toString().strip();
        }
    }

    @Override
    public InputStream input() {
        return process.getInputStream();
    }

    @Override
    public OutputStream output() {
        return process.getOutputStream();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public boolean isOpen() {
        return process.isAlive();
    }

    Process process() {
        return process;
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
