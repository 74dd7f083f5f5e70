package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The purge of ended sessions past their retention, on a real file. */
class SqlitePurgeTest {
    @TempDir
    Path dir;

    private static Session endedAt(String id, Instant at) {
        return TestSessions.ended(TestSessions.active(id), SessionStatus.ENDED, EndReason.MANUAL, at);
    }

    /** What the contract's purge test cannot see: the rows left in the file, and the index the purge reads. */
    @Test
    void aPurgeLeavesNoRowsBehindInTheFileAndReadsTheIndexOfEnds() throws Exception {
        Path file = dir.resolve("t.db");
        Instant cutoff = TestSessions.T0.plus(Duration.ofDays(30));
        try (SqliteSessionStore store = SqliteSessionStore.builder().file(file).build()) {
            for (String id : new String[] {"old-1", "old-2", "old-3", "at-cutoff", "active"}) {
                store.insert(TestSessions.active(id));
                store.recordExecution(TestExecutions.ok(id, 1), 10);
            }
            store.update(endedAt("old-1", TestSessions.T0.plusSeconds(3)));
            store.update(endedAt("old-2", TestSessions.T0.plusSeconds(1)));
            store.update(endedAt("old-3", TestSessions.T0.plusSeconds(2)));
            store.update(endedAt("at-cutoff", cutoff));
            store.flush();

            assertThat(store.purgeEnded(cutoff, 10)).isEqualTo(3);
        }
        try (Connection c = TestSessions.rawConnection(file); Statement sql = c.createStatement()) {
            assertThat(SqliteFile.queryLong(sql, "SELECT count(*) FROM sessions")).isEqualTo(2);
            assertThat(SqliteFile.queryLong(sql, "SELECT count(*) FROM executions")).isEqualTo(2);
            try (ResultSet plan = sql.executeQuery("EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE ended_at < 5 "
                    + "ORDER BY ended_at, id LIMIT 10")) {
                assertThat(plan.next()).isTrue();
                assertThat(plan.getString("detail")).as("the purge reads the index, not the table")
                        .contains("sessions_by_ended");
            }
        }
    }
}
