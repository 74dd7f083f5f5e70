package io.tether.runtime;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
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
     * A tree deeper than {@code PATH_MAX} is deleted too (see {@link DirectoryUsage}: the same
     * walk from open directory to open directory). A directory already gone is fine.
     *
     * @throws UncheckedIOException when something could not be deleted
     */
    public static void delete(Path dir) {
        try {
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return;
            }
            if (attrs.isDirectory() && !DescriptorWalk.walk(dir, DELETE)) {
                deleteByPath(dir);
                return;
            }
            Files.deleteIfExists(dir);
        } catch (NoSuchFileException e) {
            // Deleted meanwhile by another caller (a kill and the execution it ends both close):
            // gone is what was asked; anything left is an error.
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new UncheckedIOException("cannot delete working directory " + dir, e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete working directory " + dir, e);
        }
    }

    /** Deletes files as they are found and directories once they are empty. */
    private static final DescriptorWalk.Visitor DELETE = new DescriptorWalk.Visitor() {
        @Override
        public boolean visit(SecureDirectoryStream<Path> dir, Path name, BasicFileAttributes attrs)
                throws IOException {
            if (attrs.isDirectory()) {
                return true;
            }
            try {
                dir.deleteFile(name);
            } catch (NoSuchFileException e) {
                // deleted by someone else meanwhile (a second close racing this one): what this walk wanted
            }
            return false;
        }

        @Override
        public void leave(SecureDirectoryStream<Path> parent, Path name) throws IOException {
            try {
                parent.deleteDirectory(name);
            } catch (NoSuchFileException e) {
                // deleted by someone else meanwhile, as above
            }
        }
    };

    /** Where the platform has no {@link SecureDirectoryStream}. */
    private static void deleteByPath(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
