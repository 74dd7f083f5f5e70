package io.tether.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.server.http.OpenApiContract;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A test's HTTP client for one server and one token. Each answer is checked against
 * docs/openapi.json ({@link OpenApiContract}): one that does not fit fails the test.
 */
public final class Api {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final String base;
    final String token;

    public Api(String base, String token) {
        this.base = base;
        this.token = token;
    }

    public Api as(String otherToken) {
        return new Api(base, otherToken);
    }

    public record Reply(int status, Map<String, java.util.List<String>> headers, String body) {
        @SuppressWarnings("unchecked")
        public Map<String, Object> json() {
            try {
                return JSON.readValue(body, Map.class);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }

        /** The problem's code, checking the content type. */
        public String code() {
            if (!"application/problem+json".equals(header("content-type"))) {
                throw new AssertionError("not a problem (" + status + "): " + body);
            }
            return (String) json().get("code");
        }
    }

    public Reply get(String path) {
        return send("GET", path, null, Map.of());
    }

    public Reply post(String path, Object json) {
        return send("POST", path, json, Map.of());
    }

    public Reply send(String method, String path, Object json, Map<String, String> headers) {
        HttpRequest.BodyPublisher body;
        try {
            body = json == null ? HttpRequest.BodyPublishers.noBody()
                    : json instanceof byte[] b ? HttpRequest.BodyPublishers.ofByteArray(b)
                    : json instanceof String s ? HttpRequest.BodyPublishers.ofString(s)
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(json));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).method(method, body)
                .timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        headers.forEach(b::header);
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            Reply reply = new Reply(r.statusCode(), r.headers().map(), r.body());
            // Every answer a server test gets must be the one docs/openapi.json promises.
            Map<String, String> answered = new java.util.HashMap<>();
            r.headers().map().forEach((k, v) -> answered.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            OpenApiContract.check(method, path, reply.status(), answered, reply.body());
            return reply;
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A raw HTTP/1.1 exchange over a socket, for what HttpClient will not send (a Host header, a hang-up). */
    static Socket raw(int port, String request) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return s;
    }

    /** Reads from {@code in} until {@code marker} has been seen; returns what was read. */
    static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (b.indexOf(marker) >= 0) {
                return b.toString();
            }
        }
        return b.toString();
    }

    public static TetherServer start(Path dataDir, Map<String, String> settings) {
        openToTheJail(dataDir);
        java.util.Map<String, String> flags = new java.util.HashMap<>(Map.of(
                "port", "0", "data_dir", dataDir.toString(), "runtimes", "python",
                "python_pool_min_idle", "1", "jshell_pool_min_idle", "0",
                "access_log", "false")); // quiet test output; AccessLogTest turns it on
        flags.putAll(settings);
        return TetherServer.start(ServerConfig.from(Settings.resolve(flags, Map.of(), null)));
    }

    /**
     * The host pid of the interpreter whose working directory (under {@code dataDir/work})
     * holds {@code marker}: found by its current directory, since session code only knows its
     * pid inside its own PID namespace.
     */
    public static long interpreterPid(Path dataDir, String marker) throws java.io.IOException {
        Path dir;
        try (var dirs = java.nio.file.Files.list(dataDir.resolve("work"))) {
            dir = dirs.filter(d -> java.nio.file.Files.exists(d.resolve(marker))).findFirst().orElseThrow();
        }
        try (var procs = java.nio.file.Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return java.nio.file.Files.isSameFile(p.resolve("cwd"), dir);
                } catch (java.io.IOException e) {
                    return false;
                }
            }).mapToLong(p -> Long.parseLong(p.getFileName().toString())).min().orElseThrow();
        }
    }

    /**
     * Makes a test's directory passable by others (0711, as the server makes a data directory
     * when it runs as root with the sandbox): a JUnit temporary directory is 0700, which the
     * sandbox's jail user cannot pass to reach a data directory inside it.
     */
    public static void openToTheJail(Path dataDir) {
        try {
            java.nio.file.Files.setPosixFilePermissions(dataDir,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
