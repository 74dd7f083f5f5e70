package io.tether.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.ErrorCode;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.Output;
import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of HTTP API v1 (snake_case, instants in ISO-8601 UTC, durations in
 * seconds), as the routes answer them.
 */
final class Wire {
    /**
     * Reads request bodies and writes answers. Its buffers are shared by all requests through
     * a small pool: Jackson's default keeps them per thread, and every request runs on a new
     * virtual thread, so each request allocated ~20 KB of fresh buffers (parsing its body and
     * writing its answer) and made the collector run — and pause every request in flight —
     * about twice as often.
     */
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.newBoundedPool(16))
            .build());
    static final String JSON_TYPE = "application/json";
    static final String PROBLEM_TYPE = "application/problem+json";

    private Wire() {
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** A session. */
    static Map<String, Object> session(Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("owner", s.owner());
        m.put("key", s.key());
        m.put("runtime", s.runtime());
        m.put("status", s.status().wireName());
        m.put("created_at", text(s.createdAt()));
        m.put("last_activity_at", text(s.lastActivityAt()));
        m.put("ended_at", text(s.endedAt()));
        m.put("end_reason", s.endReason() == null ? null : s.endReason().code());
        m.put("idle_timeout", seconds(s.idleTimeout()));
        m.put("max_lifetime", seconds(s.maxLifetime()));
        m.put("interaction_count", s.interactionCount());
        m.put("data", s.data());
        m.put("metadata", s.metadata());
        m.put("node", s.node());
        m.put("version", s.version());
        return m;
    }

    /** An execution's result, as the execute routes answer it. */
    static Map<String, Object> result(String sessionId, ExecutionResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("session_id", sessionId);
        m.put("number", r.number());
        m.put("status", r.status().wireName());
        m.put("stdout", r.stdout());
        m.put("stderr", r.stderr());
        m.put("result", r.result().isEmpty() ? null : r.result());
        m.put("error", error(r.error()));
        m.put("duration", r.duration().toNanos() / 1e9);
        m.put("truncated", r.truncated());
        m.put("outputs", outputs(r.outputs()));
        return m;
    }

    /**
     * An execution's outputs in order, in Jupyter's shapes: {@code stream} (name, text),
     * {@code display_data} and {@code execute_result} (data, metadata, truncated).
     */
    static List<Map<String, Object>> outputs(List<Output> outputs) {
        List<Map<String, Object>> list = new ArrayList<>(outputs.size());
        for (Output o : outputs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("output_type", o.kind());
            switch (o) {
                case Output.StreamText s -> {
                    m.put("name", s.name());
                    m.put("text", s.text());
                }
                case Output.DisplayData d -> bundle(m, d.data(), d.metadata(), d.truncated());
                case Output.ExecuteResult r -> bundle(m, r.data(), r.metadata(), r.truncated());
            }
            list.add(m);
        }
        return list;
    }

    /** A display output as the {@code display} event carries it. */
    static Map<String, Object> display(Output.DisplayData d) {
        return bundle(new LinkedHashMap<>(), d.data(), d.metadata(), d.truncated());
    }

    private static Map<String, Object> bundle(Map<String, Object> m, Map<String, Object> data,
                                              Map<String, Object> metadata, boolean truncated) {
        m.put("data", data);
        m.put("metadata", metadata);
        m.put("truncated", truncated);
        return m;
    }

    /** A kept (or running) execution: the result plus its code and times. */
    static Map<String, Object> record(ExecutionRecord e) {
        Map<String, Object> m = result(e.sessionId(), e.result());
        m.put("code", e.code());
        m.put("started_at", text(e.startedAt()));
        m.put("ended_at", text(e.endedAt()));
        return m;
    }

    /** How many characters of its code an execution summary shows. */
    static final int CODE_PREVIEW_CHARS = 200;

    /**
     * A kept (or running) execution without its output, as the execution list shows it by
     * default: the first {@value #CODE_PREVIEW_CHARS} characters of its code, and the error's name.
     */
    static Map<String, Object> recordSummary(ExecutionRecord e) {
        ExecutionResult r = e.result();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("session_id", e.sessionId());
        m.put("number", r.number());
        m.put("status", r.status().wireName());
        m.put("started_at", text(e.startedAt()));
        m.put("ended_at", text(e.endedAt()));
        m.put("duration", r.duration().toNanos() / 1e9);
        m.put("truncated", r.truncated());
        m.put("error_name", r.error() == null ? null : r.error().name());
        String code = e.code();
        boolean cut = code.length() > CODE_PREVIEW_CHARS;
        int end = CODE_PREVIEW_CHARS;
        if (cut && Character.isHighSurrogate(code.charAt(end - 1))) {
            end--; // never split a surrogate pair
        }
        m.put("code_preview", cut ? code.substring(0, end) : code);
        m.put("code_preview_truncated", cut);
        return m;
    }

    static Map<String, Object> error(ExecutionError e) {
        if (e == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", e.name());
        m.put("value", e.value());
        m.put("traceback", e.traceback());
        return m;
    }

    /** RFC 9457 problem details with Tether's stable {@code code}. */
    static Map<String, Object> problem(int status, ErrorCode code, String detail) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "https://tether.dev/problems/" + code.code());
        m.put("title", title(code));
        m.put("status", status);
        m.put("code", code.code());
        m.put("detail", detail);
        return m;
    }

    private static String title(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST -> "Invalid request";
            case UNAUTHORIZED -> "Unauthorized";
            case FORBIDDEN -> "Forbidden";
            case SESSION_NOT_FOUND -> "Session not found";
            case NOT_FOUND -> "Not found";
            case SESSION_ENDED -> "Session ended";
            case LIMIT_EXCEEDED -> "Limit exceeded";
            case SESSION_BUSY -> "Session busy";
            case PAYLOAD_TOO_LARGE -> "Payload too large";
            case RUNTIME_UNAVAILABLE -> "Runtime unavailable";
            case SHUTTING_DOWN -> "Shutting down";
            case NODE_UNAVAILABLE -> "Node unavailable";
            case STORE_FAILURE -> "Store failure";
            case INTERNAL -> "Internal error";
            case NO_INPUT_REQUESTED -> "No input requested";
        };
    }

    /** The HTTP status of an error code. */
    static int status(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST -> 400;
            case UNAUTHORIZED -> 401;
            case FORBIDDEN -> 403;
            case SESSION_NOT_FOUND, NOT_FOUND -> 404;
            case SESSION_ENDED -> 410;
            case SESSION_BUSY -> 409;
            case PAYLOAD_TOO_LARGE -> 413;
            case LIMIT_EXCEEDED -> 429;
            case RUNTIME_UNAVAILABLE, SHUTTING_DOWN, NODE_UNAVAILABLE -> 503;
            case STORE_FAILURE, INTERNAL -> 500;
            case NO_INPUT_REQUESTED -> 409;
        };
    }

    static String text(Instant i) {
        return i == null ? null : i.toString();
    }

    static Object seconds(Duration d) {
        if (d == null) {
            return null;
        }
        return d.toMillis() % 1000 == 0 ? (Object) d.toSeconds() : (Object) (d.toMillis() / 1000.0);
    }
}
