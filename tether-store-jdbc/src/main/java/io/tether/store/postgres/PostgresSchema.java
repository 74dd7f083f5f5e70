package io.tether.store.postgres;

import io.tether.store.jdbc.SchemaHistory;
import io.tether.store.jdbc.SchemaHistory.Step;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The PostgreSQL schema's {@link SchemaHistory}, run by the same rules as the SQLite
 * store's. The version is the highest row of {@code tether_schema}.
 *
 * <p>Several nodes may start at once against one database: the whole migration runs in one
 * transaction (PostgreSQL's DDL is transactional) under a transaction-scoped advisory lock,
 * so one node migrates and the others then find the schema current.
 *
 * <p>Same columns and Java values as the SQLite tables, so both stores share their row
 * mapping ({@link io.tether.store.jdbc.SessionRows}); what differs: {@code BIGINT} for
 * numbers, and ids and owners in the {@code "C"} collation, so listings order ids by their
 * bytes as SQLite and the in-memory store do, whatever the database's locale.
 */
final class PostgresSchema {
    /** Key of the advisory lock migrations take; "Teth" as SQLite's application id. */
    static final long MIGRATION_LOCK = 0x54657468L;

    static final SchemaHistory HISTORY = new SchemaHistory(List.of(
            new Step(1, "sessions and executions", List.of(
                    """
                    CREATE TABLE sessions (
                        id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                        owner             TEXT COLLATE "C" NOT NULL,
                        session_key       TEXT,
                        runtime           TEXT   NOT NULL,
                        status            TEXT   NOT NULL
                                          CHECK (status IN ('active', 'ended', 'timeout', 'error')),
                        created_at        BIGINT NOT NULL,
                        last_activity_at  BIGINT NOT NULL,
                        ended_at          BIGINT,
                        end_reason        TEXT,
                        idle_timeout_ms   BIGINT,
                        max_lifetime_ms   BIGINT,
                        interaction_count BIGINT NOT NULL,
                        data              TEXT   NOT NULL,
                        metadata          TEXT   NOT NULL,
                        node              TEXT,
                        version           BIGINT NOT NULL
                    )""",
                    // Listing is newest first by (created_at, id); each filter's index delivers that order.
                    "CREATE INDEX sessions_by_created ON sessions (created_at, id)",
                    "CREATE INDEX sessions_by_owner ON sessions (owner, created_at, id)",
                    "CREATE INDEX sessions_by_status ON sessions (status, created_at, id)",
                    "CREATE INDEX sessions_by_end_reason ON sessions (status, end_reason)",
                    "CREATE INDEX sessions_by_ended ON sessions (ended_at, id) WHERE ended_at IS NOT NULL",
                    // The session limits count active sessions, in total and per owner, at every creation.
                    "CREATE INDEX sessions_active_by_owner ON sessions (owner) WHERE status = 'active'",
                    """
                    CREATE TABLE executions (
                        session_id      TEXT COLLATE "C" NOT NULL,
                        number          BIGINT  NOT NULL,
                        code            TEXT    NOT NULL,
                        status          TEXT    NOT NULL,
                        started_at      BIGINT  NOT NULL,
                        ended_at        BIGINT  NOT NULL,
                        duration_nanos  BIGINT  NOT NULL,
                        stdout          TEXT    NOT NULL,
                        stderr          TEXT    NOT NULL,
                        result          TEXT    NOT NULL,
                        error_name      TEXT,
                        error_value     TEXT,
                        error_traceback TEXT,
                        truncated       INTEGER NOT NULL CHECK (truncated IN (0, 1)),
                        outputs         TEXT,
                        PRIMARY KEY (session_id, number)
                    )""")),
            // The server's bearer tokens (io.tether.server.auth.TokenStore): only their SHA-256.
            new Step(2, "tokens", List.of(
                    """
                    CREATE TABLE tokens (
                        id         TEXT    NOT NULL PRIMARY KEY,
                        owner      TEXT    NOT NULL,
                        admin      BOOLEAN NOT NULL,
                        created_at BIGINT  NOT NULL,
                        sha256     BYTEA   NOT NULL CHECK (length(sha256) = 32)
                    )"""))));

    private PostgresSchema() {
    }

    static int latest() {
        return HISTORY.latest();
    }

    /**
     * Brings the database open on {@code c} to {@link #latest()}, in one transaction.
     *
     * @return the version it had before
     * @throws SQLException when a step fails (nothing changed), the database is newer than this
     *     code, or it holds tables that are not Tether's
     */
    static int migrate(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
            int found = currentVersion(s);
            List<Step> missing = HISTORY.after(found, "the database");
            if (found == 0) {
                s.execute("CREATE TABLE tether_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                        + "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
            }
            for (Step step : missing) {
                for (String sql : step.statements()) {
                    s.execute(sql);
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO tether_schema (version, description) VALUES (?, ?)")) {
                    ps.setInt(1, step.version());
                    ps.setString(2, step.description());
                    ps.executeUpdate();
                }
            }
            c.commit();
            return found;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException rollbackFailed) {
                e.addSuppressed(rollbackFailed);
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** 0 for a database without Tether's tables; refuses one with tables of the same names. */
    private static int currentVersion(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT to_regclass('tether_schema') IS NOT NULL, "
                + "to_regclass('sessions') IS NOT NULL OR to_regclass('executions') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                if (rs.getBoolean(2)) {
                    throw new SQLException("the database has a sessions or executions table but no tether_schema: "
                            + "it is not a Tether store; refusing to change it");
                }
                return 0;
            }
        }
        try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM tether_schema")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
