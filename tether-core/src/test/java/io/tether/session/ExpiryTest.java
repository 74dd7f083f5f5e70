package io.tether.session;

import static io.tether.session.SessionManagerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Expiry with a moved clock: nothing here sleeps. */
class ExpiryTest {
    private final MutableClock clock = new MutableClock();
    private final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    private SessionManager manager;

    @BeforeEach
    void start() {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO)
                .defaultIdleTimeout(Duration.ofMinutes(10)).listener(events::add).build().start();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void idleSessionTimesOutAfterItsIdleTimeout() {
        Session s = manager.create(SessionSpec.of("alice"));
        clock.advance(Duration.ofMinutes(10).minusMillis(1));
        assertThat(manager.cleanupInactive()).isZero();

        clock.advance(Duration.ofMillis(1));
        assertThat(manager.cleanupInactive()).isEqualTo(1);

        Session expired = manager.get(s.id());
        assertThat(expired.status()).isEqualTo(SessionStatus.TIMEOUT);
        assertThat(expired.endReason()).isEqualTo(EndReason.IDLE_TIMEOUT);
        assertThat(expired.endedAt()).isEqualTo(clock.instant());
        assertThat(events).last().isInstanceOf(SessionEvent.TimedOut.class);
        assertThat(manager.stats().active()).isZero();
    }

    @Test
    void touchPostponesIdleExpiry() {
        Session s = manager.create(SessionSpec.of("alice"));
        clock.advance(Duration.ofMinutes(9));
        manager.touch(s.id());
        clock.advance(Duration.ofMinutes(9));

        assertThat(manager.cleanupInactive()).isZero();
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }

    @Test
    void maxLifetimeEndsEvenABusySession() {
        Session s = manager.create(SessionSpec.builder("alice").maxLifetime(Duration.ofMinutes(15)).build());
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(5));
            if (i < 2) {
                manager.touch(s.id());
            }
        }
        assertThat(manager.cleanupInactive()).isEqualTo(1);
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.MAX_LIFETIME);
    }

    @Test
    void perSessionTimeoutsOverrideTheDefault() {
        Session quick = manager.create(SessionSpec.builder("a").idleTimeout(Duration.ofSeconds(30)).build());
        Session forever = manager.create(SessionSpec.builder("a").noIdleTimeout().build());
        Session normal = manager.create(SessionSpec.of("a"));
        clock.advance(Duration.ofMinutes(1));
        assertThat(manager.cleanupInactive()).isEqualTo(1);
        assertThat(manager.get(quick.id()).status()).isEqualTo(SessionStatus.TIMEOUT);

        clock.advance(Duration.ofDays(365));
        assertThat(manager.cleanupInactive()).isEqualTo(1);
        assertThat(manager.get(normal.id()).status()).isEqualTo(SessionStatus.TIMEOUT);
        assertThat(manager.get(forever.id()).isActive()).isTrue();
        assertThat(forever.idleTimeout()).isNull();
    }

    @Test
    void anExpiredSessionIsEndedWhenUsedEvenBeforeTheReaperRuns() {
        Session s = manager.create(SessionSpec.of("alice"));
        clock.advance(Duration.ofMinutes(11));

        assertCode(() -> manager.touch(s.id()), ErrorCode.SESSION_ENDED);
        assertThat(manager.get(s.id()).status()).isEqualTo(SessionStatus.TIMEOUT);
        assertThat(manager.cleanupInactive()).as("already timed out").isZero();
        assertThat(manager.end(s.id(), EndReason.MANUAL).status()).isEqualTo(SessionStatus.TIMEOUT);
    }

    @Test
    void getOrCreateReplacesAnExpiredKeyedSession() {
        SessionSpec spec = SessionSpec.builder("alice").key("conv").build();
        Session first = manager.getOrCreate(spec);
        clock.advance(Duration.ofMinutes(11));

        Session second = manager.getOrCreate(spec);

        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(manager.get(first.id()).status()).isEqualTo(SessionStatus.TIMEOUT);
    }

    @Test
    void expiryReleasesWhatTheSessionHeld() {
        Session s = manager.create(SessionSpec.of("alice"));
        List<String> closed = new CopyOnWriteArrayList<>();
        manager.resources(s.id()).register("process", 100, () -> closed.add("process"));
        clock.advance(Duration.ofHours(1));

        manager.cleanupInactive();

        assertThat(closed).containsExactly("process");
    }

    @Test
    void theReaperThreadEndsExpiredSessionsOnItsOwn() throws Exception {
        java.util.concurrent.CountDownLatch timedOut = new java.util.concurrent.CountDownLatch(1);
        try (SessionManager reaped = SessionManager.builder().clock(clock).reaperInterval(Duration.ofMillis(10))
                .listener(e -> {
                    if (e instanceof SessionEvent.TimedOut) {
                        timedOut.countDown();
                    }
                }).build().start()) {
            Session s = reaped.create(SessionSpec.builder("a").idleTimeout(Duration.ofSeconds(1)).build());
            clock.advance(Duration.ofSeconds(2));

            assertThat(timedOut.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(reaped.get(s.id()).status()).isEqualTo(SessionStatus.TIMEOUT);
        }
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("tether-session-reaper");
    }
}
