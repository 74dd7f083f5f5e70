package io.tether.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The manual style and the connection pool, against a real server with real Python workers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TetherClientTest {
    @TempDir
    static Path dataDir;
    static TestServer server;
    static String aliceToken;
    static TetherClient alice;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, Map.of("max_file_bytes", "4KiB"));
        aliceToken = server.token("alice", false);
        alice = server.client(aliceToken).build();
    }

    @AfterAll
    static void stop() {
        if (alice != null) {
            alice.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void hundredSequentialCallsThroughOneClientOpenOneConnection() {
        try (TetherClient client = server.client(aliceToken).build()) {
            long before = server.server.connectionsAccepted();
            try (AutoSession py = client.autoSession("python")) {
                py.execute("n = 1");
                for (int i = 0; i < 98; i++) {
                    py.execute("n += 1");
                }
                assertThat(py.execute("n").value()).isEqualTo(99);
            }
            assertThat(client.runtimes()).isNotEmpty();
            // 100 executions, one end, one listing: all on the first connection
            assertThat(server.server.connectionsAccepted() - before).isEqualTo(1);
        }
    }

    @Test
    void completionAndInspectionReadTheSessionsLiveNamespace() {
        String id = alice.createSession("python").id();
        try {
            alice.execute(id, "import os\nrainfall_mm = [3, 0, 12]");
            String code = "x = os.pa";
            Completion c = alice.complete(id, code, 9);
            assertThat(c.matches()).contains("path");
            assertThat(c.replace(code, "path")).isEqualTo("x = os.path");
            assertThat(alice.complete(id, "rainf + 1", 5).matches()).containsExactly("rainfall_mm");
            Inspection i = alice.inspect(id, "len(rainfall_mm)", 2);
            assertThat(i.found()).isTrue();
            assertThat(i.text()).contains("Return the number of items in a container.");
            assertThat(alice.inspect(id, "nothing_named_so", 3).found()).isFalse();
            assertThatThrownBy(() -> alice.complete(id, "rainf", 6)).isInstanceOfSatisfying(
                    TetherClientException.class, e -> assertThat(e.code()).isEqualTo("invalid_request"));
        } finally {
            alice.endSession(id);
        }
    }

    @Test
    void aGivenHttpClientStaysOpenAfterClose() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            TetherClient client = server.client(aliceToken).httpClient(http).build();
            assertThat(client.stats().active()).isGreaterThanOrEqualTo(0);
            client.close();
            client.close();

            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(http.isTerminated()).isFalse();
            assertThatThrownBy(client::runtimes).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void aClientThatOwnsItsPoolLeavesNoThreadAfterClose() {
        Predicate<String> httpThreads = n -> n.startsWith("HttpClient-") || n.startsWith("tether-client-");
        Set<String> before = liveThreads(httpThreads);
        TetherClient client = server.client(aliceToken).build();
        try (AutoSession py = client.autoSession("python")) {
            py.execute("x = 1");
            try (ExecutionStream s = py.stream("print(x)")) {
                assertThat(s.finish().stdout()).isEqualTo("1\n");
            }
        }
        Set<String> during = liveThreads(httpThreads);
        assertThat(during).anyMatch(n -> !before.contains(n)); // the check below is not vacuous
        client.close();

        Set<String> left = liveThreads(httpThreads);
        left.removeAll(before);
        assertThat(left).as("threads of the closed client").isEmpty();
        client.close(); // idempotent
    }

    private static Set<String> liveThreads(Predicate<String> name) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name).collect(Collectors.toSet());
    }

    @Test
    void manualStyleCreatesCallsWithTheIdAndEnds() {
        Session s = alice.createSession(NewSession.builder().runtime("python").metadata(Map.of("purpose", "test"))
                .idleTimeout(Duration.ofMinutes(5)).build());
        assertThat(s.owner()).isEqualTo("alice");
        assertThat(s.status()).isEqualTo(SessionStatus.ACTIVE);
        assertThat(s.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.maxLifetime()).isEqualTo(TetherClient.NEVER);

        Execution first = alice.execute(s.id(), "x = 41\nprint('hi')");
        assertThat(first.ok()).isTrue();
        assertThat(first.stdout()).isEqualTo("hi\n");
        assertThat(first.number()).isEqualTo(1);
        assertThat(first.newSession()).isFalse();
        assertThat(first.result()).isEmpty();
        Execution second = alice.execute(s.id(), "x + 1");
        assertThat(second.text()).isEqualTo("42");
        assertThat(second.value()).isEqualTo(42);
        Execution failed = alice.execute(s.id(), "1/0");
        assertThat(failed.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(failed.error().name()).isEqualTo("ZeroDivisionError");
        assertThat(failed.error().traceback()).isNotEmpty();

        Execution past = alice.execution(s.id(), 1);
        assertThat(past.code()).isEqualTo("x = 41\nprint('hi')");
        assertThat(past.stdout()).isEqualTo("hi\n");
        assertThat(past.endedAt()).isNotNull();

        ExecutionPage newest = alice.executions(s.id(), 2, null);
        assertThat(newest.items()).extracting(Execution::number).containsExactly(3L, 2L);
        assertThat(newest.items().get(0).error().name()).isEqualTo("ZeroDivisionError");
        assertThat(newest.hasMore()).isTrue();
        ExecutionPage rest = alice.executions(s.id(), 2, newest.nextCursor());
        assertThat(rest.items()).containsExactly(past);
        assertThat(rest.hasMore()).isFalse();

        Session updated = alice.updateSession(s.id(), Map.of("step", 2), null);
        assertThat(updated.data()).containsEntry("step", 2);
        assertThat(updated.metadata()).containsEntry("purpose", "test");
        assertThat(alice.touch(s.id()).interactionCount()).isEqualTo(updated.interactionCount() + 1);
        assertThat(alice.session(s.id()).data()).containsEntry("step", 2);

        SessionPage page = alice.sessions(SessionQuery.all().withStatus(SessionStatus.ACTIVE).withRuntime("python")
                .withLimit(1000));
        assertThat(page.items()).extracting(Session::id).contains(s.id());
        assertThat(page.items()).allSatisfy(x -> assertThat(x.owner()).isEqualTo("alice"));

        assertThat(alice.restart(s.id()).isActive()).isTrue();
        assertThat(alice.execute(s.id(), "x").status()).isEqualTo(ExecutionStatus.ERROR); // a fresh interpreter

        Session ended = alice.endSession(s.id(), "done");
        assertThat(ended.status()).isEqualTo(SessionStatus.ENDED);
        assertThat(ended.endReason()).isEqualTo("done");
        assertThat(alice.endSession(s.id()).endReason()).isEqualTo("done"); // idempotent
        assertThatThrownBy(() -> alice.execute(s.id(), "1")).isInstanceOfSatisfying(TetherClientException.class, e -> {
            assertThat(e.code()).isEqualTo("session_ended");
            assertThat(e.status()).isEqualTo(410);
            assertThat(e.sessionGone()).isTrue();
        });
    }

    @Test
    void problemDetailsBecomeOneExceptionWithCodeStatusAndDetail() {
        assertThatThrownBy(() -> alice.session("AAAAAAAAAAAAAAAAAAAAAA"))
                .isInstanceOfSatisfying(TetherClientException.class, e -> {
                    assertThat(e.code()).isEqualTo("session_not_found");
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.detail()).contains("AAAAAAAAAAAAAAAAAAAAAA");
                    assertThat(e.outcomeUnknown()).isFalse();
                });
        assertThatThrownBy(() -> alice.createSession(NewSession.builder().owner("bob").build()))
                .isInstanceOfSatisfying(TetherClientException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_request");
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("invalid_request (400)").contains("owner");
                });
        assertThatThrownBy(() -> alice.createSession(NewSession.builder().runtime("python").device("board").build()))
                .isInstanceOfSatisfying(TetherClientException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_request");
                    assertThat(e.detail()).contains("device 'board' needs a device runtime");
                });
        try (TetherClient stranger = server.client("tth_not-a-real-token").build()) {
            assertThatThrownBy(stranger::stats).isInstanceOfSatisfying(TetherClientException.class,
                    e -> assertThat(e.code()).isEqualTo("unauthorized"));
            assertThat(stranger.healthy()).isTrue(); // no token needed there
        }
    }

    @Test
    void richOutputsAreTypedOnExecutionsAndDisplayEventsComeInOrder() throws Exception {
        Session s = alice.createSession("python");
        try {
            String plot = "import matplotlib.pyplot as plt\nprint('a', flush=True)\n"
                    + "plt.figure(figsize=(3, 2), dpi=100)\nplt.plot([1, 2])\nplt.show()\nprint('b')\n7";
            List<ExecutionEvent> events = new ArrayList<>();
            try (ExecutionStream stream = alice.stream(s.id(), ExecuteRequest.of(plot))) {
                stream.forEachRemaining(events::add);
            }
            assertThat(events).extracting(e -> e.getClass().getSimpleName())
                    .containsExactly("Start", "Stdout", "Display", "Stdout", "Result", "End");
            ExecutionOutput.DisplayData shown = ((ExecutionEvent.Display) events.get(2)).output();
            java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(
                    new java.io.ByteArrayInputStream(shown.bytes("image/png")));
            assertThat(image.getWidth()).isEqualTo(300);
            assertThat(image.getHeight()).isEqualTo(200);
            assertThat(shown.truncated()).isFalse();

            Execution ended = ((ExecutionEvent.End) events.get(5)).execution();
            assertThat(ended.outputs()).extracting(ExecutionOutput::type)
                    .containsExactly("stream", "display_data", "stream", "execute_result");
            assertThat(ended.displays()).containsExactly(shown);
            assertThat(ended.outputs().get(3)).isInstanceOfSatisfying(ExecutionOutput.ExecuteResult.class,
                    r -> assertThat(r.text()).isEqualTo("7"));

            Execution table = alice.execute(s.id(), "import pandas as pd\npd.DataFrame({'a': [1]})");
            assertThat(table.outputs()).singleElement().isInstanceOfSatisfying(ExecutionOutput.ExecuteResult.class,
                    r -> assertThat((String) r.data().get("text/html")).contains("<table"));
            assertThat(alice.execution(s.id(), ended.number()).outputs()).isEqualTo(ended.outputs());
        } finally {
            alice.endSession(s.id());
        }
    }

    @Test
    void eventsStreamInOrderAndInterruptStopsTheCodeButKeepsTheNamespace() {
        Session s = alice.createSession("python");
        try {
            alice.execute(s.id(), "kept = 5");
            List<ExecutionEvent> events = new ArrayList<>();
            try (ExecutionStream stream = alice.stream(s.id(), ExecuteRequest.of(
                    "import sys\nprint('a', flush=True)\nprint('b', file=sys.stderr, flush=True)\n6 * 7"))) {
                assertThat(stream.number()).isEqualTo(2);
                assertThat(stream.sessionId()).isEqualTo(s.id());
                stream.forEachRemaining(events::add);
            }
            assertThat(events.get(0)).isEqualTo(new ExecutionEvent.Start(s.id(), 2));
            assertThat(events).contains(new ExecutionEvent.Stdout("a\n"), new ExecutionEvent.Stderr("b\n"));
            assertThat(events.get(events.size() - 2)).isInstanceOf(ExecutionEvent.Result.class);
            assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(ExecutionEvent.End.class,
                    end -> assertThat(end.execution().text()).isEqualTo("42"));

            try (ExecutionStream spinning = alice.stream(s.id(), ExecuteRequest.of("while True: pass"))) {
                assertThat(spinning.next()).isInstanceOf(ExecutionEvent.Start.class); // it runs now
                alice.interrupt(s.id());
                assertThat(spinning.finish().status()).isEqualTo(ExecutionStatus.INTERRUPTED);
            }
            assertThat(alice.execute(s.id(), "kept").value()).isEqualTo(5);
        } finally {
            alice.endSession(s.id());
        }
    }

    @Test
    void inputRequestsArriveInTheStreamAndAreAnsweredStdinFeedsAPlainExecution() {
        Session s = alice.createSession("python");
        try {
            List<ExecutionEvent> events = new ArrayList<>();
            try (ExecutionStream stream = alice.stream(s.id(), ExecuteRequest.of(
                    "import getpass\nname = input('Name? ')\npw = getpass.getpass()\nname + ':' + str(len(pw))"))) {
                while (stream.hasNext()) {
                    ExecutionEvent e = stream.next();
                    events.add(e);
                    if (e instanceof ExecutionEvent.InputRequest request) {
                        alice.input(s.id(), request.password() ? "secret" : "Ada");
                    }
                }
            }
            assertThat(events).filteredOn(e -> e instanceof ExecutionEvent.InputRequest).containsExactly(
                    new ExecutionEvent.InputRequest("Name? ", false), new ExecutionEvent.InputRequest("Password: ", true));
            assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(ExecutionEvent.End.class,
                    end -> assertThat(end.execution().value()).isEqualTo("Ada:6"));

            assertThat(alice.execute(s.id(), ExecuteRequest.of("input() + input()").withStdin("a\nb\n")).value())
                    .isEqualTo("ab");
            Execution eof = alice.execute(s.id(), "input()");
            assertThat(eof.error().name()).isEqualTo("EOFError");
            assertThatThrownBy(() -> alice.input(s.id(), "nobody asked")).isInstanceOfSatisfying(
                    TetherClientException.class, e -> assertThat(e.code()).isEqualTo("no_input_requested"));
        } finally {
            alice.endSession(s.id());
        }
    }

    @Test
    void aPublisherRunsTheCodeWhenSubscribedAndFollowsDemand() throws Exception {
        Session s = alice.createSession("python");
        try {
            Flow.Publisher<ExecutionEvent> events = alice.publisher(s.id(),
                    ExecuteRequest.of("for i in range(3): print(i, flush=True)\n'done'"));
            assertThat(alice.session(s.id()).interactionCount()).isZero(); // nothing ran yet
            List<ExecutionEvent> got = new ArrayList<>();
            CompletableFuture<Void> completed = new CompletableFuture<>();
            events.subscribe(new Flow.Subscriber<>() {
                private Flow.Subscription subscription;

                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    this.subscription = subscription;
                    subscription.request(1);
                }

                @Override
                public void onNext(ExecutionEvent item) {
                    got.add(item);
                    subscription.request(1);
                }

                @Override
                public void onError(Throwable throwable) {
                    completed.completeExceptionally(throwable);
                }

                @Override
                public void onComplete() {
                    completed.complete(null);
                }
            });
            completed.get(30, TimeUnit.SECONDS);
            assertThat(got.get(0)).isInstanceOf(ExecutionEvent.Start.class);
            String out = got.stream().filter(e -> e instanceof ExecutionEvent.Stdout)
                    .map(e -> ((ExecutionEvent.Stdout) e).text()).collect(Collectors.joining());
            assertThat(out).isEqualTo("0\n1\n2\n");
            assertThat(((ExecutionEvent.End) got.get(got.size() - 1)).execution().value()).isEqualTo("done");

            CompletableFuture<Throwable> second = new CompletableFuture<>();
            events.subscribe(new Flow.Subscriber<>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                }

                @Override
                public void onNext(ExecutionEvent item) {
                }

                @Override
                public void onError(Throwable throwable) {
                    second.complete(throwable);
                }

                @Override
                public void onComplete() {
                }
            });
            assertThat(second.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
        } finally {
            alice.endSession(s.id());
        }
    }

    @Test
    void filesGoInAndOut() {
        Session s = alice.createSession("python");
        try {
            assertThat(alice.upload(s.id(), "data/in.csv", "a,b\n".getBytes(StandardCharsets.UTF_8))).isTrue();
            assertThat(alice.upload(s.id(), "data/in.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8))).isFalse();
            alice.execute(s.id(), "open('out file.txt', 'w').write(open('data/in.csv').read().upper())");
            assertThat(new String(alice.download(s.id(), "out file.txt"), StandardCharsets.UTF_8)).isEqualTo("A,B\n1,2\n");
            assertThat(alice.files(s.id()).files()).extracting(SessionFile::path)
                    .contains("data", "data/in.csv", "out file.txt");
            alice.deleteFile(s.id(), "out file.txt");
            assertThatThrownBy(() -> alice.download(s.id(), "out file.txt")).isInstanceOfSatisfying(
                    TetherClientException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
            assertThatThrownBy(() -> alice.upload(s.id(), "big.bin", new byte[5000])).isInstanceOfSatisfying(
                    TetherClientException.class, e -> assertThat(e.code()).isEqualTo("payload_too_large"));
        } finally {
            alice.endSession(s.id());
        }
    }

    @Test
    void runtimesAndStatsDescribeTheServer() {
        assertThat(alice.runtimes()).singleElement().satisfies(r -> {
            assertThat(r.name()).isEqualTo("python");
            assertThat(r.pool().hitRate()).isBetween(0.0, 1.0);
        });
        ServerStats mine = alice.stats();
        assertThat(mine.totalCreated()).isEqualTo(-1); // admin only
        try (TetherClient admin = server.client(server.token("root", true)).build()) {
            ServerStats all = admin.stats();
            assertThat(all.totalCreated()).isPositive();
            assertThat(all.activeByOwner()).isNotNull();
        }
    }

    @Test
    void anUnknownRuntimeFailsAtOnceWithInvalidRequestAndIsNotRetried() {
        List<String> retries = new ArrayList<>();
        try (TetherClient client = server.client(aliceToken).listener(new TetherListener() {
            @Override
            public void retrying(String request, int retry, Duration delay, TetherClientException cause) {
                retries.add(request + " " + cause.code());
            }
        }).build()) {
            long before = server.server.connectionsAccepted();
            long started = System.nanoTime();
            assertThatThrownBy(() -> client.createSession("ruby")).isInstanceOfSatisfying(TetherClientException.class,
                    e -> {
                        assertThat(e.code()).isEqualTo("invalid_request");
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.detail()).contains("ruby");
                    });
            assertThatThrownBy(() -> client.executeInNewSession("ruby", ExecuteRequest.of("1")))
                    .isInstanceOfSatisfying(TetherClientException.class,
                            e -> assertThat(e.code()).isEqualTo("invalid_request"));
            assertThat(retries).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            assertThat(server.server.connectionsAccepted() - before).isEqualTo(1);
        }
    }

    @Test
    void codeRunsInANewSessionThatTheServerCreatesForTheCall() {
        Execution e = alice.executeInNewSession("python", ExecuteRequest.of("x = 6\nx * 7"));
        assertThat(e.ok()).isTrue();
        assertThat(e.newSession()).isTrue();
        assertThat(e.value()).isEqualTo(42);
        assertThat(alice.execute(e.sessionId(), "x").value()).as("the session stays for the next call").isEqualTo(6);

        try (ExecutionStream stream = alice.streamInNewSession("python", ExecuteRequest.of("print('hi')\n1"))) {
            assertThat(stream.newSession()).isTrue();
            assertThat(stream.sessionId()).isNotEqualTo(e.sessionId());
            assertThat(stream.stream().toList()).first().isEqualTo(new ExecutionEvent.Start(stream.sessionId(), 1));
            alice.endSession(stream.sessionId());
        }
        alice.endSession(e.sessionId());
    }
}
