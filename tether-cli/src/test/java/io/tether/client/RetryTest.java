package io.tether.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is retried and what is not: against stand-in servers on loopback that answer what a
 * test needs (503, 429 with Retry-After, a dropped connection, a silent stream), and against
 * a real server that starts listening only after the client's first attempt was refused.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetryTest {
    @TempDir
    Path dataDir;

    /** Waits recorded instead of slept. */
    private final List<Duration> slept = Collections.synchronizedList(new ArrayList<>());

    record Canned(int status, Map<String, String> headers, String body) {
        static Canned problem(int status, String code, Map<String, String> headers) {
            Map<String, String> h = new java.util.HashMap<>(headers);
            h.put("Content-Type", "application/problem+json");
            return new Canned(status, h, "{\"type\":\"https://tether.dev/problems/" + code + "\",\"title\":\"t\","
                    + "\"status\":" + status + ",\"code\":\"" + code + "\",\"detail\":\"d\"}");
        }

        static Canned json(String body) {
            return new Canned(200, Map.of("Content-Type", "application/json"), body);
        }
    }

    /** An HTTP server that answers each request with the next canned answer. */
    private static HttpServer scripted(Deque<Canned> script, AtomicInteger requests) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            Canned c = script.poll();
            if (c == null) {
                c = Canned.problem(500, "internal", Map.of());
            }
            c.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            byte[] body = c.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(c.status(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        return http;
    }

    private TetherClient.Builder client(String url, RetryPolicy retry) {
        return TetherClient.builder().baseUrl(url).retryPolicy(retry).sleeper(slept::add);
    }

    @Test
    void refusalsAreRetriedWithBackoffAndRetryAfterIsHonoured() throws IOException {
        Deque<Canned> script = new ArrayDeque<>(List.of(
                Canned.problem(503, "runtime_unavailable", Map.of()),
                Canned.problem(503, "shutting_down", Map.of()),
                Canned.problem(429, "limit_exceeded", Map.of("Retry-After", "3")),
                Canned.json("{\"active\": 7, \"executing\": 0}")));
        AtomicInteger requests = new AtomicInteger();
        HttpServer http = scripted(script, requests);
        List<String> heard = Collections.synchronizedList(new ArrayList<>());
        TetherListener listener = new TetherListener() {
            @Override
            public void retrying(String request, int retry, Duration delay, TetherClientException cause) {
                heard.add(request + " #" + retry + " after " + delay.toMillis() + " ms: " + cause.code());
            }
        };
        try (TetherClient c = client("http://127.0.0.1:" + http.getAddress().getPort(),
                new RetryPolicy(3, Duration.ofMillis(100), 2.0, Duration.ofSeconds(5))).listener(listener).build()) {
            assertThat(c.stats().active()).isEqualTo(7);
        } finally {
            http.stop(0);
        }
        assertThat(requests).hasValue(4);
        assertThat(slept).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofSeconds(3));
        assertThat(heard).containsExactly("GET /v1/stats #1 after 100 ms: runtime_unavailable",
                "GET /v1/stats #2 after 200 ms: shutting_down", "GET /v1/stats #3 after 3000 ms: limit_exceeded");
    }

    @Test
    void aRetryAfterLongerThanTheLongestDelayIsReportedNotWaitedFor() throws IOException {
        AtomicInteger requests = new AtomicInteger();
        HttpServer http = scripted(new ArrayDeque<>(List.of(
                Canned.problem(429, "limit_exceeded", Map.of("Retry-After", "120")))), requests);
        try (TetherClient c = client("http://127.0.0.1:" + http.getAddress().getPort(), RetryPolicy.DEFAULT).build()) {
            assertThatThrownBy(c::stats).isInstanceOfSatisfying(TetherClientException.class, e -> {
                assertThat(e.code()).isEqualTo("limit_exceeded");
                assertThat(e.status()).isEqualTo(429);
                assertThat(e.retryAfter()).contains(Duration.ofSeconds(120));
            });
        } finally {
            http.stop(0);
        }
        assertThat(requests).hasValue(1);
        assertThat(slept).isEmpty();
    }

    @Test
    void otherErrorsAreNotRetried() throws IOException {
        AtomicInteger requests = new AtomicInteger();
        HttpServer http = scripted(new ArrayDeque<>(List.of(Canned.problem(500, "store_failure", Map.of()),
                new Canned(502, Map.of("Content-Type", "text/html"), "<h1>Bad gateway</h1>"))), requests);
        try (TetherClient c = client("http://127.0.0.1:" + http.getAddress().getPort(), RetryPolicy.DEFAULT).build()) {
            assertThatThrownBy(() -> c.createSession("python")).isInstanceOfSatisfying(TetherClientException.class,
                    e -> assertThat(e.code()).isEqualTo("store_failure"));
            assertThatThrownBy(() -> c.createSession("python")).isInstanceOfSatisfying(TetherClientException.class,
                    e -> {
                        assertThat(e.code()).isEqualTo("unexpected_response");
                        assertThat(e.status()).isEqualTo(502);
                        assertThat(e.detail()).contains("Bad gateway");
                    });
        } finally {
            http.stop(0);
        }
        assertThat(requests).hasValue(2);
    }

    /** Accepts connections, reads what the client sends, and hangs up without answering. */
    private static final class HangUp implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger accepted = new AtomicInteger();
        private final Thread thread = Thread.ofPlatform().daemon().name("hang-up").start(this::serve);

        HangUp() throws IOException {
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    accepted.incrementAndGet();
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[8192];
                    String seen = "";
                    while (!seen.contains("\"code\"")) { // until the body is in
                        int n = in.read(buf);
                        if (n < 0) {
                            break;
                        }
                        seen += new String(buf, 0, n, StandardCharsets.UTF_8);
                    }
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(5000);
        }
    }

    @Test
    void anExecutionThatMayHaveRunIsRetriedOnlyWhenMarkedIdempotent() throws Exception {
        try (HangUp server = new HangUp();
             TetherClient c = client(server.url(), new RetryPolicy(2, Duration.ofMillis(10), 2.0, Duration.ofSeconds(1)))
                     .build()) {
            assertThatThrownBy(() -> c.execute("s1", "launch_rocket()"))
                    .isInstanceOfSatisfying(TetherClientException.class, e -> {
                        assertThat(e.code()).isEqualTo("connection_lost");
                        assertThat(e.outcomeUnknown()).isTrue();
                    });
            assertThat(server.accepted).hasValue(1);
            assertThat(slept).isEmpty();

            assertThatThrownBy(() -> c.execute("s1", ExecuteRequest.of("x = 1").asIdempotent()))
                    .isInstanceOf(TetherClientException.class);
            assertThat(server.accepted).hasValue(1 + 3);
            assertThat(slept).hasSize(2);
        }
    }

    @Test
    void aSilentStreamTimesOutButKeepAlivesKeepItOpen() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            boolean chatty = exchange.getRequestURI().getPath().contains("/chatty/");
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.getResponseHeaders().add("Tether-Execution", "1");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                String sid = chatty ? "chatty" : "quiet";
                out.write(("event: start\ndata: {\"session_id\":\"" + sid + "\",\"number\":1}\n\n").getBytes());
                out.flush();
                if (chatty) {
                    for (int i = 0; i < 15; i++) { // 1.5 s in all: longer than the stream timeout
                        sleep(100);
                        out.write(": keep-alive\n\n".getBytes());
                        out.flush();
                    }
                    out.write(("event: end\ndata: {\"session_id\":\"chatty\",\"number\":1,\"status\":\"ok\",\"stdout\":\"\","
                            + "\"stderr\":\"\",\"result\":null,\"error\":null,\"duration\":1.5,\"truncated\":false}\n\n")
                            .getBytes());
                } else {
                    release.await(30, TimeUnit.SECONDS);
                }
            } catch (InterruptedException | IOException e) {
                // the client went away
            }
        });
        http.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        http.start();
        String url = "http://127.0.0.1:" + http.getAddress().getPort();
        try (TetherClient c = TetherClient.builder().baseUrl(url).streamTimeout(Duration.ofSeconds(1)).build()) {
            try (ExecutionStream quiet = c.stream("quiet", ExecuteRequest.of("import time\ntime.sleep(60)"))) {
                assertThat(quiet.next()).isEqualTo(new ExecutionEvent.Start("quiet", 1));
                assertThatThrownBy(quiet::next).isInstanceOfSatisfying(TetherClientException.class, e -> {
                    assertThat(e.code()).isEqualTo("stream_timeout");
                    assertThat(e.detail()).contains("fetch it by number");
                });
            }
            try (ExecutionStream chatty = c.stream("chatty", ExecuteRequest.of("quiet but alive"))) {
                assertThat(chatty.finish().duration()).isEqualTo(Duration.ofMillis(1500));
            }
        } finally {
            release.countDown();
            http.stop(0);
            ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
        }
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis); // pacing a stand-in server's output, not waiting for an outcome
    }

    @Test
    void refusedConnectionsAreRetriedUntilTheServerListens() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort(); // free now; nothing listens there until the server starts
        }
        CountDownLatch firstRefusal = new CountDownLatch(1);
        List<Duration> waits = Collections.synchronizedList(new ArrayList<>());
        TetherListener listener = new TetherListener() {
            @Override
            public void retrying(String request, int retry, Duration delay, TetherClientException cause) {
                assertThat(cause.code()).isEqualTo("connection_failed");
                waits.add(delay);
                firstRefusal.countDown();
            }
        };
        CompletableFuture<TestServer> late = CompletableFuture.supplyAsync(() -> {
            try {
                firstRefusal.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return TestServer.start(dataDir, Map.of("port", Integer.toString(port), "auth", "none",
                    "python_pool_min_idle", "0"));
        });
        RetryPolicy patient = new RetryPolicy(20, Duration.ofMillis(100), 2.0, Duration.ofSeconds(1));
        try (TetherClient c = TetherClient.builder().baseUrl("http://127.0.0.1:" + port).retryPolicy(patient)
                .listener(listener).build();
             AutoSession py = c.autoSession("python")) {
            Execution e = py.execute("'up'"); // not idempotent: retried because it was never sent
            assertThat(e.value()).isEqualTo("up");
            assertThat(e.newSession()).isTrue();
        } finally {
            late.get(60, TimeUnit.SECONDS).close();
        }
        assertThat(waits).isNotEmpty();
        for (int i = 0; i < waits.size(); i++) {
            assertThat(waits.get(i)).isEqualTo(patient.delayBefore(i + 1));
        }
        assertThat(waits.subList(0, Math.min(3, waits.size())))
                .containsExactlyElementsOf(List.of(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400))
                        .subList(0, Math.min(3, waits.size())));
    }
}
