package io.tether.store.sqlite;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * An exclusive lock on {@code <database file>.lock}, held while a store is open, so that one
 * session manager at a time writes a file: a second store on the same file, in this process or
 * another, is refused instead of silently competing.
 *
 * <p>The operating system drops the lock when the process dies, so a crash never leaves the
 * file locked; the lock file itself stays (deleting it would race with the next opener).
 */
final class StoreFileLock implements AutoCloseable {
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;

    private StoreFileLock(Path lockFile, FileChannel channel, FileLock lock) {
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * @throws TetherException {@code store_failure} when the file is locked or the lock file
     *     cannot be opened
     */
    static StoreFileLock acquire(Path databaseFile) {
        Path lockFile = databaseFile.resolveSibling(databaseFile.getFileName() + ".lock");
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    SqliteFile.ownerOnly(lockFile));
        } catch (IOException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + databaseFile
                    + ": cannot open lock file " + lockFile + ": " + e.getMessage(), e);
        }
        TetherException refused;
        try {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new StoreFileLock(lockFile, channel, lock);
            }
            refused = alreadyOpen(databaseFile, lockFile, "another process");
        } catch (OverlappingFileLockException e) {
            refused = alreadyOpen(databaseFile, lockFile, "this process");
        } catch (IOException e) {
            refused = new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + databaseFile
                    + ": cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
        try {
            channel.close();
        } catch (IOException e) {
            refused.addSuppressed(e);
        }
        throw refused;
    }

    private static TetherException alreadyOpen(Path databaseFile, Path lockFile, String holder) {
        return new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + databaseFile
                + " is already open in " + holder + " (" + lockFile + " is locked); a store file "
                + "has a single writer, so close the other store first");
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
        return lockFile.toString();
    }
}
