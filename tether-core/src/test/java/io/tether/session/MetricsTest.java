package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void managerRecordsCreationsActiveEndsAndResources() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MutableClock clock = new MutableClock();
        try (SessionManager m = SessionManager.builder().meterRegistry(registry).clock(clock)
                .reaperInterval(Duration.ZERO).runtime(new EchoRuntime()).build().start()) {
            Session a = m.create(SessionSpec.of("alice"));
            Session b = m.create(SessionSpec.builder("bob").idleTimeout(Duration.ofSeconds(1)).build());
            Session echo = m.create(SessionSpec.builder("bob").runtime("echo").build());
            m.execute(echo.id(), "1", null, null);
            m.execute(echo.id(), "crash", null, null);
            m.resources(a.id()).register("process", 5, () -> { });
            m.resources(a.id()).register("process", 5, () -> { });
            m.end(a.id(), EndReason.MANUAL);
            clock.advance(Duration.ofSeconds(2));
            m.cleanupInactive();

            assertThat(registry.get("tether.sessions.created").tag("runtime", "none").counter().count()).isEqualTo(2);
            assertThat(registry.get("tether.sessions.created").tag("runtime", "echo").counter().count()).isEqualTo(1);
            assertThat(registry.get("tether.sessions.creation").timer().count()).isEqualTo(3);
            assertThat(registry.get("tether.sessions.active").gauge().value()).isZero();
            assertThat(registry.get("tether.sessions.ended").tags("status", "ended", "reason", "manual")
                    .counter().count()).isEqualTo(1);
            assertThat(registry.get("tether.sessions.ended").tags("status", "timeout", "reason", "idle_timeout")
                    .counter().count()).isEqualTo(1);
            assertThat(registry.get("tether.resources.registered").tag("type", "process").counter().count())
                    .isEqualTo(2);
            assertThat(registry.get("tether.executions").tags("runtime", "echo", "status", "ok").timer().count())
                    .isEqualTo(1);
            assertThat(registry.get("tether.executions").tags("runtime", "echo", "status", "crashed").timer()
                    .count()).isEqualTo(1);
            assertThat(registry.get("tether.sessions.ended").tags("status", "error", "reason", "worker_crashed")
                    .counter().count()).isEqualTo(1);
            assertThat(b.id()).isNotNull();
        }
    }
}
