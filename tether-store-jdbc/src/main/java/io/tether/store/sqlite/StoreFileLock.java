package io.tether.store.sqlite;

import io.tether.ErrorCode;
import io.tether.LockFile;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The exclusive lock on {@code <database file>.lock}, held while a store is open, so that one
 * session manager at a time writes a file: a second store on the same file, in this process or
 * another, is refused instead of silently competing.
 *
 * <p>The operating system drops the lock when the process dies, so a crash never leaves the
 * file locked; the lock file itself stays (deleting it would race with the next opener).
 */
final class StoreFileLock {
    private StoreFileLock() {
    }

    /**
     * @throws TetherException {@code store_failure} when the file is locked or the lock file
     *     cannot be opened
     */
    static LockFile acquire(Path databaseFile) {
        Path lockFile = databaseFile.resolveSibling(databaseFile.getFileName() + ".lock");
        try {
            return LockFile.lock(lockFile, SqliteFile.ownerOnly(lockFile));
        } catch (LockFile.HeldException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + databaseFile + " is already open in "
                    + (e.holder() == LockFile.Holder.THIS_PROCESS ? "this process" : "another process") + " ("
                    + lockFile + " is locked); a store file has a single writer, so close the other store first", e);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + databaseFile
                    + ": cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
    }
}
