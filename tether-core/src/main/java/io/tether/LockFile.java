package io.tether;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

/**
 * An exclusive lock on a file, held while this is open: how one owner at a time is kept for
 * something on disk (a store file, a data directory's work root). The operating system drops
 * the lock when the process dies, so a crash never leaves it held; the file itself stays
 * (deleting it would race with the next locker).
 */
public final class LockFile implements AutoCloseable {
    /** Who holds a lock that could not be taken. */
    public enum Holder { THIS_PROCESS, ANOTHER_PROCESS }

    /** The lock is held already; {@link #holder()} says by whom. */
    public static final class HeldException extends Exception {
        private final Holder holder;

        HeldException(Path path, Holder holder) {
            super(path + " is locked by " + (holder == Holder.THIS_PROCESS ? "this process" : "another process"));
            this.holder = holder;
        }

        public Holder holder() {
            return holder;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private LockFile(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code path}, creating it (with {@code attributes}) when missing.
     *
     * @throws HeldException when it is locked already, in this process or another
     * @throws IOException when it cannot be opened or locked
     */
    public static LockFile lock(Path path, FileAttribute<?>... attributes) throws IOException, HeldException {
        FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                attributes);
        Holder held;
        try {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new LockFile(path, channel, lock);
            }
            held = Holder.ANOTHER_PROCESS;
        } catch (OverlappingFileLockException e) {
            held = Holder.THIS_PROCESS;
        } catch (IOException | RuntimeException e) {
            closeAfter(channel, e);
            throw e;
        }
        HeldException refused = new HeldException(path, held);
        closeAfter(channel, refused);
        throw refused;
    }

    private static void closeAfter(FileChannel channel, Exception failure) {
        try {
            channel.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    public Path path() {
        return path;
    }

    /** Releases the lock. Idempotent. */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
