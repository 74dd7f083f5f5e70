package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionStatus;
import io.tether.session.ConcurrencyTest;
import io.tether.session.EchoRuntime;
import io.tether.session.EndReason;
import io.tether.session.ExecutionRecord;
import io.tether.session.MutableClock;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session manager over real SQLite files: concurrency, restart, expiry and execution
 * history across restarts.
 */
class SqliteSessionManagerTest {
    @TempDir
    Path dir;

    private SqliteSessionStore store() {
        return SqliteSessionStore.builder().dataDirectory(dir).build();
    }

    private SessionManager manager(MutableClock clock) {
        return SessionManager.builder().store(store()).clock(clock).reaperInterval(Duration.ZERO).build().start();
    }

    @Test
    void sixteenThreadsLeaveExactCountsInTheFile() throws Exception {
        List<String> ids = ConcurrencyTest.runMixedLoad(store(), 60);

        try (SessionManager reopened = manager(new MutableClock())) {
            int active = 0;
            for (String id : ids) {
                Session s = reopened.get(id);
                assertThat(s.interactionCount()).as("touches flushed on close").isEqualTo(4);
                assertThat(s.data()).containsKeys("thread", "i");
                active += s.isActive() ? 1 : 0;
            }
            assertThat(active).isEqualTo(ids.size() / 2);
            assertThat(reopened.stats().active()).isEqualTo(active);
            assertThat(reopened.stats().totalCreated()).isEqualTo(ids.size());
            assertThat(reopened.stats().endedByReason()).isEqualTo(Map.of("manual", (long) ids.size() / 2));
        }
    }

    @Test
    void limitsHoldUnderARaceOnSqlite() throws Exception {
        ConcurrencyTest.runLimitRace(store());
    }

    @Test
    void reopeningFindsEverySessionAsItWas() {
        MutableClock clock = new MutableClock();
        Map<String, Session> before = new HashMap<>();
        try (SessionManager m = manager(clock)) {
            Session a = m.create(SessionSpec.builder("alice").key("cart").data(Map.of("items", List.of("book")))
                    .metadata(Map.of("ua", "firefox")).maxLifetime(Duration.ofDays(1)).build());
            clock.advance(Duration.ofSeconds(1));
            m.touch(a.id());
            before.put(a.id(), m.update(a.id(), Map.of("total", 12.5), null));
            Session b = m.create(SessionSpec.builder("bob").noIdleTimeout().build());
            before.put(b.id(), m.end(b.id(), EndReason.of("checked_out")));
            Session c = m.create(SessionSpec.of("carol"));
            clock.advance(Duration.ofSeconds(1));
            before.put(c.id(), m.touch(c.id()));
        }
        try (SessionManager m = manager(clock)) {
            before.forEach((id, s) -> assertThat(m.get(id)).isEqualTo(s));
            assertThat(m.getOrCreate(SessionSpec.builder("alice").key("cart").build()).id())
                    .as("the key still leads to the same session").isIn(before.keySet());
            assertThat(m.stats().active()).isEqualTo(2);
        }
    }

    @Test
    void executionsCanBeFetchedByNumberAfterTheManagerReopened() {
        MutableClock clock = new MutableClock();
        String id;
        ExecutionRecord third;
        try (SessionManager m = SessionManager.builder().store(store()).clock(clock).reaperInterval(Duration.ZERO)
                .runtime(new EchoRuntime()).executionHistory(2).build().start()) {
            id = m.create(SessionSpec.builder("alice").runtime("echo").build()).id();
            for (int i = 1; i <= 3; i++) {
                clock.advance(Duration.ofSeconds(1));
                assertThat(m.execute(id, "print " + i, null, null).status()).isEqualTo(ExecutionStatus.OK);
            }
            third = m.execution(id, 3).orElseThrow();
            assertThat(third.code()).isEqualTo("print 3");
            assertThat(third.result().stdout()).isEqualTo("print 3");
            assertThat(third.startedAt()).isEqualTo(clock.instant());
        }

        try (SessionManager m = manager(clock)) {
            assertThat(m.get(id).endReason()).as("ended with its worker on close").isEqualTo(EndReason.SERVER_SHUTDOWN);
            assertThat(m.execution(id, 3)).contains(third);
            assertThat(m.execution(id, 2).orElseThrow().code()).isEqualTo("print 2");
            assertThat(m.execution(id, 1)).as("beyond the history of 2").isEmpty();
            assertThat(m.execution(id, 4)).isEmpty();
        }
    }

    @Test
    void aSessionThatExpiredWhileTheProcessWasDownTimesOutOnStart() {
        MutableClock clock = new MutableClock();
        String id;
        try (SessionManager m = manager(clock)) {
            id = m.create(SessionSpec.builder("a").idleTimeout(Duration.ofMinutes(5)).build()).id();
        }
        clock.advance(Duration.ofMinutes(6));
        try (SessionManager m = manager(clock)) {
            assertThat(m.cleanupInactive()).isEqualTo(1);
            assertThat(m.get(id).status()).isEqualTo(SessionStatus.TIMEOUT);
        }
        try (SessionManager m = manager(clock)) {
            assertThat(m.get(id).endReason()).isEqualTo(EndReason.IDLE_TIMEOUT);
            assertThat(m.stats().active()).isZero();
        }
    }
}
