package io.tether.store.postgres;

import com.zaxxer.hikari.HikariDataSource;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.node.NodeInfo;
import io.tether.node.NodeRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link NodeRegistry} in the PostgreSQL database the nodes share: one row per node in
 * table {@code tether_nodes} (created by the store's migrations), each operation one
 * autocommitted statement. {@link #claim} is a conditional {@code DELETE}: racing claims of
 * one lapsed lease serialize on its row, and exactly one deletes it.
 *
 * <p>It keeps a small pool of its own ({@value #POOL_SIZE} connections), so a heartbeat never
 * waits behind the sessions' work for a connection and the lease can be released after the
 * session store closed. Lease instants are kept to the microsecond (PostgreSQL's
 * {@code TIMESTAMPTZ}); {@link #find} returns them truncated to that.
 *
 * <p>Thread-safe. Failures throw {@link TetherException} {@code store_failure} naming the
 * database without its password; after {@link #close()}, {@code shutting_down}.
 */
public final class PostgresNodeRegistry implements NodeRegistry, AutoCloseable {
    /** Connections the registry's pool opens at most: the heartbeat's and the forwarding lookups'. */
    static final int POOL_SIZE = 3;
    private static final String COLUMNS = "SELECT id, url, lease_expires_at FROM tether_nodes";

    private final PostgresUrl url;
    private final HikariDataSource pool;

    private PostgresNodeRegistry(PostgresUrl url, HikariDataSource pool) {
        this.url = url;
        this.pool = pool;
    }

    /**
     * Connects to the database and brings its schema up to date (as the session store does,
     * so either may start first).
     *
     * @throws TetherException {@code store_failure} when the database cannot be reached within
     *     {@code connectionTimeout}, refuses the credentials or cannot be migrated
     */
    public static PostgresNodeRegistry open(PostgresUrl url, Duration connectionTimeout) {
        Objects.requireNonNull(url, "url");
        HikariDataSource pool = PostgresPool.open(url, "tether-nodes", POOL_SIZE, connectionTimeout);
        try {
            PostgresPool.migrate(pool, url);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return new PostgresNodeRegistry(url, pool);
    }

    @Override
    public void register(String id, String nodeUrl, Instant leaseExpiresAt) {
        update("register node " + id, "INSERT INTO tether_nodes (id, url, lease_expires_at) VALUES (?, ?, ?) "
                + "ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, lease_expires_at = EXCLUDED.lease_expires_at",
                id, Objects.requireNonNull(nodeUrl, "url"), leaseExpiresAt);
    }

    @Override
    public boolean renew(String id, Instant leaseExpiresAt) {
        return update("renew the lease of node " + id,
                "UPDATE tether_nodes SET lease_expires_at = ? WHERE id = ?", leaseExpiresAt, id) == 1;
    }

    @Override
    public Optional<NodeInfo> find(String id) {
        Objects.requireNonNull(id, "id");
        List<NodeInfo> found = query("find node " + id, COLUMNS + " WHERE id = ?", id);
        return found.stream().findFirst();
    }

    @Override
    public List<NodeInfo> nodes() {
        return query("list the nodes", COLUMNS + " ORDER BY id");
    }

    @Override
    public boolean claim(String id, Instant now) {
        return update("claim node " + id, "DELETE FROM tether_nodes WHERE id = ? AND lease_expires_at <= ?",
                id, now) == 1;
    }

    @Override
    public void release(String id) {
        update("release node " + id, "DELETE FROM tether_nodes WHERE id = ?", id);
    }

    /** Closes the registry's connections; a lease it holds stays until released or it lapses. */
    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "PostgresNodeRegistry[" + url.redacted() + "]";
    }

    private int update(String operation, String sql, Object... params) {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failure(operation, e);
        }
    }

    private List<NodeInfo> query(String operation, String sql, Object... params) {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            List<NodeInfo> nodes = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    nodes.add(new NodeInfo(rs.getString(1), rs.getString(2),
                            rs.getObject(3, OffsetDateTime.class).toInstant()));
                }
            }
            return nodes;
        } catch (SQLException e) {
            throw failure(operation, e);
        }
    }

    private Connection connection() throws SQLException {
        if (pool.isClosed()) {
            throw new TetherException(ErrorCode.SHUTTING_DOWN, "node registry in " + url.redacted() + " is closed");
        }
        return pool.getConnection();
    }

    private static void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object p = Objects.requireNonNull(params[i]);
            if (p instanceof Instant t) {
                // Truncated as the column keeps it, so what find returns compares as what was given.
                ps.setObject(i + 1, OffsetDateTime.ofInstant(t.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
            } else {
                ps.setString(i + 1, (String) p);
            }
        }
    }

    private TetherException failure(String operation, SQLException e) {
        return new TetherException(ErrorCode.STORE_FAILURE, "node registry in " + url.redacted() + ": " + operation
                + " failed: " + PostgresPool.rootMessage(e), e);
    }
}
