package io.tether.runtime;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Private working directories for workers: one fresh directory per worker under a root,
 * readable by this user only, deleted with the worker. Runtimes use it so every session
 * gets a directory of its own.
 */
public final class WorkDirectories {
    private WorkDirectories() {
    }

    /** {@code <java.io.tmpdir>/tether-work}: where workers' directories go unless configured. */
    public static Path defaultRoot() {
        return Path.of(System.getProperty("java.io.tmpdir"), "tether-work");
    }

    /**
     * A new empty directory under {@code root} (created if missing), mode 0700 where the file
     * system has POSIX permissions.
     *
     * @throws TetherException {@code runtime_unavailable} when it cannot be created
     */
    public static Path create(Path root, String prefix) {
        try {
            if (!Files.isDirectory(root)) { // a stat; createDirectories on an existing root costs an exception
                Files.createDirectories(root);
            }
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                return Files.createTempDirectory(root, prefix,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return Files.createTempDirectory(root, prefix);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                    "cannot create a working directory under " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes {@code dir} and everything in it; symbolic links are removed, never followed.
     * A directory already gone is fine.
     *
     * @throws UncheckedIOException when something could not be deleted
     */
    public static void delete(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete working directory " + dir, e);
        }
    }
}
