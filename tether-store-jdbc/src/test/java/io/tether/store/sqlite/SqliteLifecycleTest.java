package io.tether.store.sqlite;

import static io.tether.store.sqlite.TestSessions.T0;
import static io.tether.store.sqlite.TestSessions.active;
import static io.tether.store.sqlite.TestSessions.full;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.SessionQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening, closing, reopening and locking store files, and configuring them. */
class SqliteLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void reopenedFileHoldsEverySessionAsWritten() {
        List<Session> expected = new ArrayList<>();
        Path file;
        try (SqliteSessionStore store = SqliteSessionStore.builder()
                .dataDirectory(dir.resolve("data"))
                .activityFlushInterval(Duration.ofHours(1))
                .build()) {
            file = store.file();
            Session rich = full("rich");
            store.insert(rich);
            expected.add(rich);
            for (int i = 0; i < 20; i++) {
                Session s = active("s" + i, "owner" + (i % 3), T0.plusMillis(i));
                store.insert(s);
                if (i % 2 == 0) {
                    s = s.withState(Map.of("step", (long) i), Map.of("tag", "t" + i), T0.plusSeconds(i));
                    store.update(s);
                }
                if (i % 4 == 0) {
                    s = s.withEnd(SessionStatus.ENDED, EndReason.MANUAL, T0.plusSeconds(100 + i));
                    store.update(s);
                }
                if (i % 3 == 0) {
                    // Activity only reaches the file on close: the interval is an hour.
                    s = s.withActivity(T0.plusSeconds(500 + i));
                    store.recordActivity(s.id(), s.lastActivityAt(), s.interactionCount());
                }
                expected.add(s);
            }
            assertThat(store.activityUpdatesCommitted()).isZero();
        }

        assertThat(file).isEqualTo(dir.resolve("data").resolve(SqliteSessionStore.FILE_NAME).toAbsolutePath());
        try (SqliteSessionStore reopened = SqliteSessionStore.builder().file(file).build()) {
            for (Session s : expected) {
                assertThat(reopened.find(s.id())).contains(s);
            }
            assertThat(reopened.counts().total()).isEqualTo(expected.size());
        }
    }

    @Test
    void closeStopsTheWriterThreadAndIsIdempotent() {
        SqliteSessionStore store = SqliteSessionStore.builder().dataDirectory(dir).build();
        Thread writer = store.writerThread();
        assertThat(writer.isAlive()).isTrue();
        assertThat(writer.isDaemon()).isTrue();
        assertThat(writer.getName()).startsWith("tether-sqlite-writer");

        store.close();
        store.close();

        assertThat(writer.isAlive()).isFalse();
        assertThat(Thread.getAllStackTraces().keySet()).doesNotContain(writer);
    }

    @Test
    void everyOperationFailsClearlyAfterClose() {
        SqliteSessionStore store = SqliteSessionStore.builder().dataDirectory(dir).build();
        store.insert(active("a"));
        store.close();

        List<ThrowingCallable> operations = List.of(
                () -> store.insert(active("b")),
                () -> store.update(active("a").withState(Map.of(), Map.of(), T0)),
                () -> store.recordActivity("a", T0, 1),
                () -> store.recordExecution(TestExecutions.ok("a", 1), 10),
                () -> store.findExecution("a", 1),
                () -> store.find("a"),
                () -> store.list(SessionQuery.all()),
                store::findActive,
                store::counts,
                store::flush);
        for (ThrowingCallable op : operations) {
            assertThatThrownBy(op)
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.SHUTTING_DOWN))
                    .hasMessageContaining(store.file().toString())
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void aSecondStoreOnTheSameFileIsRefusedUntilTheFirstCloses() {
        SqliteSessionStore first = SqliteSessionStore.builder().dataDirectory(dir).build();
        try {
            assertThatThrownBy(() -> SqliteSessionStore.builder().file(dir.resolve("tether.db")).build())
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                    .hasMessageContaining("already open in this process")
                    .hasMessageContaining("tether.db.lock");
            first.insert(active("still-writable"));
        } finally {
            first.close();
        }

        try (SqliteSessionStore second = SqliteSessionStore.builder().dataDirectory(dir).build()) {
            assertThat(second.find("still-writable")).isPresent();
        }
    }

    @Test
    void aFileThatIsNotADatabaseIsRefusedNamingTheFile() throws Exception {
        Path junk = dir.resolve("junk.db");
        Files.writeString(junk, "this is not an SQLite file, just text that is long enough to have a header");

        assertThatThrownBy(() -> SqliteSessionStore.builder().file(junk).build())
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining(junk.toString())
                .hasMessageContaining("open failed");
        // Nothing stays locked after a failed open.
        Files.delete(junk);
        SqliteSessionStore.builder().file(junk).build().close();
    }

    @Test
    void anotherApplicationsDatabaseIsRefused() throws Exception {
        Path other = dir.resolve("other.db");
        try (var c = TestSessions.rawConnection(other)) {
            c.createStatement().execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
        }

        assertThatThrownBy(() -> SqliteSessionStore.builder().file(other).build())
                .isInstanceOf(TetherException.class)
                .hasMessageContaining("not a Tether store");
    }

    @Test
    void builderRejectsBadSettingsWithClearMessages() {
        assertThatThrownBy(() -> SqliteSessionStore.builder().build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("file(...) or dataDirectory(...)");
        assertThatThrownBy(() -> SqliteSessionStore.builder().file(dir.resolve("a.db")).dataDirectory(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already set to file");
        assertThatThrownBy(() -> SqliteSessionStore.builder().activityFlushInterval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("between 1 ms and 1 h, got PT0S");
        assertThatThrownBy(() -> SqliteSessionStore.builder().activityFlushInterval(Duration.ofHours(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("between 1 ms and 1 h");
        assertThatThrownBy(() -> SqliteSessionStore.builder().activityFlushInterval(Duration.ofSeconds(1))
                .activityFlushInterval(Duration.ofSeconds(2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already set");
        assertThatThrownBy(() -> SqliteSessionStore.builder().synchronous(SqliteSessionStore.Synchronous.FULL)
                .synchronous(SqliteSessionStore.Synchronous.NORMAL))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SqliteSessionStore.builder().file(dir.resolve("what?.db")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'?'");
        assertThatThrownBy(() -> SqliteSessionStore.builder().file(dir.resolve("missing/dir/x.db")).build())
                .isInstanceOf(TetherException.class)
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> SqliteSessionStore.builder().file(dir).build())
                .isInstanceOf(TetherException.class)
                .hasMessageContaining("is a directory");
        assertThatThrownBy(() -> SqliteSessionStore.builder().file(null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void normalSynchronousStoreWorksLikeFull() {
        try (SqliteSessionStore store = SqliteSessionStore.builder()
                .dataDirectory(dir)
                .synchronous(SqliteSessionStore.Synchronous.NORMAL)
                .build()) {
            Session s = full("n");
            store.insert(s);
            assertThat(store.find("n")).contains(s);
        }
    }
}
