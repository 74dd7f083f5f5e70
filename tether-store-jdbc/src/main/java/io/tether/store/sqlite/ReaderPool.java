package io.tether.store.sqlite;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;

/**
 * Read-only connections, opened on first need and reused. In WAL mode readers see the last
 * committed state and neither block the writer nor each other, so reads run in parallel up to
 * the pool's size; beyond it they wait for a free connection.
 *
 * <p>Thread-safe. {@link #close()} waits for reads in progress, then closes every connection.
 */
final class ReaderPool implements AutoCloseable {
    @FunctionalInterface
    interface Query<T> {
        T run(Connection c) throws SQLException;
    }

    private final SqliteFile file;
    private final int size;
    private final Semaphore permits;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    ReaderPool(SqliteFile file, int size) {
        this.file = file;
        this.size = size;
        this.permits = new Semaphore(size);
    }

    /**
     * Runs {@code query} on a read connection.
     *
     * @param operation names the read in error messages, e.g. {@code find of session x}
     * @throws io.tether.TetherException {@code store_failure} when the query fails,
     *     {@code shutting_down} once the pool is closed
     */
    <T> T read(String operation, Query<T> query) {
        if (closed) {
            throw file.closed();
        }
        permits.acquireUninterruptibly();
        Connection c = null;
        try {
            if (closed) {
                throw file.closed();
            }
            c = idle.pollFirst();
            if (c == null) {
                c = file.openReader();
            }
            return query.run(c);
        } catch (SQLException e) {
            if (c != null) {
                // A failed connection is not worth diagnosing; a fresh one costs little.
                SqliteFile.closeAfter(c, e);
                c = null;
            }
            throw file.failure(operation, e);
        } finally {
            if (c != null) {
                idle.addFirst(c);
            }
            permits.release();
        }
    }

    int size() {
        return size;
    }

    /**
     * Waits for reads in progress, then closes every connection. Idempotent.
     *
     * @throws SQLException when a connection fails to close (the others are still closed)
     */
    @Override
    public void close() throws SQLException {
        closed = true;
        permits.acquireUninterruptibly(size);
        try {
            List<SQLException> failures = new ArrayList<>();
            for (Connection c = idle.pollFirst(); c != null; c = idle.pollFirst()) {
                try {
                    c.close();
                } catch (SQLException e) {
                    failures.add(e);
                }
            }
            if (!failures.isEmpty()) {
                SQLException first = failures.get(0);
                failures.subList(1, failures.size()).forEach(first::addSuppressed);
                throw first;
            }
        } finally {
            permits.release(size);
        }
    }
}
