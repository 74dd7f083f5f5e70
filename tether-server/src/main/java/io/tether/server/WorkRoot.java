package io.tether.server;

import io.tether.LockFile;
import io.tether.runtime.WorkDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's work root, {@code <data dir>/work}, where every worker's working directory
 * goes: owned by one server at a time, through an exclusive lock on
 * {@code <data dir>/work.lock} held while the server runs.
 *
 * <p>Claiming it empties it. At that point this server has no worker yet, and the lock says
 * no other server has one either, so whatever is there was left by a server that died without
 * closing (kill -9, power loss): the directories of its sessions, which the store ends
 * {@code node_lost}, and of its pre-started workers. Nothing a session wrote outlives it.
 *
 * <p>The operating system drops the lock when the process dies, so a crash never leaves the
 * root claimed.
 */
final class WorkRoot implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkRoot.class);
    static final String DIRECTORY = "work";
    static final String LOCK_FILE = "work.lock";

    private final Path path;
    private final LockFile lock;

    private WorkRoot(Path path, LockFile lock) {
        this.path = path;
        this.lock = lock;
    }

    /**
     * Locks the work root of {@code dataDir} and deletes everything in it.
     *
     * @throws IllegalArgumentException when another server (in this process or another) holds
     *     it, or the lock file cannot be opened; nothing is deleted then
     */
    static WorkRoot claim(Path dataDir) {
        Path lockFile = dataDir.resolve(LOCK_FILE);
        LockFile lock;
        try {
            lock = LockFile.lock(lockFile);
        } catch (LockFile.HeldException e) {
            throw new IllegalArgumentException("the data directory " + dataDir + " is in use by another Tether "
                    + "server (" + lockFile + " is locked); stop it first, or give this one another data_dir", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
        WorkRoot root = new WorkRoot(dataDir.resolve(DIRECTORY), lock);
        root.sweep();
        return root;
    }

    /** The directory workers' directories go in. */
    Path path() {
        return path;
    }

    /** Deletes every entry of the root; one that cannot be deleted is logged and left. */
    private void sweep() {
        List<Path> entries;
        try (Stream<Path> s = Files.list(path)) {
            entries = s.toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        } catch (IOException e) {
            LOG.warn("cannot list the work root {} to remove what a previous server left: {}", path, e.toString());
            return;
        }
        int removed = 0;
        for (Path entry : entries) {
            try {
                WorkDirectories.delete(entry);
                removed++;
            } catch (UncheckedIOException e) {
                LOG.warn("cannot remove {}, left by a previous server: {}", entry, e.getCause().toString());
            }
        }
        if (removed > 0) {
            LOG.info("removed {} working directories a previous server left in {}", removed, path);
        }
    }

    /** Releases the lock. Idempotent. */
    @Override
    public void close() {
        try {
            lock.close();
        } catch (IOException e) {
            LOG.warn("cannot release {}: {}", LOCK_FILE, e.toString());
        }
    }
}
