package io.tether.session;

import static io.tether.session.SessionManagerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.ErrorCode;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An owner's share of a runtime's workers: refused past it, freed by an end or a failed start. */
class WorkerSharesTest {
    private final EchoRuntime echo = new EchoRuntime();
    private final SessionManager manager = SessionManager.builder().runtime(echo).maxWorkersPerOwner("echo", 2)
            .reaperInterval(Duration.ZERO).build().start();

    @AfterEach
    void close() {
        manager.close();
    }

    private Session echoSession(String owner) {
        return manager.create(SessionSpec.builder(owner).runtime("echo").build());
    }

    @Test
    void anOwnerPastItsShareIsRefusedWhileOthersAndPlainSessionsAreNot() {
        Session first = echoSession("alice");
        echoSession("alice");
        assertCode(() -> echoSession("alice"), ErrorCode.LIMIT_EXCEEDED);
        assertThat(echo.started).as("no worker started for the refused create").hasSize(2);

        assertThat(echoSession("bob").isActive()).isTrue();
        assertThat(manager.create(SessionSpec.of("alice")).isActive()).as("a plain session needs no worker").isTrue();

        manager.end(first.id(), EndReason.MANUAL);
        assertThat(echoSession("alice").isActive()).as("an end frees its worker's share").isTrue();
    }

    @Test
    void aFailedStartGivesItsShareBack() {
        echo.failStarts = true;
        for (int i = 0; i < 3; i++) {
            assertCode(() -> echoSession("alice"), ErrorCode.RUNTIME_UNAVAILABLE);
        }
        echo.failStarts = false;
        echoSession("alice");
        assertThat(echoSession("alice").isActive()).isTrue();
    }
}
