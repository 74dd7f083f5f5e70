package io.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.server.http.Routes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The CLI's client of HTTP API v1: JSON requests, problem details turned into a
 * {@link TetherException} with the server's {@code code} (so the CLI's exit codes apply),
 * and executions streamed as server-sent events.
 *
 * <p>Thread-safe: a signal handler may {@link #interrupt} while another thread streams an
 * execution. Every method blocks until the server answers.
 */
final class ServerClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** For everything but executions, which last as long as their own timeout says. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final ServerTarget target;
    private final HttpClient http;

    /** What an execution streams while it runs. */
    interface ExecutionListener {
        /** The execution has begun, in this session (new or reused), with this number. */
        void started(String sessionId, long number);

        /** Output as the code writes it; {@code stderr} tells which stream. */
        void output(boolean stderr, String text);
    }

    /** No server answers at the URL, or the connection to it broke: exit code 8. */
    static final class Unreachable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    ServerClient(ServerTarget target) {
        this.target = target;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
    }

    URI url() {
        return target.url();
    }

    /** {@code GET path?query}; query values {@code null} are left out. */
    Map<String, Object> get(Map<String, String> query, String... path) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        query.forEach((k, v) -> {
            if (v != null) {
                q.add(k + "=" + encode(v));
            }
        });
        return json(request(path(path) + q).GET().timeout(REQUEST_TIMEOUT).build());
    }

    /** A request with a JSON body ({@code null}: none); answers the JSON the server sends back. */
    Map<String, Object> send(String method, Object body, String... path) {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(bytes(body));
        return json(request(path(path)).method(method, publisher).header("Content-Type", "application/json")
                .timeout(REQUEST_TIMEOUT).build());
    }

    /** Asks the server to interrupt the session's running code. */
    void interrupt(String sessionId) {
        send("POST", null, "v1", "sessions", sessionId, "interrupt");
    }

    /**
     * Runs code through {@code POST /v1/execute}: in {@code sessionId}, or in a new session
     * when it is {@code null}. With a listener the output streams as it is written
     * ({@code Accept: text/event-stream}); without, the server answers once at the end.
     *
     * @param body {@code code} and optionally {@code timeout} and {@code runtime}
     * @return the finished execution as API v1 shows it ({@code session_id}, {@code number},
     *     {@code status}, {@code stdout}, {@code result}, {@code error}…)
     * @throws TetherException the server's problem, e.g. {@code session_not_found}
     * @throws Unreachable when the server does not answer or goes away mid-stream
     */
    Map<String, Object> execute(String sessionId, Map<String, Object> body, ExecutionListener listener) {
        HttpRequest.Builder b = request("/v1/execute")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes(body)))
                .header("Content-Type", "application/json")
                .header("Accept", listener == null ? "application/json" : "text/event-stream");
        if (sessionId != null) {
            b.header(Routes.SESSION_HEADER, sessionId);
        }
        if (listener == null) {
            return json(b.build());
        }
        HttpResponse<InputStream> r = exchange(b.build());
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (r.statusCode() >= 300 || !type.startsWith("text/event-stream")) {
            return answer(r);
        }
        return new EventStream(listener).read(r);
    }

    /** Reads {@code start}, {@code stdout}, {@code stderr} and {@code end} events; the others repeat what {@code end} holds. */
    private final class EventStream {
        private final ExecutionListener listener;
        private String sessionId;
        private long number;
        private Map<String, Object> end;

        EventStream(ExecutionListener listener) {
            this.listener = listener;
        }

        Map<String, Object> read(HttpResponse<InputStream> r) {
            sessionId = r.headers().firstValue(Routes.SESSION_HEADER).orElse(null);
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                String event = null;
                StringBuilder data = new StringBuilder();
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.isEmpty()) {
                        if (event != null) {
                            dispatch(event, data.toString());
                        }
                        event = null;
                        data.setLength(0);
                    } else if (!line.startsWith(":")) {
                        int colon = line.indexOf(':');
                        String field = colon < 0 ? line : line.substring(0, colon);
                        String value = colon < 0 ? "" : line.substring(colon + 1);
                        value = value.startsWith(" ") ? value.substring(1) : value;
                        if (field.equals("event")) {
                            event = value;
                        } else if (field.equals("data")) {
                            data.append(data.isEmpty() ? "" : "\n").append(value);
                        }
                    }
                }
            } catch (IOException e) {
                throw new Unreachable("lost the connection to the server at " + target.url() + " while the execution "
                        + "ran (" + e.getMessage() + ")" + fetchHint(), e);
            }
            if (end == null) {
                throw new TetherException(ErrorCode.INTERNAL, "the server closed the event stream before the "
                        + "execution ended" + fetchHint());
            }
            return end;
        }

        private void dispatch(String event, String data) {
            Map<String, Object> m = parse(data.getBytes(StandardCharsets.UTF_8));
            switch (event) {
                case "start" -> {
                    sessionId = (String) m.get("session_id");
                    number = ((Number) m.get("number")).longValue();
                    listener.started(sessionId, number);
                }
                case "stdout", "stderr" -> listener.output(event.equals("stderr"), (String) m.get("text"));
                case "end" -> end = m;
                default -> {
                    // result and error: the end event carries them too
                }
            }
        }

        private String fetchHint() {
            return number == 0 ? "" : "; it goes on on the server: GET /v1/sessions/" + sessionId + "/executions/"
                    + number + " fetches it";
        }
    }

    // ---------------------------------------------------------------- plumbing

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.url() + path));
        if (target.token() != null) {
            b.header("Authorization", "Bearer " + target.token());
        }
        return b;
    }

    private Map<String, Object> json(HttpRequest request) {
        return answer(exchange(request));
    }

    private HttpResponse<InputStream> exchange(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Unreachable("no Tether server answers at " + target.url() + " (" + what(e) + "; the URL is "
                    + target.origin() + "). Start one with: ./tether serve   (add --data-dir DIR for another data "
                    + "directory), or point --url or TETHER_URL at a running server", e);
        } catch (IOException e) {
            throw new Unreachable("the request to " + target.url() + " failed: " + what(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TetherException(ErrorCode.INTERNAL, "interrupted while waiting for " + target.url(), e);
        }
    }

    /** The JSON of a 2xx answer (empty for 204), or the problem of any other as a {@link TetherException}. */
    private Map<String, Object> answer(HttpResponse<InputStream> r) {
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readAllBytes();
        } catch (IOException e) {
            throw new Unreachable("lost the connection to " + target.url() + " while reading its answer: " + what(e), e);
        }
        if (r.statusCode() < 300) {
            return body.length == 0 ? Map.of() : parse(body);
        }
        throw problem(r.statusCode(), body);
    }

    private TetherException problem(int status, byte[] body) {
        String code = null;
        String detail = null;
        try {
            Map<String, Object> p = parse(body);
            code = p.get("code") instanceof String s ? s : null;
            detail = p.get("detail") instanceof String s ? s : null;
        } catch (TetherException notJson) {
            // a proxy's or another server's page: the status says enough
        }
        ErrorCode c = code(code, status);
        String message = detail != null ? detail : "the server answered HTTP " + status;
        if (c == ErrorCode.UNAUTHORIZED && target.token() == null) {
            message += ". Give a token with --token or TETHER_TOKEN (the server's admin token is in the file "
                    + ServerTarget.ADMIN_TOKEN_FILE + " of its data directory)";
        }
        return new TetherException(c, message);
    }

    private static ErrorCode code(String text, int status) {
        for (ErrorCode c : ErrorCode.values()) {
            if (c.code().equals(text)) {
                return c;
            }
        }
        return switch (status) {
            case 400, 405 -> ErrorCode.INVALID_REQUEST;
            case 401 -> ErrorCode.UNAUTHORIZED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 410 -> ErrorCode.SESSION_ENDED;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 429 -> ErrorCode.LIMIT_EXCEEDED;
            case 503 -> ErrorCode.RUNTIME_UNAVAILABLE;
            default -> ErrorCode.INTERNAL;
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(byte[] json) {
        try {
            Object v = JSON.readValue(json, Object.class);
            if (v instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
        } catch (IOException e) {
            // answered below
        }
        throw new TetherException(ErrorCode.INTERNAL, "the server's answer is not a JSON object: "
                + new String(json, 0, Math.min(json.length, 200), StandardCharsets.UTF_8));
    }

    private static byte[] bytes(Object body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private static String path(String... segments) {
        StringBuilder b = new StringBuilder();
        for (String s : segments) {
            b.append('/').append(encode(s));
        }
        return b.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String what(Exception e) {
        if (e.getMessage() != null) {
            return e.getMessage();
        }
        return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
    }

    /** A JSON object with its fields in the order given, {@code null} values left out. */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                m.put((String) keysAndValues[i], keysAndValues[i + 1]);
            }
        }
        return m;
    }
}
