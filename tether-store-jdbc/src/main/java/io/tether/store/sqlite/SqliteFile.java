package io.tether.store.sqlite;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/**
 * The database file of one store: opens its connections with the settings the store relies
 * on, and turns SQL failures into {@code store_failure} errors that name the file.
 */
final class SqliteFile {
    /**
     * How long a connection waits for a lock another connection holds. The store has a single
     * writer, so waits are rare (a checkpoint, WAL recovery); a stuck lock fails after this.
     */
    static final int BUSY_TIMEOUT_MILLIS = 5_000;

    /** Keeps the WAL file from staying huge after a burst; it is reused, not regrown. */
    private static final long JOURNAL_SIZE_LIMIT_BYTES = 64L * 1024 * 1024;

    private final Path path;
    private final String url;

    SqliteFile(Path path) {
        this.path = path;
        this.url = "jdbc:sqlite:" + path;
    }

    Path path() {
        return path;
    }

    /**
     * Creates the database file owner-only ({@code 0600}) when it is missing, before SQLite
     * opens it: SQLite would make it with the umask's mode (usually {@code 0644}), and gives
     * its {@code -wal} and {@code -shm} files the database file's mode. The file holds every
     * session's data and executed code.
     *
     * @throws TetherException {@code store_failure} when it cannot be created
     */
    void createOwnerOnly() {
        try {
            Files.createFile(path, ownerOnly(path));
        } catch (FileAlreadyExistsException e) {
            // an existing store: its mode is the operator's (the server checks it at start)
        } catch (IOException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + path + ": cannot create it: "
                    + e.getMessage(), e);
        }
    }

    /** An owner-only file mode, where the file system has POSIX modes. */
    static FileAttribute<?>[] ownerOnly(Path onFileSystemOf) {
        if (!onFileSystemOf.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};
    }

    /**
     * Opens the one connection that writes: WAL journal (checked, since it cannot be had on
     * every file system) and the requested sync level.
     */
    Connection openWriter(SqliteSessionStore.Synchronous synchronous) throws SQLException {
        Connection c = open();
        try (Statement s = c.createStatement()) {
            String mode = queryText(s, "PRAGMA journal_mode = WAL");
            if (!"wal".equalsIgnoreCase(mode)) {
                throw new SQLException("the file cannot use WAL journal mode (SQLite kept '" + mode
                        + "'); it may be on a network or read-only file system");
            }
            s.execute("PRAGMA synchronous = " + synchronous.name());
            s.execute("PRAGMA journal_size_limit = " + JOURNAL_SIZE_LIMIT_BYTES);
            return c;
        } catch (SQLException e) {
            closeAfter(c, e);
            throw e;
        }
    }

    /** Opens a connection that only reads; in WAL mode it never blocks the writer. */
    Connection openReader() throws SQLException {
        Connection c = open();
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA query_only = 1");
            return c;
        } catch (SQLException e) {
            closeAfter(c, e);
            throw e;
        }
    }

    private Connection open() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        // Straight to the SQLite driver: DriverManager would ask every registered driver.
        return config.createConnection(url);
    }

    static String queryText(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static long queryLong(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no result from " + sql);
            }
            return rs.getLong(1);
        }
    }

    /** Closes {@code c} after {@code failure}; a second failure is kept on the first. */
    static void closeAfter(Connection c, Exception failure) {
        try {
            c.close();
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }

    /** A {@code store_failure} for {@code operation} (e.g. "insert of session x"), cause kept. */
    TetherException failure(String operation, Throwable cause) {
        String detail = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return new TetherException(ErrorCode.STORE_FAILURE,
                "SQLite store " + path + ": " + operation + " failed: " + detail, cause);
    }

    /** A {@code store_failure} that is not caused by a lower-level exception. */
    TetherException failure(String message) {
        return new TetherException(ErrorCode.STORE_FAILURE, "SQLite store " + path + ": " + message);
    }

    TetherException closed() {
        return new TetherException(ErrorCode.SHUTTING_DOWN, "SQLite store " + path + " is closed");
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
