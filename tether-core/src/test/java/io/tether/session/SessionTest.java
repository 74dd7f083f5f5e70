package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionTest {
    private static final Instant T = Instant.parse("2026-01-01T00:00:00.123456789Z");

    private static Session active(Instant at, Duration idle, Duration lifetime) {
        return new Session("id", "o", null, "none", SessionStatus.ACTIVE, at, at, null, null, idle, lifetime, 0,
                Map.of(), Map.of(), null, 1);
    }

    @Test
    void instantsKeepMillisecondPrecisionSoStoresReadBackEqualSessions() {
        Session s = active(T, null, null).withEnd(SessionStatus.ENDED, EndReason.MANUAL, T.plusNanos(7));
        assertThat(s.createdAt()).isEqualTo(Instant.parse("2026-01-01T00:00:00.123Z"));
        assertThat(s.lastActivityAt()).isEqualTo(s.createdAt());
        assertThat(s.endedAt()).isEqualTo(s.createdAt());
    }

    @Test
    void maxLifetimeWinsOverIdleTimeoutWhenBothHaveExpired() {
        Session s = active(T, Duration.ofMinutes(1), Duration.ofMinutes(1));
        assertThat(s.expiryAt(T.plusSeconds(59))).isNull();
        assertThat(s.expiryAt(T.plusSeconds(60))).isEqualTo(EndReason.MAX_LIFETIME);
        assertThat(active(T, Duration.ofMinutes(1), null).expiryAt(T.plusSeconds(60)))
                .isEqualTo(EndReason.IDLE_TIMEOUT);
        assertThat(active(T, null, null).expiryAt(T.plus(Duration.ofDays(3650)))).isNull();
    }

    @Test
    void activityNeverMovesBackwardsAndDoesNotChangeTheVersion() {
        Session s = active(T, null, null).withActivity(T.plusSeconds(5)).withActivity(T.plusSeconds(1));
        assertThat(s.lastActivityAt()).isEqualTo(T.plusSeconds(5).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(s.interactionCount()).isEqualTo(2);
        assertThat(s.version()).isEqualTo(1);
    }
}
