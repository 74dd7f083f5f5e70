package io.tether.store.sqlite;

import io.tether.store.jdbc.SchemaHistory;
import io.tether.store.jdbc.SchemaHistory.Step;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The SQLite schema's {@link SchemaHistory}. The file's version is SQLite's
 * {@code user_version}; each step runs in its own transaction together with the version
 * bump, so a file is always at exactly one version.
 */
final class Migrations {
    /** Marks a file as Tether's ("Teth"), so another application's database is refused. */
    static final int APPLICATION_ID = 0x54657468;

    /** Every step this code knows, oldest first. */
    static final Migrations SCHEMA = new Migrations(List.of(
            new Step(1, "sessions table and its indexes", List.of(
                    """
                    CREATE TABLE sessions (
                        id                TEXT    NOT NULL PRIMARY KEY,
                        owner             TEXT    NOT NULL,
                        session_key       TEXT,
                        runtime           TEXT    NOT NULL,
                        status            TEXT    NOT NULL
                                          CHECK (status IN ('active', 'ended', 'timeout', 'error')),
                        created_at        INTEGER NOT NULL,
                        last_activity_at  INTEGER NOT NULL,
                        ended_at          INTEGER,
                        end_reason        TEXT,
                        idle_timeout_ms   INTEGER,
                        max_lifetime_ms   INTEGER,
                        interaction_count INTEGER NOT NULL,
                        data              TEXT    NOT NULL,
                        metadata          TEXT    NOT NULL,
                        node              TEXT,
                        version           INTEGER NOT NULL
                    )""",
                    // Listing is newest first by (created_at, id); each filter gets an index that
                    // also delivers that order, so a page never sorts the whole table.
                    "CREATE INDEX sessions_by_created ON sessions (created_at, id)",
                    "CREATE INDEX sessions_by_owner ON sessions (owner, created_at, id)",
                    "CREATE INDEX sessions_by_status ON sessions (status, created_at, id)",
                    "CREATE INDEX sessions_by_last_activity ON sessions (last_activity_at)",
                    // Covers the counts query without reading any row.
                    "CREATE INDEX sessions_by_end_reason ON sessions (status, end_reason)")),
            new Step(2, "executions table", List.of(
                    // No CHECK on status: a new execution status must not need a table rebuild;
                    // reading refuses a status this code does not know. A regular rowid table,
                    // since output makes rows large.
                    """
                    CREATE TABLE executions (
                        session_id      TEXT    NOT NULL,
                        number          INTEGER NOT NULL,
                        code            TEXT    NOT NULL,
                        status          TEXT    NOT NULL,
                        started_at      INTEGER NOT NULL,
                        ended_at        INTEGER NOT NULL,
                        duration_nanos  INTEGER NOT NULL,
                        stdout          TEXT    NOT NULL,
                        stderr          TEXT    NOT NULL,
                        result          TEXT    NOT NULL,
                        error_name      TEXT,
                        error_value     TEXT,
                        error_traceback TEXT,
                        truncated       INTEGER NOT NULL CHECK (truncated IN (0, 1)),
                        PRIMARY KEY (session_id, number)
                    )""")),
            new Step(3, "index of ended sessions, for the purge", List.of(
                    // Partial: only ended sessions have ended_at, so active ones cost nothing here,
                    // and the purge finds the oldest ends without reading the table.
                    "CREATE INDEX sessions_by_ended ON sessions (ended_at, id) WHERE ended_at IS NOT NULL")),
            new Step(4, "executions' rich outputs", List.of(
                    // NULL in rows written before: their outputs are stdout, stderr and result.
                    "ALTER TABLE executions ADD COLUMN outputs TEXT"))));

    private final SchemaHistory history;

    Migrations(List<Step> steps) {
        this(new SchemaHistory(steps));
    }

    private Migrations(SchemaHistory history) {
        this.history = history;
    }

    /** The first {@code version} steps only: the schema as an older Tether made it, to test upgrades. */
    Migrations upTo(int version) {
        return new Migrations(history.upTo(version));
    }

    /** The version a file has once every known step ran. */
    int latest() {
        return history.latest();
    }

    /**
     * Brings the file open on {@code c} (autocommit, nobody else writing) to {@link #latest()}.
     *
     * @return the version the file had before
     * @throws SQLException when a step fails (that step is rolled back; earlier ones stay),
     *     when the file is newer than this code, or when it is not Tether's
     */
    int migrate(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            int found = (int) SqliteFile.queryLong(s, "PRAGMA user_version");
            checkOwnFile(s, found);
            for (Step step : history.after(found, "the file")) {
                apply(s, step);
            }
            return found;
        }
    }

    private static void checkOwnFile(Statement s, int version) throws SQLException {
        long applicationId = SqliteFile.queryLong(s, "PRAGMA application_id");
        if (applicationId == APPLICATION_ID) {
            return;
        }
        boolean empty = SqliteFile.queryLong(s, "SELECT count(*) FROM sqlite_schema") == 0;
        if (version != 0 || applicationId != 0 || !empty) {
            throw new SQLException("the file is not a Tether store (application_id " + applicationId
                    + ", user_version " + version + ", " + (empty ? "no tables" : "has tables")
                    + "); refusing to change it");
        }
    }

    private static void apply(Statement s, Step step) throws SQLException {
        s.execute("BEGIN IMMEDIATE");
        try {
            for (String sql : step.statements()) {
                s.execute(sql);
            }
            // Both pragmas live in the file header and are part of this transaction.
            s.execute("PRAGMA application_id = " + APPLICATION_ID);
            s.execute("PRAGMA user_version = " + step.version());
            s.execute("COMMIT");
        } catch (SQLException e) {
            try {
                s.execute("ROLLBACK");
            } catch (SQLException rollbackFailed) {
                e.addSuppressed(rollbackFailed);
            }
            throw new SQLException("migration to version " + step.version() + " (" + step.description()
                    + ") failed: " + e.getMessage(), e);
        }
    }
}
