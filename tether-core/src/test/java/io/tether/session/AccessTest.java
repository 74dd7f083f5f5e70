package io.tether.session;

import static io.tether.session.SessionManagerTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.runtime.ExecutionStatus;
import io.tether.store.SessionQuery;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Ownership in the manager: another owner's session does not exist for a caller; an admin sees all. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AccessTest {
    private static final Access ALICE = Access.owner("alice");
    private static final Access ROOT = Access.admin("root");

    private final MutableClock clock = new MutableClock();
    private final EchoRuntime echo = new EchoRuntime();
    private SessionManager manager;
    private Session bobs;

    @BeforeEach
    void start() {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO).runtime(echo).build().start();
        bobs = manager.create(SessionSpec.builder("bob").runtime("echo").data(Map.of("k", "v")).build());
        manager.execute(bobs.id(), "x = 1", null, null);
        bobs = manager.get(bobs.id());
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void anotherOwnersSessionIsNotFoundForEveryOperationAndStaysAsItWas() {
        String id = bobs.id();
        clock.advance(Duration.ofSeconds(5)); // a touch that got through would move the activity

        assertThat(manager.find(ALICE, id)).isEmpty();
        assertCode(() -> manager.get(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.touch(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.update(ALICE, id, Map.of("k", "stolen"), null), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.execute(ALICE, id, "y = 2", null, null), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.interrupt(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.restart(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.execution(ALICE, id, 1), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.executions(ALICE, id, Long.MAX_VALUE, 10), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.workingDirectory(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.resources(ALICE, id), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.complete(ALICE, id, "x", 1), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.inspect(ALICE, id, "x", 1), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.end(ALICE, id, EndReason.MANUAL), ErrorCode.SESSION_NOT_FOUND);

        assertThat(manager.get(id)).as("bob's session, untouched").isEqualTo(bobs);
        assertThat(echo.executed).as("only bob's own execution ran").hasSize(1);
        assertThat(echo.started.get(0).restarts).hasValue(0);
    }

    @Test
    void anEndedSessionOfAnotherOwnerIsNotFoundEither() {
        Session ended = manager.end(bobs.id(), EndReason.MANUAL);

        assertThat(manager.find(ALICE, ended.id())).isEmpty();
        assertCode(() -> manager.touch(ALICE, ended.id()), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.end(ALICE, ended.id(), EndReason.MANUAL), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.executions(ALICE, ended.id(), Long.MAX_VALUE, 10), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.execution(ALICE, ended.id(), 1), ErrorCode.SESSION_NOT_FOUND);
        // Its owner is told it ended, not that it does not exist.
        assertCode(() -> manager.touch(Access.owner("bob"), ended.id()), ErrorCode.SESSION_ENDED);
        assertThat(manager.executions(Access.owner("bob"), ended.id(), Long.MAX_VALUE, 10)).hasSize(1);
    }

    @Test
    void anOwnerUsesItsOwnSessions() {
        Access bob = Access.owner("bob");
        assertThat(manager.touch(bob, bobs.id()).interactionCount()).isEqualTo(bobs.interactionCount() + 1);
        assertThat(manager.execute(bob, bobs.id(), "y", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.end(bob, bobs.id(), EndReason.MANUAL).status()).isEqualTo(SessionStatus.ENDED);
    }

    @Test
    void anAdminSeesAndChangesEveryOwnersSessions() {
        String id = bobs.id();
        assertThat(manager.get(ROOT, id)).isEqualTo(bobs);
        assertThat(manager.update(ROOT, id, Map.of("k", "w"), null).data()).containsEntry("k", "w");
        assertThat(manager.execute(ROOT, id, "y", null, null).number()).isEqualTo(2);
        assertThat(manager.executions(ROOT, id, Long.MAX_VALUE, 10)).hasSize(2);
        assertThat(manager.restart(ROOT, id).interactionCount()).isEqualTo(bobs.interactionCount() + 3);
        assertThat(manager.end(ROOT, id, EndReason.MANUAL).status()).isEqualTo(SessionStatus.ENDED);
    }

    @Test
    void aCallerListsItsOwnSessionsOnlyAndAnAdminEveryOwners() {
        Session alices = manager.create(ALICE, SessionSpec.of("alice"));

        assertThat(manager.list(ALICE, SessionQuery.all()).items()).extracting(Session::id)
                .containsExactly(alices.id());
        assertThat(manager.list(ALICE, SessionQuery.all().withOwner("alice")).items()).extracting(Session::id)
                .containsExactly(alices.id());
        assertCode(() -> manager.list(ALICE, SessionQuery.all().withOwner("bob")), ErrorCode.INVALID_REQUEST);
        assertThat(manager.list(ROOT, SessionQuery.all()).items()).extracting(Session::id)
                .containsExactlyInAnyOrder(alices.id(), bobs.id());
        assertThat(manager.list(ROOT, SessionQuery.all().withOwner("bob")).items()).extracting(Session::id)
                .containsExactly(bobs.id());
    }

    @Test
    void onlyAnAdminCreatesSessionsForAnotherOwner() {
        long before = manager.stats().active();

        assertCode(() -> manager.create(ALICE, SessionSpec.of("bob")), ErrorCode.INVALID_REQUEST);
        assertThat(manager.stats().active()).as("nothing created").isEqualTo(before);

        assertThat(manager.create(ROOT, SessionSpec.of("bob")).owner()).isEqualTo("bob");
        assertThat(manager.stats().activeByOwner()).containsEntry("bob", 2L);
    }

    @Test
    void onlyAnAdminAccessMayGoWithoutAnOwner() {
        assertThat(Access.SYSTEM.sees("anyone")).isTrue();
        assertThatThrownBy(() -> new Access(null, false)).isInstanceOf(IllegalArgumentException.class);
    }
}
