package io.tether.store.sqlite;

import static io.tether.store.sqlite.TestSessions.T0;
import static io.tether.store.sqlite.TestSessions.active;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.jdbc.SessionRows;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many writers at once: batching into shared transactions, and isolation of failures. */
class GroupCommitTest {
    private static final int THREADS = 16;
    private static final int SESSIONS_PER_THREAD = 25;

    @TempDir
    Path dir;

    @Test
    void concurrentWritersEndWithExactlyWhatEachWrote() throws Exception {
        Map<String, Session> expected = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicLong hotCount = new AtomicLong();
        int writes;
        try (SqliteSessionStore store = SqliteSessionStore.builder()
                .dataDirectory(dir)
                .activityFlushInterval(Duration.ofMillis(5))
                .build()) {
            Session hot = active("hot");
            store.insert(hot);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                threads.add(Thread.ofPlatform().name("writer-" + t).start(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < SESSIONS_PER_THREAD; i++) {
                            Session s = active("t" + thread + "-" + i, "owner" + thread % 4,
                                    T0.plusMillis(thread * 1000L + i));
                            store.insert(s);
                            for (int k = 1; k <= 3; k++) {
                                s = s.withActivity(s.lastActivityAt().plusMillis(k));
                                store.recordActivity(s.id(), s.lastActivityAt(), s.interactionCount());
                                long n = hotCount.incrementAndGet();
                                store.recordActivity("hot", T0.plusMillis(n), n);
                            }
                            s = s.withState(Map.of("i", (long) i, "thread", (long) thread), Map.of(),
                                    s.lastActivityAt().plusMillis(1));
                            store.update(s);
                            if (i % 2 == 0) {
                                s = s.withEnd(SessionStatus.ENDED, EndReason.MANUAL, s.lastActivityAt());
                                store.update(s);
                            }
                            expected.put(s.id(), s);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : threads) {
                assertThat(t.join(Duration.ofSeconds(30))).as("%s finished", t.getName()).isTrue();
            }
            assertThat(failures).isEmpty();
            store.flush();

            writes = 1 + THREADS * SESSIONS_PER_THREAD * 2 + THREADS * ((SESSIONS_PER_THREAD + 1) / 2);
            assertThat(store.transactionsCommitted()).as("transactions for %d writes", writes).isLessThan(writes);
            long n = hotCount.get();
            expected.put("hot", SessionRows.withLaterActivity(hot, T0.plusMillis(n).toEpochMilli(), n));
            assertStoreHolds(store, expected);
        }
        try (SqliteSessionStore reopened = SqliteSessionStore.builder().dataDirectory(dir).build()) {
            assertStoreHolds(reopened, expected);
        }
    }

    @Test
    void aFailingWriteFailsOnlyItsOwnCallerWhenBatchedWithOthers() throws Exception {
        try (SqliteSessionStore store = SqliteSessionStore.builder().dataDirectory(dir).build();
                Connection other = TestSessions.rawConnection(store.file());
                Statement sql = other.createStatement()) {
            // Rolls back the whole transaction, as a full disk would.
            sql.execute("CREATE TRIGGER poison BEFORE INSERT ON sessions WHEN NEW.id = 'poison' "
                    + "BEGIN SELECT RAISE(ROLLBACK, 'poisoned row'); END");

            // Hold the write lock so the writer stalls on its first batch while the rest queue up.
            sql.execute("BEGIN IMMEDIATE");
            Map<String, Throwable> outcome = new ConcurrentHashMap<>();
            List<Thread> callers = new ArrayList<>();
            callers.add(insertInBackground(store, "first", outcome));
            assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.queuedWrites() == 0
                    && callers.get(0).getState() == Thread.State.WAITING)).isTrue();
            for (String id : List.of("b1", "poison", "b2", "b3")) {
                callers.add(insertInBackground(store, id, outcome));
            }
            assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.queuedWrites() == 4)).isTrue();
            sql.execute("ROLLBACK");
            for (Thread t : callers) {
                assertThat(t.join(Duration.ofSeconds(10))).isTrue();
            }

            assertThat(outcome).containsOnlyKeys("poison");
            assertThat(outcome.get("poison"))
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                    .hasMessageContaining("insert of session poison failed")
                    .hasMessageContaining("poisoned row")
                    .hasMessageContaining(store.file().toString());
            assertThat(store.batchesRetriedOneByOne()).isEqualTo(1);
            for (String id : List.of("first", "b1", "b2", "b3")) {
                assertThat(store.find(id)).as(id).isPresent();
            }
            assertThat(store.find("poison")).isEmpty();
        }
    }

    private static Thread insertInBackground(SqliteSessionStore store, String id, Map<String, Throwable> failures) {
        return Thread.ofPlatform().name("insert-" + id).start(() -> {
            try {
                store.insert(active(id));
            } catch (Throwable e) {
                failures.put(id, e);
            }
        });
    }

    private static void assertStoreHolds(SqliteSessionStore store, Map<String, Session> expected) {
        for (Session s : expected.values()) {
            assertThat(store.find(s.id())).as(s.id()).contains(s);
        }
        assertThat(store.counts().total()).isEqualTo(expected.size());
        assertThat(store.counts().byStatus().get(SessionStatus.ENDED))
                .isEqualTo(THREADS * ((SESSIONS_PER_THREAD + 1) / 2));
    }
}
