package io.tether.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tether.ErrorCode;
import io.tether.TetherException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a connection pool on Tether's database and bringing its schema up to date: shared
 * by the session store and the node registry, which keep pools of their own (a heartbeat
 * must not wait behind the sessions' work for a connection).
 */
final class PostgresPool {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresPool.class);

    private PostgresPool() {
    }

    /**
     * A pool of up to {@code maximumSize} connections, one opened at once.
     *
     * @throws TetherException {@code store_failure} when the database cannot be reached within
     *     {@code connectionTimeout} or refuses the credentials; the message names it without its password
     */
    static HikariDataSource open(PostgresUrl url, String name, int maximumSize, Duration connectionTimeout) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url.jdbcUrl());
        if (url.user() != null) {
            config.setUsername(url.user());
        }
        if (url.password() != null) {
            config.setPassword(url.password());
        }
        config.setPoolName(name);
        config.setMaximumPoolSize(maximumSize);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(connectionTimeout.toMillis());
        config.setAutoCommit(true);
        // Fail at start, not at the first request, when the database is unreachable.
        config.setInitializationFailTimeout(connectionTimeout.toMillis());
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted()
                    + ": cannot connect: " + rootMessage(e), e);
        }
    }

    /**
     * Brings the schema to {@link PostgresSchema#latest()} (nothing when it is current).
     *
     * @throws TetherException {@code store_failure} when a step fails, the database is newer
     *     than this code or is not a Tether store
     */
    static void migrate(HikariDataSource pool, PostgresUrl url) {
        try (Connection c = pool.getConnection()) {
            int before = PostgresSchema.migrate(c);
            if (before < PostgresSchema.latest()) {
                LOG.info("PostgreSQL store {}: schema migrated from version {} to {}", url.redacted(), before,
                        PostgresSchema.latest());
            }
        } catch (SQLException | RuntimeException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + url.redacted()
                    + ": schema migration failed: " + rootMessage(e), e);
        }
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
