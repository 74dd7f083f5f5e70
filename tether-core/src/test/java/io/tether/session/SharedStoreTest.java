package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.WorkerState;
import io.tether.store.InMemorySessionStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Several managers (nodes) over one store: each serves its own live sessions and takes over a lost node's. */
class SharedStoreTest {
    private final InMemorySessionStore store = new InMemorySessionStore();
    private final List<SessionManager> managers = new ArrayList<>();

    private SessionManager node(String name, EchoRuntime runtime) {
        SessionManager m = SessionManager.builder().store(store).node(name).sharedStore().runtime(runtime).build()
                .start();
        managers.add(m);
        return m;
    }

    @AfterEach
    void close() {
        managers.forEach(SessionManager::close);
    }

    @Test
    void aSessionLiveOnAnotherNodeIsThatNodesToServe() {
        SessionManager a = node("a", new EchoRuntime());
        SessionManager b = node("b", new EchoRuntime());
        Session s = a.create(SessionSpec.builder("alice").runtime("echo").build());
        assertThat(b.get(s.id()).node()).isEqualTo("a");
        assertThatThrownBy(() -> b.execute(s.id(), "1", null, null)).isInstanceOfSatisfying(TetherException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NODE_UNAVAILABLE);
                    assertThat(e.getMessage()).contains("node 'a'");
                });
        assertThatThrownBy(() -> b.end(s.id(), EndReason.MANUAL)).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NODE_UNAVAILABLE));
        assertThat(a.get(s.id()).isActive()).isTrue();
    }

    @Test
    void getOrCreateThroughAnotherNodeFindsTheKeyedSessionWhereverItLives() {
        SessionManager a = node("a", new EchoRuntime());
        SessionManager b = node("b", new EchoRuntime());
        Session first = a.getOrCreate(SessionSpec.builder("alice").key("chat-1").runtime("echo").build());
        Session again = b.getOrCreate(SessionSpec.builder("alice").key("chat-1").runtime("echo").build());
        assertThat(again.id()).isEqualTo(first.id());
        assertThat(again.node()).isEqualTo("a");
        // another owner's key is its own
        assertThat(b.getOrCreate(SessionSpec.builder("bob").key("chat-1").build()).id()).isNotEqualTo(first.id());
        // once it ended, the key makes a new session on the asking node
        a.end(first.id(), EndReason.MANUAL);
        Session next = b.getOrCreate(SessionSpec.builder("alice").key("chat-1").runtime("echo").build());
        assertThat(next.id()).isNotEqualTo(first.id());
        assertThat(next.node()).isEqualTo("b");
    }

    @Test
    void aStartingNodeRecoversOnlyItsOwnSessions() {
        SessionManager a = node("a", new EchoRuntime());
        Session live = a.create(SessionSpec.builder("alice").runtime("echo").build());
        Session plain = a.create(SessionSpec.of("alice"));
        node("b", new EchoRuntime());
        assertThat(store.find(live.id()).orElseThrow().isActive()).isTrue();
        assertThat(store.find(plain.id()).orElseThrow().node()).isEqualTo("a");
    }

    @Test
    void takingOverALostNodeEndsItsLiveSessionsAndAdoptsItsPlainOnes() {
        EchoRuntime onA = new EchoRuntime();
        SessionManager a = node("a", onA);
        SessionManager b = node("b", new EchoRuntime());
        Session live = a.create(SessionSpec.builder("alice").runtime("echo").build());
        Session plain = a.create(SessionSpec.builder("alice").data(Map.of("k", 1)).build());
        Session mine = b.create(SessionSpec.builder("alice").runtime("echo").build());

        assertThat(b.takeOverNode("a")).isEqualTo(new NodeTakeover(1, 1));
        Session lost = b.get(live.id());
        assertThat(lost.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(lost.endReason()).isEqualTo(EndReason.NODE_LOST);
        assertThat(b.update(plain.id(), Map.of("k", 2), null).data()).isEqualTo(Map.of("k", 2L));
        assertThat(b.get(plain.id()).node()).isEqualTo("b");
        assertThat(b.get(mine.id()).isActive()).isTrue();
        assertThat(onA.started.get(0).state).isNotEqualTo(WorkerState.DEAD);

        // A learns it lost its lease: it lets go of both, killing the worker, writing nothing
        assertThat(a.releaseLost(true)).isEqualTo(2);
        assertThat(onA.started.get(0).state).isEqualTo(WorkerState.DEAD);
        assertThat(store.find(plain.id()).orElseThrow().data()).isEqualTo(Map.of("k", 2L));
        assertThat(store.find(live.id()).orElseThrow().endReason()).isEqualTo(EndReason.NODE_LOST);
        assertThat(a.stats().active()).isZero();
    }
}
