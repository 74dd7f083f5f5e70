package io.tether.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.session.EndReason;
import io.tether.session.MutableClock;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.store.InMemorySessionStore;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** MCP sessions' owners and lifetimes, on a moved clock. */
class McpSessionsTest {
    private final MutableClock clock = new MutableClock();
    private final SessionManager manager = SessionManager.builder().store(new InMemorySessionStore()).clock(clock)
            .noDefaultIdleTimeout().build().start();
    private final McpSessions sessions = new McpSessions(manager, clock, Duration.ofMinutes(10));

    @AfterEach
    void close() {
        manager.close();
    }

    private Session plain() {
        return manager.create(SessionSpec.of("alice"));
    }

    @Test
    void anMcpSessionIsItsOpenersAlone() {
        sessions.opened("m1", "alice");
        assertThat(sessions.use("m1", "alice")).isEqualTo(McpSessions.Access.OWN);
        assertThat(sessions.use("m1", "bob")).isEqualTo(McpSessions.Access.FOREIGN);
        assertThat(sessions.use("never-opened", "alice")).isEqualTo(McpSessions.Access.UNKNOWN);
    }

    @Test
    void theAutomaticSessionIsReusedAndReplacedOnlyOnceItEnded() {
        sessions.opened("m1", "alice");
        McpSessions.Bound first = sessions.automatic("m1", this::plain);
        assertThat(first.replaced()).isNull();
        assertThat(sessions.automatic("m1", this::plain).session().id()).isEqualTo(first.session().id());
        manager.end(first.session().id(), EndReason.MANUAL);
        McpSessions.Bound next = sessions.automatic("m1", this::plain);
        assertThat(next.session().id()).isNotEqualTo(first.session().id());
        assertThat(next.replaced()).isEqualTo(first.session().id());
    }

    @Test
    void anIdleMcpSessionEndsWithItsAutomaticSessionAndItsIdIsRefusedAfterwards() {
        sessions.opened("idle", "alice");
        sessions.opened("busy", "alice");
        String idle = sessions.automatic("idle", this::plain).session().id();
        String busy = sessions.automatic("busy", this::plain).session().id();
        clock.advance(Duration.ofMinutes(9));
        sessions.use("busy", "alice");
        assertThat(sessions.sweep()).isZero();
        clock.advance(Duration.ofMinutes(2));
        assertThat(sessions.sweep()).isEqualTo(1);
        Session ended = manager.get(idle);
        assertThat(ended.status()).isNotEqualTo(SessionStatus.ACTIVE);
        assertThat(ended.endReason()).isEqualTo(McpSessions.MCP_SESSION_ENDED);
        assertThat(manager.get(busy).status()).isEqualTo(SessionStatus.ACTIVE);
        assertThat(sessions.use("idle", "alice")).isEqualTo(McpSessions.Access.ENDED);
    }

    @Test
    void deletingAnMcpSessionEndsItsAutomaticSession() {
        sessions.opened("m1", "alice");
        String id = sessions.automatic("m1", this::plain).session().id();
        sessions.end("m1");
        assertThat(manager.get(id).endReason()).isEqualTo(McpSessions.MCP_SESSION_ENDED);
        assertThat(sessions.use("m1", "alice")).isEqualTo(McpSessions.Access.ENDED);
    }

    @Test
    void closingEndsEveryAutomaticSessionAsAServerShutdown() {
        sessions.opened("m1", "alice");
        sessions.opened("m2", "alice");
        String one = sessions.automatic("m1", this::plain).session().id();
        String two = sessions.automatic("m2", this::plain).session().id();
        String other = plain().id();
        sessions.closeAll();
        assertThat(manager.get(one).endReason()).isEqualTo(EndReason.SERVER_SHUTDOWN);
        assertThat(manager.get(two).endReason()).isEqualTo(EndReason.SERVER_SHUTDOWN);
        assertThat(manager.get(other).status()).isEqualTo(SessionStatus.ACTIVE);
    }
}
