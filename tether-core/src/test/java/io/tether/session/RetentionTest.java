package io.tether.session;

import static io.tether.session.SessionManagerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.ErrorCode;
import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionQuery;
import io.tether.testing.Eventually;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Ended sessions and their history are deleted once past the retention; nothing here sleeps. */
class RetentionTest {
    private static final Duration RETENTION = Duration.ofDays(30);
    private final MutableClock clock = new MutableClock();
    private final InMemorySessionStore store = new InMemorySessionStore();

    private SessionManager manager(Duration purgeInterval) {
        return SessionManager.builder().store(store).clock(clock).reaperInterval(Duration.ZERO)
                .noDefaultIdleTimeout().retention(RETENTION).purgeInterval(purgeInterval)
                .runtime(new EchoRuntime()).build().start();
    }

    @Test
    void anEndedSessionAndItsHistoryGoOnceItEndedLongerThanTheRetentionAgo() {
        try (SessionManager manager = manager(Duration.ZERO)) {
            Session old = manager.create(SessionSpec.builder("alice").runtime("echo").build());
            manager.execute(old.id(), "print('kept until the purge')", null, null);
            Session active = manager.create(SessionSpec.of("alice"));
            manager.end(old.id(), EndReason.MANUAL);
            clock.advance(Duration.ofDays(1));
            Session recent = manager.create(SessionSpec.of("bob"));
            manager.end(recent.id(), EndReason.MANUAL);

            clock.advance(RETENTION.minusDays(1));
            assertThat(manager.purgeEnded()).as("ended exactly the retention ago: kept").isZero();
            assertThat(manager.execution(old.id(), 1)).isPresent();

            clock.advance(Duration.ofMillis(1));
            assertThat(manager.purgeEnded()).isEqualTo(1);
            assertThat(manager.find(old.id())).isEmpty();
            assertCode(() -> manager.execution(old.id(), 1), ErrorCode.SESSION_NOT_FOUND);
            assertThat(store.findExecution(old.id(), 1)).as("the history went with the session").isEmpty();
            assertThat(manager.get(active.id()).isActive()).as("active sessions stay, however old").isTrue();
            assertThat(manager.get(recent.id()).status()).isEqualTo(SessionStatus.ENDED);
            assertThat(manager.list(SessionQuery.all()).items()).extracting(Session::id)
                    .containsExactlyInAnyOrder(active.id(), recent.id());
        }
    }

    @Test
    void aBacklogLargerThanOneBatchIsPurgedInOneCall() {
        try (SessionManager manager = manager(Duration.ZERO)) {
            int n = SessionManager.PURGE_BATCH * 2 + 1;
            for (int i = 0; i < n; i++) {
                manager.end(manager.create(SessionSpec.of("alice")).id(), EndReason.MANUAL);
            }
            clock.advance(RETENTION.plusMillis(1));
            assertThat(manager.purgeEnded()).isEqualTo(n);
            assertThat(store.counts().byStatus().get(SessionStatus.ENDED)).isZero();
        }
    }

    @Test
    void thePurgeRunsByItself() {
        try (SessionManager manager = manager(Duration.ofMillis(5))) {
            Session s = manager.create(SessionSpec.of("alice"));
            manager.end(s.id(), EndReason.MANUAL);
            clock.advance(RETENTION.plusMillis(1));
            Eventually.eventually(Duration.ofSeconds(10), "the purge deleted the session",
                    () -> store.find(s.id()).isEmpty());
        }
    }

    @Test
    void withoutRetentionNothingIsPurged() {
        try (SessionManager manager = SessionManager.builder().store(store).clock(clock).noRetention().build()
                .start()) {
            Session s = manager.create(SessionSpec.of("alice"));
            manager.end(s.id(), EndReason.MANUAL);
            clock.advance(Duration.ofDays(3650));
            assertThat(manager.purgeEnded()).isZero();
            assertThat(manager.find(s.id())).isPresent();
        }
    }
}
