package io.tether.store.sqlite;

import static io.tether.store.sqlite.TestSessions.T0;
import static io.tether.store.sqlite.TestSessions.active;
import static io.tether.store.sqlite.TestSessions.full;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the SQLite store does beyond the contract ({@link SqliteSessionStoreContractTest}). */
class SqliteSessionStoreTest {
    @TempDir
    Path dir;

    private SqliteSessionStore store;

    @BeforeEach
    void open() {
        store = SqliteSessionStore.builder()
                .dataDirectory(dir)
                .activityFlushInterval(Duration.ofHours(1))
                .build();
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void numbersKeepTheirKindThroughJson() {
        Session s = full("s-json");
        store.insert(s);

        Map<String, Object> data = store.find("s-json").orElseThrow().data();

        assertThat(data.get("long")).isEqualTo(Long.MAX_VALUE);
        assertThat(data.get("double")).isEqualTo(0.1 + 0.2);
        assertThat(data.get("tiny")).isEqualTo(4.9e-324);
        assertThat(data.get("big")).isEqualTo(new java.math.BigInteger("123456789012345678901234567890"));
        assertThat(data).containsEntry("nothing", null);
        assertThat(data.get("list")).isEqualTo(java.util.Arrays.asList(1L, null, "two", 3.5,
                java.util.List.of(), Map.of()));
    }

    @Test
    void insertingAnExistingIdFails() {
        store.insert(active("dup"));

        assertThatThrownBy(() -> store.insert(active("dup", "mallory", T0.plusSeconds(5))))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining("dup already stored");
        assertThat(store.find("dup").orElseThrow().owner()).isEqualTo("alice");
    }

    @Test
    void updateNeedsThePreviousVersion() {
        Session v1 = active("s-v");
        store.insert(v1);
        Session v2 = v1.withState(Map.of("a", 1L), JsonObjects.EMPTY, T0.plusSeconds(1));
        store.update(v2);

        Session stale = v1.withState(Map.of("b", 2L), JsonObjects.EMPTY, T0.plusSeconds(2)); // version 2 again
        assertThatThrownBy(() -> store.update(stale))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE))
                .hasMessageContaining("version conflict")
                .hasMessageContaining("stored version is 2");
        Session skipping = v2.withState(Map.of(), Map.of(), T0).withState(Map.of(), Map.of(), T0); // version 4
        assertThatThrownBy(() -> store.update(skipping)).hasMessageContaining("needs stored version 3");

        assertThat(store.find("s-v")).contains(v2);
    }

    @Test
    void updateNeverMovesActivityBackwards() {
        Session v1 = active("s-mono");
        store.insert(v1);
        store.recordActivity("s-mono", T0.plusSeconds(60), 10);
        store.flush();

        // A full-row update carrying older activity than the store has seen.
        Session v2 = v1.withState(Map.of("k", "v"), JsonObjects.EMPTY, T0.plusSeconds(5));
        store.update(v2);

        Session stored = store.find("s-mono").orElseThrow();
        assertThat(stored.lastActivityAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(stored.interactionCount()).isEqualTo(10);
        assertThat(stored.data()).containsEntry("k", "v");
        assertThat(stored.version()).isEqualTo(2);
    }

    @Test
    void activityIsMonotonic() {
        store.insert(active("s-act"));

        store.recordActivity("s-act", T0.plusSeconds(30), 5);
        store.recordActivity("s-act", T0.plusSeconds(10), 9); // older instant, higher count
        store.flush();
        store.recordActivity("s-act", T0.plusSeconds(20), 1); // older than what is stored
        store.flush();

        Session stored = store.find("s-act").orElseThrow();
        assertThat(stored.lastActivityAt()).isEqualTo(T0.plusSeconds(30));
        assertThat(stored.interactionCount()).isEqualTo(9);
    }

    @Test
    void aHotSessionCostsOneRowWritePerFlush() {
        store.insert(active("hot"));
        long before = store.activityUpdatesCommitted();

        for (int i = 1; i <= 10_000; i++) {
            store.recordActivity("hot", T0.plusMillis(i), i);
        }
        store.flush();

        assertThat(store.activityUpdatesCommitted() - before).isEqualTo(1);
        Session stored = store.find("hot").orElseThrow();
        assertThat(stored.lastActivityAt()).isEqualTo(T0.plusMillis(10_000));
        assertThat(stored.interactionCount()).isEqualTo(10_000);
    }

    @Test
    void readsShowActivityNotYetWritten() {
        store.insert(active("s-pending"));

        store.recordActivity("s-pending", T0.plusSeconds(7), 3);

        assertThat(store.activityUpdatesCommitted()).isZero();
        Session seen = store.find("s-pending").orElseThrow();
        assertThat(seen.lastActivityAt()).isEqualTo(T0.plusSeconds(7));
        assertThat(seen.interactionCount()).isEqualTo(3);
    }

    @Test
    void flushMakesActivityDurable() throws Exception {
        store.insert(active("s-flush"));
        store.recordActivity("s-flush", T0.plusSeconds(9), 4);

        store.flush();

        try (var c = TestSessions.rawConnection(store.file());
                var rs = c.createStatement().executeQuery(
                        "SELECT last_activity_at, interaction_count FROM sessions WHERE id = 's-flush'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(T0.plusSeconds(9).toEpochMilli());
            assertThat(rs.getLong(2)).isEqualTo(4);
        }
    }

    @Test
    void activityIsWrittenWithinTheFlushIntervalWithoutAFlush() throws Exception {
        store.close();
        store = SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofMillis(20)).build();
        store.insert(active("s-timed"));

        store.recordActivity("s-timed", T0.plusSeconds(3), 2);

        assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.activityUpdatesCommitted() == 1)).isTrue();
        store.recordActivity("s-timed", T0.plusSeconds(4), 3);
        assertThat(TestSessions.eventually(Duration.ofSeconds(5), () -> store.activityUpdatesCommitted() == 2)).isTrue();
    }

    @Test
    void instantsAreStoredToTheMillisecond() {
        Instant fine = T0.plusNanos(1_234_567);
        Session s = active("s-nanos", "alice", fine);

        store.insert(s);

        assertThat(store.find("s-nanos").orElseThrow().createdAt()).isEqualTo(T0.plusMillis(1));
    }
}
