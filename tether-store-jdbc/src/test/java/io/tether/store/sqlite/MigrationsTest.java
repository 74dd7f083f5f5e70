package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import io.tether.store.jdbc.SchemaHistory;
import io.tether.store.jdbc.SessionRows;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationsTest {
    @TempDir
    Path dir;

    @Test
    void aFreshFileGetsTheLatestVersion() throws Exception {
        Path file = dir.resolve("fresh.db");
        SqliteSessionStore.builder().file(file).build().close();

        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            assertThat(SqliteFile.queryLong(s, "PRAGMA user_version")).isEqualTo(Migrations.SCHEMA.latest());
            assertThat(SqliteFile.queryLong(s, "PRAGMA application_id")).isEqualTo(Migrations.APPLICATION_ID);
            assertThat(SqliteFile.queryText(s, "PRAGMA journal_mode")).isEqualTo("wal");
            assertThat(SqliteFile.queryLong(s,
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'sessions_by_%'"))
                    .isEqualTo(6);
        }
    }

    @Test
    void reopeningAFileAtTheLatestVersionChangesNothing() throws Exception {
        Path file = dir.resolve("twice.db");
        SqliteSessionStore.builder().file(file).build().close();

        try (Connection c = TestSessions.rawConnection(file)) {
            assertThat(Migrations.SCHEMA.migrate(c)).isEqualTo(Migrations.SCHEMA.latest());
        }
    }

    @Test
    void aVersion1FileGainsTheExecutionsTableAndKeepsItsSessions() throws Exception {
        Path file = dir.resolve("v1.db");
        Session s = TestSessions.full("from-v1");
        try (Connection c = TestSessions.rawConnection(file); Statement sql = c.createStatement()) {
            assertThat(Migrations.SCHEMA.upTo(1).migrate(c)).isZero();
            try (PreparedStatement ps = c.prepareStatement(SessionRows.INSERT)) {
                SessionRows.bindInsert(ps, SessionRows.toRow(s));
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            assertThat(SqliteFile.queryLong(sql, "PRAGMA user_version")).isEqualTo(1);
            assertThat(SqliteFile.queryLong(sql, "SELECT count(*) FROM sqlite_schema WHERE name = 'executions'"))
                    .isZero();
        }

        ExecutionRecord r = TestExecutions.full(s.id(), 1);
        try (SqliteSessionStore store = SqliteSessionStore.builder().file(file).build()) {
            assertThat(store.find(s.id())).contains(s);
            assertThat(store.findExecution(s.id(), 1)).isEmpty();
            store.recordExecution(r, 10);
        }

        try (Connection c = TestSessions.rawConnection(file); Statement sql = c.createStatement()) {
            assertThat(SqliteFile.queryLong(sql, "PRAGMA user_version")).isEqualTo(Migrations.SCHEMA.latest());
            assertThat(SqliteFile.queryText(sql, "PRAGMA integrity_check")).isEqualTo("ok");
            assertThat(SqliteFile.queryLong(sql, "SELECT count(*) FROM executions")).isEqualTo(1);
        }
        try (SqliteSessionStore reopened = SqliteSessionStore.builder().file(file).build()) {
            assertThat(reopened.find(s.id())).contains(s);
            assertThat(reopened.findExecution(s.id(), 1)).contains(r);
        }
    }

    @Test
    void aFileFromANewerTetherIsRefused() throws Exception {
        Path file = dir.resolve("newer.db");
        SqliteSessionStore.builder().file(file).build().close();
        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + (Migrations.SCHEMA.latest() + 1));
        }

        assertThatThrownBy(() -> SqliteSessionStore.builder().file(file).build())
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("schema version " + (Migrations.SCHEMA.latest() + 1))
                .hasMessageContaining("newer Tether");
    }

    @Test
    void laterStepsRunInOrderOnAnOlderFile() throws Exception {
        Migrations v1 = new Migrations(List.of(
                new SchemaHistory.Step(1, "t", List.of("CREATE TABLE t (a INTEGER)"))));
        Migrations v3 = new Migrations(List.of(
                new SchemaHistory.Step(1, "t", List.of("CREATE TABLE t (a INTEGER)")),
                new SchemaHistory.Step(2, "t.b", List.of("ALTER TABLE t ADD COLUMN b TEXT")),
                new SchemaHistory.Step(3, "t row", List.of("INSERT INTO t (a, b) VALUES (1, 'three')"))));
        Path file = dir.resolve("old.db");

        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            assertThat(v1.migrate(c)).isZero();
            assertThat(v3.migrate(c)).isEqualTo(1);

            assertThat(SqliteFile.queryLong(s, "PRAGMA user_version")).isEqualTo(3);
            assertThat(SqliteFile.queryText(s, "SELECT b FROM t")).isEqualTo("three");
        }
    }

    @Test
    void aFailingStepLeavesTheFileAtThePreviousVersion() throws Exception {
        Migrations broken = new Migrations(List.of(
                new SchemaHistory.Step(1, "t", List.of("CREATE TABLE t (a INTEGER)")),
                new SchemaHistory.Step(2, "half done", List.of(
                        "CREATE TABLE u (a INTEGER)",
                        "THIS IS NOT SQL"))));
        Path file = dir.resolve("broken.db");

        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> broken.migrate(c))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("migration to version 2 (half done) failed");

            assertThat(SqliteFile.queryLong(s, "PRAGMA user_version")).isEqualTo(1);
            assertThat(SqliteFile.queryLong(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'u'")).isZero();
        }
    }

    @Test
    void stepsMustBeNumberedWithoutGaps() {
        assertThatThrownBy(() -> new Migrations(List.of(new SchemaHistory.Step(2, "x", List.of()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("step 1 says 2");
    }
}
