package io.tether.runtime.python;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The worker program, {@code worker.py}, copied out of the jar once per JVM into a private
 * temporary file (mode 0600, deleted on exit) so that the interpreter can run it by path.
 */
final class WorkerScript {
    private static volatile Path path;

    private WorkerScript() {
    }

    /** The extracted script; extracts it on first use. Thread-safe. */
    static Path path() {
        Path p = path;
        if (p == null) {
            synchronized (WorkerScript.class) {
                p = path;
                if (p == null) {
                    p = extract();
                    path = p;
                }
            }
        }
        return p;
    }

    private static Path extract() {
        try (InputStream in = WorkerScript.class.getResourceAsStream("worker.py")) {
            if (in == null) {
                throw new TetherException(ErrorCode.INTERNAL, "worker.py is missing from the tether-runtime jar");
            }
            Path file = Files.createTempFile("tether-python-worker-", ".py",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot write the Python worker script: " + e, e);
        }
    }
}
