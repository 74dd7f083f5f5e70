package io.tether.runtime.sandbox;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Tether's Python programs ({@code worker.py}, {@code sandbox.py}), copied out of the jar
 * once per JVM into a temporary directory (deleted on exit) so that interpreters can run
 * them by path, also inside a jail that runs as another user: the directory is readable by
 * everyone (mode 0755, files 0644; they hold no secret) and writable by this user only.
 */
public final class ScriptDirectory {
    private static final List<String> PROGRAMS = List.of("worker.py", "sandbox.py");
    private static volatile Path directory;

    private ScriptDirectory() {
    }

    /**
     * The directory; extracts the programs on first use. Thread-safe.
     *
     * @throws TetherException {@code runtime_unavailable} when they cannot be written
     */
    public static Path get() {
        Path d = directory;
        if (d == null) {
            synchronized (ScriptDirectory.class) {
                d = directory;
                if (d == null) {
                    d = extract();
                    directory = d;
                }
            }
        }
        return d;
    }

    private static Path extract() {
        try {
            Path dir = Files.createTempDirectory("tether-python-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            dir.toFile().deleteOnExit();
            for (String name : PROGRAMS) {
                try (InputStream in = ScriptDirectory.class.getResourceAsStream("/io/tether/runtime/python/" + name)) {
                    if (in == null) {
                        throw new TetherException(ErrorCode.INTERNAL, name + " is missing from the tether-runtime jar");
                    }
                    Path file = dir.resolve(name);
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
                    file.toFile().deleteOnExit();
                }
            }
            return dir;
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot write Tether's Python programs: " + e, e);
        }
    }
}
