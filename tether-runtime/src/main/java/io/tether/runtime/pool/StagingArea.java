package io.tether.runtime.pool;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's own directory, where workers are pre-started before anyone knows which session
 * will get them, and the move that gives such a directory to a session.
 *
 * <p>A pre-started worker lives in {@code <root>/w-<n>}. On hand-out that directory is
 * renamed onto the session's (empty) directory in one atomic {@code rename(2)}: a process's
 * current directory is an inode, not a path, so the running worker is then in the
 * session's directory without being told. A symbolic link is left at the old path,
 * pointing to the new one, so anything that remembered the old path string (a worker that
 * restarts its interpreter in its original directory, a JVM's {@code user.dir}) still lands
 * in the session's directory. The link is removed when the worker is closed.
 *
 * <p>The rename needs the session's directory on the same file system as the root and
 * empty (or absent); otherwise {@link #moveInto} refuses and the pool starts a worker
 * directly instead. On POSIX systems the directories are private to the owner (0700).
 * Thread-safe.
 */
final class StagingArea {
    private static final Logger log = LoggerFactory.getLogger(StagingArea.class);

    private final Path root;
    private final boolean posix;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicBoolean warnedCrossDevice = new AtomicBoolean();

    private StagingArea(Path root, boolean posix) {
        this.root = root;
        this.posix = posix;
    }

    /** A fresh, private directory for one pool under {@code parent}. */
    static StagingArea create(Path parent, String runtime) throws IOException {
        Files.createDirectories(parent);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Path root = posix
                ? Files.createTempDirectory(parent, "tether-pool-" + runtime + "-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                : Files.createTempDirectory(parent, "tether-pool-" + runtime + "-");
        return new StagingArea(root.toAbsolutePath(), posix);
    }

    Path root() {
        return root;
    }

    /** A new empty directory for one pre-started worker. */
    Path newDirectory() throws IOException {
        Path dir = root.resolve("w-" + sequence.incrementAndGet());
        return posix
                ? Files.createDirectory(dir,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
                : Files.createDirectory(dir);
    }

    /**
     * Renames {@code staged} onto {@code target} and leaves a link from {@code staged} to it.
     *
     * @return false, with nothing changed, when {@code target} is not empty, is not a
     *     directory, or is on another file system
     */
    boolean moveInto(Path staged, Path target) {
        Path absolute = target.toAbsolutePath();
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            // rename(2) replaces an empty directory atomically and fails on a non-empty one.
            Files.move(staged, absolute, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            if (warnedCrossDevice.compareAndSet(false, true)) {
                log.warn("Pool directory {} is on another file system than session directory {}: every "
                        + "acquisition will start a worker; set the pool's staging directory next to the "
                        + "session directories", root, absolute);
            }
            return false;
        } catch (DirectoryNotEmptyException e) {
            log.debug("Session directory {} is not empty; starting a worker in it directly", absolute);
            return false;
        } catch (IOException e) {
            log.debug("Could not move {} to {}: {}", staged, absolute, e.toString());
            return false;
        }
        try {
            Files.createSymbolicLink(staged, absolute);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("Could not link {} to {}; a restart of that worker may not find its directory: {}",
                    staged, absolute, e.toString());
        }
        return true;
    }

    /** Removes the link a {@link #moveInto} left; the session's directory is not touched. */
    void unlink(Path staged) {
        try {
            if (Files.isSymbolicLink(staged)) {
                Files.delete(staged);
            }
        } catch (IOException e) {
            log.warn("Could not remove pool link {}: {}", staged, e.toString());
        }
    }

    /** Deletes a directory that was never handed out, with whatever the worker wrote in it. */
    void delete(Path staged) {
        if (Files.isSymbolicLink(staged)) {
            unlink(staged);
            return;
        }
        try {
            Files.walkFileTree(staged, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                    if (failure != null) {
                        throw failure;
                    }
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone: nothing to clean
        } catch (IOException e) {
            log.warn("Could not delete pool directory {}: {}", staged, e.toString());
        }
    }

    /**
     * Deletes the root once nothing is left in it. Links of workers still handed out keep it
     * alive; the last of them to close removes it.
     */
    void deleteRootIfEmpty() {
        try {
            Files.deleteIfExists(root);
        } catch (DirectoryNotEmptyException e) {
            log.debug("Pool directory {} still holds links of handed-out workers", root);
        } catch (IOException e) {
            log.warn("Could not delete pool directory {}: {}", root, e.toString());
        }
    }
}
