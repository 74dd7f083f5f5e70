package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.store.InMemorySessionStore;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SessionManagerTest {
    private final MutableClock clock = new MutableClock();
    private final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    private SessionManager manager;

    @BeforeEach
    void start() {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO)
                .listener(events::add).build().start();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void createdSessionHasTheModelsFields() {
        Session s = manager.create(SessionSpec.builder("alice").data(Map.of("n", 1))
                .metadata(Map.of("title", "t")).build());

        assertThat(s.id()).hasSize(22).matches("[A-Za-z0-9_-]+");
        assertThat(s.owner()).isEqualTo("alice");
        assertThat(s.runtime()).isEqualTo("none");
        assertThat(s.status()).isEqualTo(SessionStatus.ACTIVE);
        assertThat(s.createdAt()).isEqualTo(clock.instant()).isEqualTo(s.lastActivityAt());
        assertThat(s.endedAt()).isNull();
        assertThat(s.endReason()).isNull();
        assertThat(s.idleTimeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.maxLifetime()).isNull();
        assertThat(s.interactionCount()).isZero();
        assertThat(s.data()).isEqualTo(Map.of("n", 1L));
        assertThat(s.metadata()).isEqualTo(Map.of("title", "t"));
        assertThat(s.node()).isEqualTo("local");
        assertThat(s.version()).isEqualTo(1);
        assertThat(manager.get(s.id())).isEqualTo(s);
        assertThat(events).containsExactly(new SessionEvent.Created(s));
    }

    @Test
    void idsAreUniqueAndUnguessable() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            ids.add(manager.create(SessionSpec.of("o")).id());
        }
        assertThat(ids).hasSize(2000).allSatisfy(id -> assertThat(id).hasSize(22).doesNotStartWith("-"));
    }

    @Test
    void touchCountsAnInteractionAndMovesActivity() {
        Session s = manager.create(SessionSpec.of("alice"));
        clock.advance(Duration.ofSeconds(5));

        Session touched = manager.touch(s.id());
        manager.touch(s.id());

        assertThat(touched.lastActivityAt()).isEqualTo(s.createdAt().plusSeconds(5));
        assertThat(manager.get(s.id()).interactionCount()).isEqualTo(2);
        assertThat(manager.get(s.id()).version()).as("activity alone is not a new version").isEqualTo(1);
    }

    @Test
    void updateMergesDataAndMetadataAndCountsAsActivity() {
        Session s = manager.create(SessionSpec.builder("alice")
                .data(Map.of("a", 1, "b", Map.of("c", 2, "d", 3))).build());
        clock.advance(Duration.ofSeconds(1));

        Map<String, Object> patch = new java.util.HashMap<>();
        patch.put("a", null);
        patch.put("b", Map.of("c", 20));
        patch.put("e", List.of(1, 2));
        Session u = manager.update(s.id(), patch, Map.of("m", true));

        assertThat(u.data()).isEqualTo(Map.of("b", Map.of("c", 20L, "d", 3L), "e", List.of(1L, 2L)));
        assertThat(u.metadata()).isEqualTo(Map.of("m", true));
        assertThat(u.interactionCount()).isEqualTo(1);
        assertThat(u.lastActivityAt()).isEqualTo(clock.instant());
        assertThat(u.version()).isEqualTo(2);
        assertThat(events).last().isEqualTo(new SessionEvent.Touched(u));
    }

    @Test
    void invalidUpdateChangesNothing() {
        Session s = manager.create(SessionSpec.builder("alice").data(Map.of("a", 1)).build());

        assertThatThrownBy(() -> manager.update(s.id(), Map.of("a", 2, "bad", Double.NaN), null))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("data.bad");
        assertThat(manager.get(s.id())).isEqualTo(s);
    }

    @Test
    void endIsIdempotentAndReturnsTheFinalRecord() {
        Session s = manager.create(SessionSpec.of("alice"));
        clock.advance(Duration.ofSeconds(3));

        Session ended = manager.end(s.id(), EndReason.MANUAL);
        clock.advance(Duration.ofSeconds(3));
        Session again = manager.end(s.id(), EndReason.of("other"));

        assertThat(ended.status()).isEqualTo(SessionStatus.ENDED);
        assertThat(ended.endReason()).isEqualTo(EndReason.MANUAL);
        assertThat(ended.endedAt()).isEqualTo(s.createdAt().plusSeconds(3));
        assertThat(again).isEqualTo(ended);
        assertThat(manager.get(s.id())).isEqualTo(ended);
        assertThat(events).filteredOn(e -> e instanceof SessionEvent.Ended).hasSize(1);
    }

    @Test
    void endedSessionRefusesActivity() {
        Session s = manager.create(SessionSpec.of("alice"));
        manager.end(s.id(), EndReason.MANUAL);

        assertCode(() -> manager.touch(s.id()), ErrorCode.SESSION_ENDED);
        assertCode(() -> manager.update(s.id(), Map.of("a", 1), null), ErrorCode.SESSION_ENDED);
        assertCode(() -> manager.resources(s.id()), ErrorCode.SESSION_ENDED);
    }

    @Test
    void unknownSessionIsNotFound() {
        assertCode(() -> manager.get("nope"), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.touch("nope"), ErrorCode.SESSION_NOT_FOUND);
        assertCode(() -> manager.end("nope", EndReason.MANUAL), ErrorCode.SESSION_NOT_FOUND);
        assertThat(manager.find("nope")).isEmpty();
    }

    @Test
    void failEndsWithErrorStatusAndCarriesTheCause() {
        Session s = manager.create(SessionSpec.of("alice"));
        IllegalStateException cause = new IllegalStateException("worker died");

        Session failed = manager.fail(s.id(), EndReason.WORKER_CRASHED, cause);

        assertThat(failed.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(failed.endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertThat(events).last().isInstanceOfSatisfying(SessionEvent.Failed.class,
                e -> assertThat(e.cause()).isSameAs(cause));
    }

    @Test
    void getOrCreateReturnsTheSameSessionForTheSameKeyUntilItEnds() {
        SessionSpec spec = SessionSpec.builder("alice").key("chat-1").build();
        Session first = manager.getOrCreate(spec);
        Session second = manager.getOrCreate(spec);
        Session otherOwner = manager.getOrCreate(SessionSpec.builder("bob").key("chat-1").build());

        assertThat(second.id()).isEqualTo(first.id());
        assertThat(otherOwner.id()).isNotEqualTo(first.id());

        manager.end(first.id(), EndReason.MANUAL);
        Session third = manager.getOrCreate(spec);
        assertThat(third.id()).isNotEqualTo(first.id());
        assertThat(third.key()).isEqualTo("chat-1");
    }

    @Test
    void getOrCreateNeedsAKey() {
        assertCode(() -> manager.getOrCreate(SessionSpec.of("alice")), ErrorCode.INVALID_REQUEST);
    }

    @Test
    void listFiltersAndPagesNewestFirst() {
        List<String> aliceIds = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            aliceIds.add(0, manager.create(SessionSpec.of("alice")).id());
            clock.advance(Duration.ofMillis(1));
        }
        manager.create(SessionSpec.of("bob"));
        manager.end(aliceIds.get(0), EndReason.MANUAL);

        List<String> seen = new ArrayList<>();
        SessionQuery q = SessionQuery.all().withOwner("alice").withLimit(3);
        Page<Session> page;
        do {
            page = manager.list(q);
            page.items().forEach(s -> seen.add(s.id()));
            q = q.after(page.nextCursor());
        } while (page.hasNext());

        assertThat(seen).containsExactlyElementsOf(aliceIds);
        assertThat(manager.list(SessionQuery.all().withOwner("alice").withStatus(SessionStatus.ENDED)).items())
                .extracting(Session::id).containsExactly(aliceIds.get(0));
    }

    @Test
    void listShowsLatestActivity() {
        Session s = manager.create(SessionSpec.of("alice"));
        manager.touch(s.id());
        assertThat(manager.list(SessionQuery.all()).items()).singleElement()
                .satisfies(l -> assertThat(l.interactionCount()).isEqualTo(1));
    }

    @Test
    void statsCountActiveCreatedEndedPeakAndOwners() {
        Session a1 = manager.create(SessionSpec.of("alice"));
        manager.create(SessionSpec.of("alice"));
        Session b1 = manager.create(SessionSpec.of("bob"));
        manager.end(a1.id(), EndReason.MANUAL);
        manager.fail(b1.id(), EndReason.WORKER_CRASHED, null);

        SessionStats stats = manager.stats();
        assertThat(stats.active()).isEqualTo(1);
        assertThat(stats.totalCreated()).isEqualTo(3);
        assertThat(stats.peakActive()).isEqualTo(3);
        assertThat(stats.endedByReason()).isEqualTo(Map.of("manual", 1L, "worker_crashed", 1L));
        assertThat(stats.activeByOwner()).isEqualTo(Map.of("alice", 1L));
    }

    @Test
    void limitsAreEnforcedInTotalAndPerOwner() {
        try (SessionManager limited = SessionManager.builder().maxSessions(3).maxSessionsPerOwner(2)
                .reaperInterval(Duration.ZERO).build().start()) {
            Session a = limited.create(SessionSpec.of("alice"));
            limited.create(SessionSpec.of("alice"));
            assertThatThrownBy(() -> limited.create(SessionSpec.of("alice")))
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                    .hasMessageContaining("alice").hasMessageContaining("per owner");
            limited.create(SessionSpec.of("bob"));
            assertThatThrownBy(() -> limited.create(SessionSpec.of("carol")))
                    .hasMessageContaining("3 active sessions in total");

            limited.end(a.id(), EndReason.MANUAL);
            assertThat(limited.create(SessionSpec.of("carol")).owner()).isEqualTo("carol");
            assertThat(limited.stats().active()).isEqualTo(3);
        }
    }

    @Test
    void withSessionEndsTheSessionWhenTheBlockReturns() {
        String id = manager.withSession(SessionSpec.of("alice"), Session::id);
        assertThat(manager.get(id).status()).isEqualTo(SessionStatus.ENDED);
        assertThat(manager.get(id).endReason()).isEqualTo(EndReason.MANUAL);
    }

    @Test
    void withSessionEndsTheSessionAndReleasesResourcesWhenTheBlockThrows() {
        List<String> closed = new ArrayList<>();
        String[] id = new String[1];
        assertThatThrownBy(() -> manager.withSession(SessionSpec.of("alice"), s -> {
            id[0] = s.id();
            manager.resources(s.id()).register("file", 10, () -> closed.add("file"));
            throw new java.io.IOException("boom");
        })).isInstanceOf(java.io.IOException.class).hasMessage("boom");

        assertThat(manager.get(id[0]).status()).isEqualTo(SessionStatus.ERROR);
        assertThat(manager.get(id[0]).endReason()).isEqualTo(EndReason.BLOCK_FAILED);
        assertThat(closed).containsExactly("file");
    }

    @Test
    void endingASessionReleasesItsResourcesInReverseOrder() {
        Session s = manager.create(SessionSpec.of("alice"));
        List<String> closed = new CopyOnWriteArrayList<>();
        manager.resources(s.id()).register("a", 1, () -> closed.add("a"));
        manager.resources(s.id()).register("b", 1, () -> closed.add("b"));
        manager.resources(s.id()).register("c", 1, () -> {
            closed.add("c");
            throw new IllegalStateException("c broke");
        });

        Session ended = manager.end(s.id(), EndReason.MANUAL);

        assertThat(closed).containsExactly("c", "b", "a");
        assertThat(ended.status()).isEqualTo(SessionStatus.ENDED);
        assertThat(events).last().isInstanceOfSatisfying(SessionEvent.Ended.class,
                e -> assertThat(e.cleanupFailure()).hasMessageContaining("1 of 3").hasMessageContaining("c broke"));
    }

    @Test
    void aThrowingListenerDoesNotBreakTheManager() {
        List<SessionEvent> seenAfter = new ArrayList<>();
        manager.addListener(e -> {
            throw new IllegalStateException("listener bug");
        });
        manager.addListener(seenAfter::add);

        Session s = manager.create(SessionSpec.of("alice"));
        manager.end(s.id(), EndReason.MANUAL);

        assertThat(seenAfter).hasSize(2);
        assertThat(manager.get(s.id()).status()).isEqualTo(SessionStatus.ENDED);
    }

    @Test
    void managerRefusesWorkBeforeStartAndAfterClose() {
        SessionManager fresh = SessionManager.builder().build();
        assertThat(fresh.state()).isEqualTo(ManagerState.INACTIVE);
        assertThatThrownBy(() -> fresh.create(SessionSpec.of("a")))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.SHUTTING_DOWN))
                .hasMessageContaining("not started");
        fresh.start();
        assertThat(fresh.state()).isEqualTo(ManagerState.ACTIVE);
        assertThatThrownBy(fresh::start).isInstanceOf(IllegalStateException.class);
        fresh.close();
        assertThat(fresh.state()).isEqualTo(ManagerState.CLOSED);
        assertThatThrownBy(() -> fresh.create(SessionSpec.of("a"))).hasMessageContaining("closed");
        fresh.close(); // idempotent
        assertThat(fresh.stats().active()).isZero();
    }

    @Test
    void closeEndsRuntimeSessionsAndReleasesPlainOnes() {
        InMemorySessionStore store = new InMemorySessionStore();
        SessionManager m = SessionManager.builder().store(store).reaperInterval(Duration.ZERO)
                .runtime(new EchoRuntime()).build().start();
        Session plain = m.create(SessionSpec.of("alice"));
        Session python = m.create(SessionSpec.builder("alice").runtime("echo").build());
        List<String> closed = new CopyOnWriteArrayList<>();
        m.resources(plain.id()).register("cache", 1, () -> closed.add("plain"));
        m.resources(python.id()).register("process", 1, () -> closed.add("python"));

        m.close();

        assertThat(closed).containsExactlyInAnyOrder("plain", "python");
        assertThat(store.find(plain.id()).orElseThrow().status()).isEqualTo(SessionStatus.ACTIVE);
        Session py = store.find(python.id()).orElseThrow();
        assertThat(py.status()).isEqualTo(SessionStatus.ENDED);
        assertThat(py.endReason()).isEqualTo(EndReason.SERVER_SHUTDOWN);
    }

    @Test
    void restartKeepsPlainSessionsAndEndsThoseThatHadAWorker() {
        InMemorySessionStore store = new InMemorySessionStore();
        SessionManager first = SessionManager.builder().store(store).clock(clock).reaperInterval(Duration.ZERO)
                .runtime(new EchoRuntime()).build().start();
        Session plain = first.create(SessionSpec.builder("alice").key("k").build());
        Session python = first.create(SessionSpec.builder("alice").runtime("echo").build());
        // first "dies": never closed. A second manager opens the same store.
        SessionManager second = SessionManager.builder().store(store).clock(clock).reaperInterval(Duration.ZERO)
                .build().start();
        try {
            assertThat(second.get(plain.id())).isEqualTo(plain);
            assertThat(second.get(python.id()).status()).isEqualTo(SessionStatus.ERROR);
            assertThat(second.get(python.id()).endReason()).isEqualTo(EndReason.NODE_LOST);
            assertThat(second.getOrCreate(SessionSpec.builder("alice").key("k").build()).id())
                    .isEqualTo(plain.id());
            assertThat(second.stats().active()).isEqualTo(1);
            assertThat(second.stats().totalCreated()).isEqualTo(2);
            assertThat(second.stats().endedByReason()).isEqualTo(Map.of("node_lost", 1L));
        } finally {
            second.close();
        }
    }

    static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }
}
