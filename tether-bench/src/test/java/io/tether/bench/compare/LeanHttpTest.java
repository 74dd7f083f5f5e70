package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class LeanHttpTest {

    /**
     * A loopback server that answers the requests of each connection in turn with the given
     * raw answers, and records the request lines and how many connections it accepted.
     */
    private static final class Canned implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        final List<String> requests = new CopyOnWriteArrayList<>();
        final List<String> bodies = new CopyOnWriteArrayList<>();
        volatile int connections;
        private final Thread thread;

        Canned(String... answers) throws IOException {
            thread = new Thread(() -> serve(List.of(answers)));
            thread.setDaemon(true);
            thread.start();
        }

        private void serve(List<String> answers) {
            int next = 0;
            try {
                while (next < answers.size()) {
                    try (Socket s = server.accept()) {
                        connections++;
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                                StandardCharsets.ISO_8859_1));
                        OutputStream out = s.getOutputStream();
                        while (next < answers.size()) {
                            String line = in.readLine();
                            if (line == null) {
                                break;
                            }
                            requests.add(line);
                            int length = 0;
                            for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                                if (h.toLowerCase().startsWith("content-length:")) {
                                    length = Integer.parseInt(h.substring(15).trim());
                                }
                            }
                            char[] body = new char[length];
                            int read = 0;
                            while (read < length) {
                                read += in.read(body, read, length - read);
                            }
                            bodies.add(new String(body));
                            String answer = answers.get(next++);
                            out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                            if (answer.contains("Connection: close")) {
                                break;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                // the test closed the server
            }
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5_000);
        }
    }

    private static String answer(int status, String body, String... headers) {
        StringBuilder b = new StringBuilder("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body).toString();
    }

    @Test
    void requestsShareOneKeptAliveConnectionAndBodiesAreReadByTheirLength() throws Exception {
        try (Canned server = new Canned(answer(201, "{\"id\":\"abc\"}"), answer(200, "{\"status\":\"ok\"}"),
                answer(200, "{\"status\":\"ok\",\"x\":1}"));
             LeanHttp c = new LeanHttp(server.url(), "Bearer t")) {
            assertThat(TetherPeer.createLean(c)).isEqualTo("abc");
            LeanHttp.Answer a = c.post("/v1/sessions/abc/executions", "{\"code\":\"x = 0\"}".getBytes());
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.text()).isEqualTo("{\"status\":\"ok\"}");
            assertThat(c.delete("/v1/sessions/abc").text()).endsWith("\"x\":1}");

            assertThat(server.connections).isEqualTo(1);
            assertThat(server.requests).containsExactly("POST /v1/sessions HTTP/1.1",
                    "POST /v1/sessions/abc/executions HTTP/1.1", "DELETE /v1/sessions/abc HTTP/1.1");
            assertThat(server.bodies).containsExactly("{\"runtime\":\"python\"}", "{\"code\":\"x = 0\"}", "");
        }
    }

    @Test
    void anAnswerThatClosesTheConnectionIsFollowedByANewOne() throws Exception {
        try (Canned server = new Canned(answer(200, "{}", "Connection: close"), answer(200, "{\"n\":2}"));
             LeanHttp c = new LeanHttp(server.url(), null)) {
            c.post("/a", "{}".getBytes());
            assertThat(c.post("/b", "{}".getBytes()).text()).isEqualTo("{\"n\":2}");
            assertThat(server.connections).isEqualTo(2);
        }
    }

    @Test
    void aWrongStatusOrAChunkedBodyIsAnError() throws Exception {
        try (Canned server = new Canned(answer(404, "{\"error\":\"no\"}"),
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
             LeanHttp c = new LeanHttp(server.url(), null)) {
            assertThatThrownBy(() -> c.post("/x", "{}".getBytes()).expect(200, "execute"))
                    .hasMessageContaining("execute: HTTP 404 {\"error\":\"no\"}");
            assertThatThrownBy(() -> c.post("/y", "{}".getBytes())).isInstanceOf(IOException.class)
                    .hasMessageContaining("Content-Length bodies only");
        }
    }

    @Test
    void statusLinesAreParsedStrictly() throws Exception {
        assertThat(LeanHttp.status("HTTP/1.1 201 Created")).isEqualTo(201);
        assertThat(LeanHttp.status("HTTP/1.0 500 ")).isEqualTo(500);
        assertThatThrownBy(() -> LeanHttp.status("SSH-2.0-OpenSSH")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> LeanHttp.status("HTTP/1.1 2x0 OK")).isInstanceOf(IOException.class);
        assertThat(LeanHttp.contains("{\"status\":\"ok\"}".getBytes(), "\"status\":\"ok\"".getBytes())).isTrue();
        assertThat(LeanHttp.contains("{\"status\":\"error\"}".getBytes(), "\"status\":\"ok\"".getBytes())).isFalse();
    }
}
