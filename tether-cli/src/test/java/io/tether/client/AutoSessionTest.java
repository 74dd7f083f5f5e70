package io.tether.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Automatic sessions against a real server with real Python workers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AutoSessionTest {
    @TempDir
    static Path dataDir;
    static TestServer server;
    static String token;
    static TetherClient client;
    /** Another client of the same owner: it ends sessions behind the automatic session's back. */
    static TetherClient elsewhere;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, Map.of());
        token = server.token("carol", false);
        client = server.client(token).build();
        elsewhere = server.client(token).build();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {client, elsewhere, server}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Records what a listener hears, as short lines. */
    static final class Heard implements TetherListener {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void sessionStarted(String sessionId, String replaces) {
            lines.add("started " + sessionId + (replaces == null ? "" : " replacing " + replaces));
        }

        @Override
        public void sessionLost(String sessionId, TetherClientException cause) {
            lines.add("lost " + sessionId + " " + cause.code());
        }

        @Override
        public void sessionEnded(String sessionId) {
            lines.add("ended " + sessionId);
        }
    }

    @Test
    void nothingIsCreatedUntilTheFirstCallAndTheNamespacePersists() {
        long before = client.stats().active();
        try (AutoSession py = client.autoSession("python")) {
            assertThat(py.sessionId()).isEmpty();
            assertThat(client.stats().active()).isEqualTo(before);

            Execution first = py.execute("import math\nr = 2");
            assertThat(first.newSession()).isTrue();
            String id = py.sessionId().orElseThrow();
            assertThat(first.sessionId()).isEqualTo(id);

            Execution second = py.execute("round(math.pi * r ** 2, 2)");
            assertThat(second.newSession()).isFalse();
            assertThat(second.sessionId()).isEqualTo(id);
            assertThat(second.value()).isEqualTo(12.57);
            assertThat(second.number()).isEqualTo(2);
            assertThat(py.touch().interactionCount()).isEqualTo(3);
        }
    }

    @Test
    void closeEndsTheSession() {
        Heard heard = new Heard();
        String id;
        try (AutoSession py = client.autoSession("python", AutoSessionSettings.builder().listener(heard).build())) {
            py.execute("x = 1");
            id = py.sessionId().orElseThrow();
        }
        Session s = client.session(id);
        assertThat(s.status()).isEqualTo(SessionStatus.ENDED);
        assertThat(s.endReason()).isEqualTo("manual");
        assertThat(heard.lines).containsExactly("started " + id, "ended " + id);
    }

    @Test
    void theSessionEndsAlsoWhenTheCallersCodeThrows() {
        String[] id = new String[1];
        assertThatThrownBy(() -> {
            try (AutoSession py = client.autoSession("python")) {
                py.execute("y = 2");
                id[0] = py.sessionId().orElseThrow();
                throw new IllegalStateException("the caller's own failure");
            }
        }).isInstanceOf(IllegalStateException.class).hasMessage("the caller's own failure");
        assertThat(client.session(id[0]).status()).isEqualTo(SessionStatus.ENDED);
    }

    @Test
    void aLostSessionFailsTheCallByDefaultAndTheNextCallStartsAfresh() {
        Heard heard = new Heard();
        try (AutoSession py = client.autoSession("python", AutoSessionSettings.builder().listener(heard).build())) {
            py.execute("x = 1");
            String first = py.sessionId().orElseThrow();
            elsewhere.endSession(first);

            assertThatThrownBy(() -> py.execute("x")).isInstanceOfSatisfying(TetherClientException.class, e -> {
                assertThat(e.code()).isEqualTo("session_ended");
                assertThat(e.status()).isEqualTo(410);
                assertThat(e.detail()).contains(first).contains("state is lost").contains("did not run");
            });
            assertThat(py.sessionId()).isEmpty();

            Execution next = py.execute("'x' in globals()");
            assertThat(next.newSession()).isTrue();
            assertThat(next.value()).isEqualTo(false);
            String second = py.sessionId().orElseThrow();
            assertThat(second).isNotEqualTo(first);
            assertThat(heard.lines).containsExactly("started " + first, "lost " + first + " session_ended",
                    "started " + second + " replacing " + first);
        }
    }

    @Test
    void aLostSessionIsRecreatedUnderRecreateAndTheCallerIsTold() {
        Heard heard = new Heard();
        AutoSessionSettings recreate = AutoSessionSettings.builder().onLost(LostSessionPolicy.RECREATE)
                .listener(heard).build();
        try (AutoSession py = client.autoSession("python", recreate)) {
            py.execute("x = 1");
            String first = py.sessionId().orElseThrow();
            elsewhere.endSession(first);

            Execution e = py.execute("'x' in globals()");
            assertThat(e.newSession()).isTrue();
            assertThat(e.value()).isEqualTo(false); // the state did not survive, and the result says so
            String second = py.sessionId().orElseThrow();
            assertThat(e.sessionId()).isEqualTo(second).isNotEqualTo(first);
            assertThat(py.execute("1").newSession()).isFalse();
            assertThat(heard.lines).containsExactly("started " + first, "lost " + first + " session_ended",
                    "started " + second + " replacing " + first);
        }
        assertThat(heard.lines).last().asString().startsWith("ended ");
    }

    @Test
    void streamingInAnAutomaticSessionDeliversEventsInOrder() {
        try (AutoSession py = client.autoSession("python")) {
            List<ExecutionEvent> events = new ArrayList<>();
            String id;
            try (ExecutionStream s = py.stream("import sys\nprint('a', flush=True)\nprint('b', file=sys.stderr, "
                    + "flush=True)\nv = 6\nv * 7")) {
                assertThat(s.newSession()).isTrue();
                id = s.sessionId();
                s.forEachRemaining(events::add);
            }
            assertThat(py.sessionId()).contains(id);
            assertThat(events.get(0)).isEqualTo(new ExecutionEvent.Start(id, 1));
            int out = events.indexOf(new ExecutionEvent.Stdout("a\n"));
            int err = events.indexOf(new ExecutionEvent.Stderr("b\n"));
            int result = events.indexOf(new ExecutionEvent.Result(Map.of("text/plain", "42", "application/json", 42)));
            assertThat(List.of(out, err)).allSatisfy(i -> assertThat(i).isPositive().isLessThan(result));
            assertThat(result).isEqualTo(events.size() - 2);
            assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(ExecutionEvent.End.class, end -> {
                assertThat(end.execution().newSession()).isTrue();
                assertThat(end.execution().stdout()).isEqualTo("a\n");
            });

            try (ExecutionStream s = py.stream("print(v)")) {
                assertThat(s.newSession()).isFalse();
                assertThat(s.sessionId()).isEqualTo(id);
                assertThat(s.stream().toList()).containsSubsequence(new ExecutionEvent.Start(id, 2),
                        new ExecutionEvent.Stdout("6\n"));
            }
        }
    }

    @Test
    void theCallTimeoutStopsCodeThatRunsTooLong() {
        AutoSessionSettings quick = AutoSessionSettings.builder().callTimeout(Duration.ofMillis(300)).build();
        try (AutoSession py = client.autoSession("python", quick)) {
            Execution e = py.execute("import time\ntime.sleep(30)");
            assertThat(e.status()).isEqualTo(ExecutionStatus.TIMEOUT);
            assertThat(e.duration()).isLessThan(Duration.ofSeconds(10));
            assertThat(py.execute(ExecuteRequest.of("import time\ntime.sleep(0.5)\n'slept'")
                    .withTimeout(Duration.ofSeconds(20))).value()).isEqualTo("slept");
        }
    }

    @Test
    void concurrentFirstCallsShareOneSession() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (AutoSession py = client.autoSession("python")) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Execution>> calls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                calls.add(pool.submit(() -> {
                    go.await();
                    return py.execute("1");
                }));
            }
            go.countDown();
            List<Execution> done = new ArrayList<>();
            for (Future<Execution> f : calls) {
                done.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(done).extracting(Execution::sessionId).containsOnly(py.sessionId().orElseThrow());
            assertThat(done).filteredOn(Execution::newSession).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPlainSessionBuiltFromASpecIsCreatedByItsFirstUpdate() {
        NewSession cart = NewSession.builder().runtime("none").data(Map.of("items", List.of()))
                .idleTimeout(Duration.ofMinutes(5)).build();
        String id;
        try (AutoSession s = client.autoSession(cart, AutoSessionSettings.DEFAULTS)) {
            Session updated = s.update(Map.of("items", List.of("book")), Map.of("channel", "web"));
            id = updated.id();
            assertThat(updated.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
            assertThat(s.session().data()).containsEntry("items", List.of("book"));
            assertThat(s.touch().interactionCount()).isEqualTo(2);
        }
        assertThat(client.session(id).status()).isEqualTo(SessionStatus.ENDED);
    }

    @Test
    void closingTheClientEndsItsOpenAutomaticSessions() {
        TetherClient own = server.client(token).build();
        AutoSession py = own.autoSession("python");
        py.execute("z = 3");
        String id = py.sessionId().orElseThrow();
        own.close();
        assertThat(client.session(id).status()).isEqualTo(SessionStatus.ENDED);
        assertThatThrownBy(() -> py.execute("z")).isInstanceOf(IllegalStateException.class);
        py.close(); // already closed with the client: nothing to do
    }

    @Test
    void aPublisherCreatesTheSessionWhenSubscribed() throws Exception {
        try (AutoSession py = client.autoSession("python")) {
            var publisher = py.publisher(ExecuteRequest.of("'late'"));
            assertThat(py.sessionId()).isEmpty();
            CompletableFuture<Execution> end = new CompletableFuture<>();
            publisher.subscribe(new java.util.concurrent.Flow.Subscriber<>() {
                @Override
                public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                    s.request(Long.MAX_VALUE);
                }

                @Override
                public void onNext(ExecutionEvent item) {
                    if (item instanceof ExecutionEvent.End e) {
                        end.complete(e.execution());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    end.completeExceptionally(t);
                }

                @Override
                public void onComplete() {
                }
            });
            Execution e = end.get(30, TimeUnit.SECONDS);
            assertThat(e.value()).isEqualTo("late");
            assertThat(e.newSession()).isTrue();
            assertThat(py.sessionId()).contains(e.sessionId());
        }
    }
}
