package io.tether.store.sqlite;

import static io.tether.store.sqlite.TestExecutions.full;
import static io.tether.store.sqlite.TestExecutions.ok;
import static io.tether.store.sqlite.TestSessions.active;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.session.ConcurrencyTest;
import io.tether.session.ExecutionRecord;
import io.tether.store.InMemorySessionStore;
import io.tether.store.jdbc.ExecutionRows;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Execution history in the SQLite store: round trips, pruning, write-behind, failures. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SqliteExecutionsTest {
    @TempDir
    Path dir;

    private SqliteSessionStore store;

    /** Deferred writes reach the file only on flush and close: the interval is an hour. */
    @BeforeEach
    void open() {
        store = storeBuilder().build();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private SqliteSessionStore.Builder storeBuilder() {
        return SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofHours(1));
    }

    private void reopen(SqliteSessionStore.Builder builder) {
        store.close();
        store = builder.build();
    }

    @Test
    void richOutputsReadBackInOrderAfterWritingAndReopening() {
        ExecutionRecord rich = TestExecutions.rich("s1", 3);

        store.recordExecution(rich, 100);
        store.flush();
        assertThat(store.findExecution("s1", 3).orElseThrow().result().outputs())
                .isEqualTo(rich.result().outputs());

        reopen(storeBuilder());
        ExecutionRecord back = store.findExecution("s1", 3).orElseThrow();
        assertThat(back).isEqualTo(rich);
        assertThat(back.result().outputs()).extracting(io.tether.runtime.Output::kind).containsExactly(
                "stream", "display_data", "stream", "stream", "display_data", "execute_result");
        assertThat(store.listExecutions("s1", Long.MAX_VALUE, 10)).containsExactly(rich);
    }

    @Test
    void aRowOfTheSchemaBeforeOutputsReadsAsItsStdoutStderrAndResult() throws Exception {
        store.close();
        Path file = dir.resolve(SqliteSessionStore.FILE_NAME);
        java.nio.file.Files.delete(file);
        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            Migrations.SCHEMA.upTo(3).migrate(c);
            s.execute("INSERT INTO executions (session_id, number, code, status, started_at, ended_at, "
                    + "duration_nanos, stdout, stderr, result, error_name, error_value, error_traceback, truncated) "
                    + "VALUES ('old', 1, 'print(1)', 'ok', 1000, 1003, 3000000, 'one\n', 'warn\n', "
                    + "'{\"text/plain\": \"1\"}', NULL, NULL, NULL, 0)");
        }
        store = storeBuilder().build();

        ExecutionResult old = store.findExecution("old", 1).orElseThrow().result();
        assertThat(old.outputs()).containsExactly(
                new io.tether.runtime.Output.StreamText(io.tether.runtime.OutputListener.Stream.STDOUT, "one\n"),
                new io.tether.runtime.Output.StreamText(io.tether.runtime.OutputListener.Stream.STDERR, "warn\n"),
                new io.tether.runtime.Output.ExecuteResult(Map.of("text/plain", "1"), Map.of(), false));
    }

    @Test
    void aRecordReadsBackEqualBeforeAndAfterItIsWrittenAndAfterReopening() throws Exception {
        ExecutionRecord everything = full("s1", 7);
        ExecutionRecord plain = ok("s1", 8);

        store.recordExecution(everything, 100);
        store.recordExecution(plain, 100);
        assertThat(store.findExecution("s1", 7)).contains(everything);
        assertThat(store.findExecution("s1", 8)).contains(plain);

        store.flush();
        assertThat(rowsIn("s1")).containsExactly(7L, 8L);
        assertThat(store.findExecution("s1", 7)).contains(everything);
        assertThat(store.findExecution("s1", 8)).contains(plain);

        reopen(storeBuilder());
        assertThat(store.findExecution("s1", 7)).contains(everything);
        assertThat(store.findExecution("s1", 8)).contains(plain);
        assertThat(store.findExecution("s1", 9)).isEmpty();
        assertThat(store.findExecution("s2", 7)).isEmpty();
    }

    @Test
    void everyFinishedStatusRoundTrips() {
        List<ExecutionRecord> records = new ArrayList<>();
        long n = 0;
        for (ExecutionStatus status : ExecutionStatus.values()) {
            if (status == ExecutionStatus.RUNNING) {
                continue;
            }
            ExecutionRecord base = ok("s-status", ++n);
            ExecutionResult r = base.result();
            records.add(new ExecutionRecord(base.sessionId(), base.code(), base.startedAt(), base.endedAt(),
                    new ExecutionResult(r.number(), status, "", "", Map.of(), null, Duration.ZERO, false)));
        }
        records.forEach(r -> store.recordExecution(r, 100));
        store.flush();

        reopen(storeBuilder());
        for (ExecutionRecord r : records) {
            assertThat(store.findExecution("s-status", r.number())).contains(r);
        }
    }

    @Test
    void aRecordIsVisibleBeforeItIsWritten() throws Exception {
        ExecutionRecord r = full("s-pending", 1);

        store.recordExecution(r, 10);

        assertThat(rowsIn("s-pending")).as("nothing in the file yet").isEmpty();
        assertThat(store.pendingExecutions().writtenCount()).isZero();
        assertThat(store.findExecution("s-pending", 1)).contains(r);
    }

    @Test
    void readsSeeTheirOwnWritesWhileTheWriterIsWritingThem() throws Exception {
        reopen(SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofMillis(1)));
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());

        ConcurrencyTest.onThreads(4, t -> {
            String session = "s" + t;
            for (long n = 1; n <= 200; n++) {
                store.recordExecution(ok(session, n), 3);
                if (!store.findExecution(session, n).equals(Optional.of(ok(session, n)))) {
                    wrong.add(session + " #" + n + " missing");
                }
                if (n > 3 && store.findExecution(session, n - 3).isPresent()) {
                    wrong.add(session + " #" + (n - 3) + " not forgotten");
                }
            }
        });

        assertThat(wrong).isEmpty();
        store.flush();
        for (int t = 0; t < 4; t++) {
            assertThat(rowsIn("s" + t)).containsExactly(198L, 199L, 200L);
        }
    }

    @Test
    void keepForgetsOlderExecutionsWhetherWrittenOrStillPending() throws Exception {
        for (long n = 1; n <= 3; n++) {
            store.recordExecution(ok("s", n), 2);
        }
        store.recordExecution(ok("other", 1), 2);
        store.flush();
        assertThat(rowsIn("s")).containsExactly(2L, 3L);

        store.recordExecution(ok("s", 4), 2);
        store.recordExecution(ok("s", 5), 2);

        assertThat(rowsIn("s")).as("the file still has 3 until the next write").containsExactly(2L, 3L);
        assertThat(store.findExecution("s", 3)).as("but 3 is forgotten already").isEmpty();
        assertThat(store.findExecution("s", 4)).contains(ok("s", 4));
        assertThat(store.findExecution("s", 5)).contains(ok("s", 5));
        store.flush();
        assertThat(rowsIn("s")).containsExactly(4L, 5L);
        assertThat(rowsIn("other")).as("other sessions keep theirs").containsExactly(1L);
        assertThat(store.pendingExecutions().size()).isZero();
    }

    @Test
    void keepsWhatAnInMemoryStoreKeepsWhateverTheFlushes() {
        InMemorySessionStore expected = new InMemorySessionStore();
        Random random = new Random(42);
        long[] next = {1, 1, 1};
        for (int i = 0; i < 300; i++) {
            int session = random.nextInt(next.length);
            // now and then a number out of order, as after a restart of numbering
            long number = random.nextInt(10) == 0 ? 1 + random.nextInt((int) next[session]) : next[session]++;
            int keep = 1 + random.nextInt(5);
            ExecutionRecord r = ok("s" + session, number);
            store.recordExecution(r, keep);
            expected.recordExecution(r, keep);
            if (random.nextInt(7) == 0) {
                store.flush();
            }
            if (random.nextInt(5) == 0) {
                assertSameHistory(expected, next);
            }
        }
        assertSameHistory(expected, next);
        store.flush();
        assertSameHistory(expected, next);
        reopen(storeBuilder());
        assertSameHistory(expected, next);
    }

    private void assertSameHistory(InMemorySessionStore expected, long[] next) {
        for (int session = 0; session < next.length; session++) {
            for (long n = 1; n < next[session]; n++) {
                assertThat(store.findExecution("s" + session, n)).as("s%d #%d", session, n)
                        .isEqualTo(expected.findExecution("s" + session, n));
            }
            for (int limit : new int[] {1, 3, 100}) {
                for (long before = 1; before <= next[session] + 1; before++) {
                    assertThat(store.listExecutions("s" + session, before, limit))
                            .as("s%d below %d, limit %d", session, before, limit)
                            .isEqualTo(expected.listExecutions("s" + session, before, limit));
                }
            }
        }
    }

    @Test
    void aListingMergesPendingRecordsWithTheFileAndLeavesOutWhatAPendingPruneForgets() throws Exception {
        for (long n = 1; n <= 4; n++) {
            store.recordExecution(ok("s", n), 3);
        }
        store.flush();
        assertThat(rowsIn("s")).containsExactly(2L, 3L, 4L);
        assertThat(store.listExecutions("s", Long.MAX_VALUE, 10)).containsExactly(ok("s", 4), ok("s", 3), ok("s", 2));

        store.recordExecution(ok("s", 5), 3);
        store.recordExecution(full("s", 4), 3); // replaces the written 4 while pending

        assertThat(rowsIn("s")).as("nothing written yet").containsExactly(2L, 3L, 4L);
        assertThat(store.listExecutions("s", Long.MAX_VALUE, 10))
                .as("2 is forgotten by the pending prune; 4 is the pending version")
                .containsExactly(ok("s", 5), full("s", 4), ok("s", 3));
        assertThat(store.listExecutions("s", Long.MAX_VALUE, 2)).containsExactly(ok("s", 5), full("s", 4));
        assertThat(store.listExecutions("s", 4, 2)).containsExactly(ok("s", 3));
        assertThat(store.listExecutions("other", Long.MAX_VALUE, 2)).isEmpty();

        store.flush();
        assertThat(store.listExecutions("s", Long.MAX_VALUE, 10)).containsExactly(ok("s", 5), full("s", 4), ok("s", 3));
        reopen(storeBuilder());
        assertThat(store.listExecutions("s", Long.MAX_VALUE, 10)).containsExactly(ok("s", 5), full("s", 4), ok("s", 3));
    }

    @Test
    void executionsAreWrittenWithinTheFlushIntervalWithoutAFlush() throws Exception {
        reopen(SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofMillis(20)));

        store.recordExecution(ok("s-timed", 1), 10);

        assertThat(store.pendingExecutions().awaitWritten(1, 10, TimeUnit.SECONDS)).isTrue();
        assertThat(rowsIn("s-timed")).containsExactly(1L);
        store.recordExecution(ok("s-timed", 2), 10);
        assertThat(store.pendingExecutions().awaitWritten(2, 10, TimeUnit.SECONDS)).isTrue();
        assertThat(rowsIn("s-timed")).containsExactly(1L, 2L);
    }

    @Test
    void aCallerWaitsForTheWriterWhenTooManyExecutionsArePending() throws Exception {
        reopen(storeBuilder().pendingExecutionBound(3, 1_000_000));

        for (long n = 1; n <= 3; n++) {
            store.recordExecution(ok("s-bound", n), 100);
        }
        assertThat(store.pendingExecutions().writtenCount()).isZero();
        store.recordExecution(ok("s-bound", 4), 100);

        // The writer made room; it may have taken the fourth along by the time it looked.
        assertThat(rowsIn("s-bound")).startsWith(1L, 2L, 3L);
        assertThat(store.pendingExecutions().writtenCount() + store.pendingExecutions().size()).isEqualTo(4);
        for (long n = 1; n <= 4; n++) {
            assertThat(store.findExecution("s-bound", n)).contains(ok("s-bound", n));
        }
    }

    @Test
    void theBoundCountsCharactersToo() throws Exception {
        ExecutionRecord big = full("s-big", 1);
        long chars = ExecutionRows.toRow(big).chars();
        reopen(storeBuilder().pendingExecutionBound(100, chars - 1));

        store.recordExecution(big, 100);
        assertThat(store.pendingExecutions().writtenCount()).as("one record larger than the bound is let in").isZero();
        store.recordExecution(full("s-big", 2), 100);

        assertThat(rowsIn("s-big")).startsWith(1L);
        assertThat(store.findExecution("s-big", 2)).contains(full("s-big", 2));
    }

    @Test
    void aFailedWriteKeepsTheExecutionsAndRetriesThemAtTheNextDeadline() throws Exception {
        reopen(SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofMillis(20)));
        try (Connection other = TestSessions.rawConnection(store.file()); Statement sql = other.createStatement()) {
            sql.execute("CREATE TRIGGER poison BEFORE INSERT ON executions WHEN NEW.code = 'poison' "
                    + "BEGIN SELECT RAISE(ROLLBACK, 'poisoned execution'); END");
            ExecutionRecord poison = new ExecutionRecord("s-fail", "poison", TestSessions.T0,
                    TestSessions.T0.plusMillis(1), ok("s-fail", 1).result());

            store.recordExecution(poison, 10);

            assertThatThrownBy(store::flush)
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                    .hasMessageContaining("writing 1 executions of 1 sessions failed")
                    .hasMessageContaining("poisoned execution");
            assertThat(store.findExecution("s-fail", 1)).as("kept for a retry").contains(poison);
            store.insert(active("still-writable"));
            assertThat(store.find("still-writable")).isPresent();

            sql.execute("DROP TRIGGER poison");
            assertThat(store.pendingExecutions().awaitWritten(1, 10, TimeUnit.SECONDS))
                    .as("written at a later deadline without a flush").isTrue();
            assertThat(rowsIn("s-fail")).containsExactly(1L);
            assertThat(store.findExecution("s-fail", 1)).contains(poison);
        }
    }

    @Test
    void failingExecutionsNeverFailASessionWriteInTheSameTransaction() throws Exception {
        try (Connection other = TestSessions.rawConnection(store.file()); Statement sql = other.createStatement()) {
            sql.execute("CREATE TRIGGER poison BEFORE INSERT ON executions "
                    + "BEGIN SELECT RAISE(ROLLBACK, 'poisoned execution'); END");
            store.recordExecution(ok("s-batch", 1), 10);

            // Hold the write lock so the writer stalls on a first insert while an insert and a
            // flush queue up behind it and then share one transaction with the executions.
            sql.execute("BEGIN IMMEDIATE");
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            Thread first = inBackground(() -> store.insert(active("first")), failures);
            assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.queuedWrites() == 0
                    && first.getState() == Thread.State.WAITING)).isTrue();
            Thread insert = inBackground(() -> store.insert(active("batched")), failures);
            List<Throwable> flushFailure = new ArrayList<>();
            Thread flush = inBackground(store::flush, flushFailure);
            assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.queuedWrites() == 2)).isTrue();
            sql.execute("ROLLBACK");
            for (Thread t : List.of(first, insert, flush)) {
                assertThat(t.join(Duration.ofSeconds(10))).isTrue();
            }

            assertThat(failures).isEmpty();
            assertThat(store.find("batched")).isPresent();
            assertThat(store.batchesRetriedOneByOne()).isEqualTo(1);
            assertThat(flushFailure).hasSize(1);
            assertThat(flushFailure.get(0)).isInstanceOf(TetherException.class)
                    .hasMessageContaining("poisoned execution");
            assertThat(store.findExecution("s-batch", 1)).as("kept for a retry").contains(ok("s-batch", 1));
            sql.execute("DROP TRIGGER poison");
        }
        store.flush();
        assertThat(rowsIn("s-batch")).containsExactly(1L);
    }

    @Test
    void closeWritesPendingExecutionsAndThenRefusesThem() {
        ExecutionRecord r = full("s-close", 3);
        store.recordExecution(r, 5);
        store.close();

        assertThatThrownBy(() -> store.recordExecution(ok("s-close", 4), 5))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.SHUTTING_DOWN));
        assertThatThrownBy(() -> store.findExecution("s-close", 3))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.SHUTTING_DOWN));
        store = storeBuilder().build();
        assertThat(store.findExecution("s-close", 3)).contains(r);
    }

    @Test
    void runningExecutionsAndKeepBelowOneAreRefused() {
        ExecutionRecord done = ok("s", 1);
        ExecutionResult soFar = new ExecutionResult(2, ExecutionStatus.RUNNING, "", "", Map.of(), null,
                Duration.ZERO, false);
        ExecutionRecord running = new ExecutionRecord("s", "x", TestSessions.T0, null, soFar);

        assertThatThrownBy(() -> store.recordExecution(done, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keep");
        assertThatThrownBy(() -> store.recordExecution(running, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("still running");
        assertThat(store.findExecution("s", 1)).isEmpty();
        assertThat(store.findExecution("s", 2)).isEmpty();
    }

    private static Thread inBackground(Runnable body, List<Throwable> failures) {
        return Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failures.add(e);
            }
        });
    }

    /** The numbers of the session's rows in the file, ascending. */
    private List<Long> rowsIn(String sessionId) throws Exception {
        try (Connection c = TestSessions.rawConnection(store.file());
                var ps = c.prepareStatement("SELECT number FROM executions WHERE session_id = ? ORDER BY number")) {
            ps.setString(1, sessionId);
            List<Long> numbers = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    numbers.add(rs.getLong(1));
                }
            }
            return numbers;
        }
    }
}
