package io.tether.server.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.TetherException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request body: one JSON object whose fields are read by name and type. Every mistake is
 * an {@code invalid_request} that names the field: malformed JSON, a wrong type, a missing
 * required field, a field the route does not know.
 */
final class JsonBody {
    /** Parses request bodies: a repeated key is an error, not silently the last value. */
    private static final ObjectReader STRICT = Wire.MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private final ObjectNode node;

    private JsonBody(ObjectNode node) {
        this.node = node;
    }

    /**
     * Reads one JSON object, strictly: a body a client meant differently must not run. So
     * the body is UTF-8 without a byte order mark, holds one value and nothing after it but
     * whitespace (not a second object, not a NUL), and no object in it repeats a key (which
     * parsers resolve differently: first wins, last wins).
     */
    static JsonBody parse(byte[] bytes) {
        if (bytes.length == 0) {
            return new JsonBody(Wire.MAPPER.createObjectNode());
        }
        String text = utf8(bytes);
        if (text.startsWith("\uFEFF")) {
            throw TetherException.invalid("the request body starts with a byte order mark (U+FEFF); send UTF-8 "
                    + "JSON without one");
        }
        JsonNode parsed;
        try (JsonParser parser = STRICT.createParser(text)) {
            parsed = STRICT.readTree(parser);
            if (hasMore(parser)) {
                throw TetherException.invalid("the request body has more after the JSON object (line "
                        + parser.currentLocation().getLineNr() + ", column " + parser.currentLocation().getColumnNr()
                        + "); send exactly one JSON object");
            }
        } catch (JsonParseException e) {
            throw TetherException.invalid("the request body is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (JsonProcessingException e) {
            throw TetherException.invalid("the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw TetherException.invalid("the request body could not be read: " + e.getMessage());
        }
        if (parsed == null || parsed.isMissingNode()) {
            return new JsonBody(Wire.MAPPER.createObjectNode());
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw TetherException.invalid("the request body must be a JSON object, not " + kind(parsed));
        }
        return new JsonBody(object);
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw TetherException.invalid("the request body is not valid UTF-8");
        }
    }

    /** Whether anything but whitespace follows the value the parser has read. */
    private static boolean hasMore(JsonParser parser) throws java.io.IOException {
        try {
            return parser.nextToken() != null;
        } catch (JsonParseException e) {
            return true; // not even a token (a NUL, a stray character): still something after the object
        }
    }

    /** Refuses fields other than {@code known}. */
    JsonBody only(Set<String> known) {
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                unknown.add(f);
            }
        }
        if (!unknown.isEmpty()) {
            throw TetherException.invalid("unknown field" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + " in the request body; this route takes " + String.join(", ", known.stream().sorted().toList()));
        }
        return this;
    }

    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    /** A string field, or {@code null} when absent or null. */
    String string(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(field, "a string", v);
        }
        return v.textValue();
    }

    String requiredString(String field) {
        String v = string(field);
        if (v == null) {
            throw TetherException.invalid("field " + field + " is required (a string)");
        }
        return v;
    }

    /** An integer field (a JSON number without a fraction), or {@code fallback} when absent or null. */
    int integer(String field, int fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() && !(v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()))) {
            throw wrongType(field, "an integer", v);
        }
        if (!v.canConvertToInt()) {
            throw TetherException.invalid("field " + field + " is out of range: " + v);
        }
        return v.asInt();
    }

    /** A boolean field, or {@code fallback} when absent or null. */
    boolean bool(String field, boolean fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "a boolean", v);
        }
        return v.booleanValue();
    }

    /** An object field as a map, or {@code null} when absent or null. */
    Map<String, Object> object(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(field, "an object", v);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = Wire.MAPPER.convertValue(v, Map.class);
        return m;
    }

    /**
     * A duration in seconds (a number, fractions allowed): {@code null} when absent,
     * {@link #NONE} for an explicit JSON {@code null} (no limit).
     */
    Duration seconds(String field) {
        JsonNode v = node.get(field);
        if (v == null) {
            return null;
        }
        if (v.isNull()) {
            return NONE;
        }
        if (!v.isNumber()) {
            throw wrongType(field, "a number of seconds", v);
        }
        double s = v.doubleValue();
        if (!(s > 0) || s > 10L * 365 * 24 * 3600) {
            throw TetherException.invalid("field " + field + " must be a positive number of seconds, got " + v);
        }
        return Duration.ofMillis(Math.max(1, Math.round(s * 1000)));
    }

    /** Marks an explicit {@code null} duration: no limit. */
    static final Duration NONE = Duration.ofSeconds(Long.MAX_VALUE);

    private static TetherException wrongType(String field, String expected, JsonNode v) {
        return TetherException.invalid("field " + field + " must be " + expected + ", not " + kind(v));
    }

    private static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
