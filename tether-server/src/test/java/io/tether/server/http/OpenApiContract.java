package io.tether.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * docs/openapi.json (the copy the server serves) as a contract the tests hold the server to:
 * the routes it lists are {@link Routes#TABLE}'s, and every answer a test gets must fit the
 * document's response for its route, status and media type. {@code io.tether.server.Api}
 * checks each answer, so an answer that drifted from the document fails the test that got it.
 */
public final class OpenApiContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where the document is registered for the validator, so its {@code $ref}s resolve. */
    private static final String BASE = "https://tether.invalid/openapi.json";
    private static final JsonNode DOCUMENT = load();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            b -> b.schemas(Map.of(BASE, DOCUMENT.toString())));
    private static final Map<String, Schema> BY_POINTER = new ConcurrentHashMap<>();

    private OpenApiContract() {
    }

    /** The document as served. */
    public static JsonNode document() {
        return DOCUMENT;
    }

    private static JsonNode load() {
        try (InputStream in = Routes.class.getResourceAsStream("openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is not on the class path next to Routes");
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code METHOD /template} of every route in the server's table. */
    public static Set<String> tableRoutes() {
        Set<String> out = new TreeSet<>();
        for (Route r : Routes.TABLE) {
            out.add(r.method() + " " + r.path());
        }
        return out;
    }

    /** {@code METHOD /template} of every operation in the document. */
    public static Set<String> documentRoutes() {
        Set<String> out = new TreeSet<>();
        DOCUMENT.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> {
            if (!m.equals("parameters") && !m.equals("summary") && !m.equals("description")) {
                out.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey());
            }
        }));
        return out;
    }

    /** Whether each route's openness (no token) is the document's ({@code security: []}). */
    public static List<String> opennessMismatches() {
        List<String> out = new ArrayList<>();
        for (Route r : Routes.TABLE) {
            JsonNode op = DOCUMENT.path("paths").path(r.path()).path(r.method().toLowerCase(Locale.ROOT));
            boolean open = op.has("security") && op.get("security").isEmpty();
            if (open != r.open()) {
                out.add(r.method() + " " + r.path() + (r.open() ? " is open but the document asks for a token"
                        : " needs a token but the document says it is open"));
            }
        }
        return out;
    }

    /**
     * Throws an {@link AssertionError} naming each way the answer differs from the document.
     *
     * @param headers the answer's headers, names in lower case
     */
    public static void check(String method, String pathAndQuery, int status, Map<String, String> headers,
                             String body) {
        List<String> v = violations(method, pathAndQuery, status, headers, body);
        if (!v.isEmpty()) {
            throw new AssertionError("the answer to " + method + " " + pathAndQuery + " (" + status + ", "
                    + headers.get("content-type") + ") does not fit docs/openapi.json:\n  " + String.join("\n  ", v)
                    + "\nbody: " + body);
        }
    }

    /**
     * How the answer differs from the document's response for its route and status (body,
     * media type, required headers); empty when it fits.
     *
     * @param headers the answer's headers, names in lower case
     */
    public static List<String> violations(String method, String pathAndQuery, int status, Map<String, String> headers,
                                          String body) {
        String contentType = headers.get("content-type");
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String template = null;
        Route route = null;
        try {
            List<String> segments = ApiHandler.segments(path);
            for (Route r : Routes.TABLE) {
                if ((template == null || template.equals(r.template())) && r.match(segments) != null) {
                    template = r.template();
                    if (r.method().equals(method)) {
                        route = r;
                    }
                }
            }
        } catch (TetherException e) {
            // a refused path: answered with a problem below
        }
        if (route == null) {
            // No operation: a refused path, no route (404), the wrong method (405), or refused before that.
            List<String> v = new ArrayList<>();
            if (!Set.of(400, 401, 404, 405, 503).contains(status)) {
                v.add("status " + status + " for a request no operation of the document answers");
            }
            v.addAll(validate(mediaType(contentType), "application/problem+json", body, "/components/schemas/Problem"));
            return v;
        }
        String opPointer = "/paths/" + escape(route.path()) + "/" + method.toLowerCase(Locale.ROOT);
        JsonNode op = DOCUMENT.at(opPointer);
        if (op.isMissingNode()) {
            return List.of(method + " " + route.path() + " is not in the document");
        }
        String responsePointer = opPointer + "/responses/" + status;
        JsonNode response = DOCUMENT.at(responsePointer);
        if (response.isMissingNode()) {
            return List.of("status " + status + " is not documented for " + method + " " + route.path());
        }
        if (response.has("$ref")) {
            responsePointer = response.get("$ref").asText().substring(1);
            response = DOCUMENT.at(responsePointer);
        }
        List<String> v = headerViolations(response, headers);
        JsonNode content = response.path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            if (!body.isEmpty()) {
                v.add("status " + status + " has no body in the document, got one");
            }
            return v;
        }
        String type = mediaType(contentType);
        if (type == null || !content.has(type)) {
            v.add("media type " + contentType + " is not documented for status " + status + " of " + method
                    + " " + route.path() + " (documented: " + iterable(content.fieldNames()) + ")");
            return v;
        }
        String schemaPointer = responsePointer + "/content/" + escape(type) + "/schema";
        if (type.equals("text/event-stream")) {
            v.addAll(eventViolations(responsePointer + "/content/" + escape(type), body));
        } else if (type.endsWith("json")) {
            v.addAll(validate(type, type, body, schemaPointer));
        }
        return v;
    }

    /** A required header that is missing, or a header whose value does not fit its schema. */
    private static List<String> headerViolations(JsonNode response, Map<String, String> headers) {
        List<String> v = new ArrayList<>();
        response.path("headers").fields().forEachRemaining(h -> {
            JsonNode header = h.getValue();
            if (header.has("$ref")) {
                header = DOCUMENT.at(header.get("$ref").asText().substring(1));
            }
            String value = headers.get(h.getKey().toLowerCase(Locale.ROOT));
            if (value == null) {
                if (header.path("required").asBoolean()) {
                    v.add("header " + h.getKey() + " is missing");
                }
                return;
            }
            for (Error e : schema(header.path("schema")).validate(TextNode.valueOf(value))) {
                v.add("header " + h.getKey() + ": " + e);
            }
        });
        return v;
    }

    /**
     * How the events of a stream differ from the document's {@code x-tether-events}: an event
     * it does not name, or data that does not fit its schema.
     */
    static List<String> eventViolations(String mediaPointer, String stream) {
        JsonNode events = DOCUMENT.at(mediaPointer + "/x-tether-events");
        List<String> v = new ArrayList<>();
        for (String[] e : events(stream)) {
            if (!events.has(e[0])) {
                v.add("event " + e[0] + " is not in the document");
                continue;
            }
            for (String s : validate("application/json", "application/json", e[1],
                    mediaPointer + "/x-tether-events/" + escape(e[0]) + "/schema")) {
                v.add("event " + e[0] + ": " + s);
            }
        }
        return v;
    }

    /** The events of a stream as {@code [name, data]}; comments are skipped. */
    public static List<String[]> events(String stream) {
        List<String[]> out = new ArrayList<>();
        for (String block : stream.split("\n\n")) {
            String name = null;
            String data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
            if (name != null) {
                out.add(new String[] {name, data == null ? "" : data});
            }
        }
        return out;
    }

    private static List<String> validate(String type, String expectedType, String body, String schemaPointer) {
        if (!expectedType.equals(type)) {
            return List.of("media type " + type + ", expected " + expectedType);
        }
        JsonNode value;
        try {
            value = JSON.readTree(body);
        } catch (IOException e) {
            return List.of("not JSON: " + e.getMessage());
        }
        Schema schema = BY_POINTER.computeIfAbsent(schemaPointer, p -> SCHEMAS.getSchema(
                SchemaLocation.of(BASE + "#" + fragment(p))));
        List<String> out = new ArrayList<>();
        for (Error e : schema.validate(value)) {
            out.add(e.toString());
        }
        return out;
    }

    /** A schema of the document's that has no {@code $ref} into the rest of it (a header's). */
    private static Schema schema(JsonNode node) {
        return SCHEMAS.getSchema(node);
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    /** One JSON-pointer token. */
    private static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }

    /** A JSON pointer as a URI fragment. */
    private static String fragment(String pointer) {
        return URLEncoder.encode(pointer, StandardCharsets.UTF_8).replace("%2F", "/").replace("%7E", "~")
                .replace("+", "%20");
    }

    private static List<String> iterable(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
