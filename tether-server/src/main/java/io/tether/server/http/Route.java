package io.tether.server.http;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * One route of the HTTP API: a method on a URI template, the handler that answers it, and
 * whether it is open (answered without a token, also while the server shuts down).
 *
 * <p>A template is literal segments and variables: {@code {id}} matches one segment,
 * {@code {path...}} (last only) one or more. Requests are matched on the decoded segments
 * {@link ApiHandler} made, after it refused empty, dot and malformed ones; so a variable
 * never spans an encoded slash. The template written as OpenAPI writes it ({@link #path()})
 * is the route's name everywhere: metrics, the access log, docs/openapi.json.
 *
 * <p>Not Jetty's {@code PathMappingsHandler} with {@code UriTemplatePathSpec}: it picks a
 * handler by path alone (405 with {@code Allow} needs the methods of a template), its
 * variables cannot take several segments (a file path), and it matches the raw path, not
 * the segments already checked here.
 */
record Route(String method, String template, boolean open, BiConsumer<Routes, Exchange> handler) {
    private static final String REST = "...}";
    /**
     * Each template's segments, split once: every request is matched against the routes in
     * turn, and splitting every template again for each was a fifth of a request's garbage.
     */
    private static final Map<String, List<String>> PARTS = new ConcurrentHashMap<>();

    Route {
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("a template starts with /: " + template);
        }
        List<String> segments = segments(template);
        for (int i = 0; i < segments.size() - 1; i++) {
            if (segments.get(i).endsWith(REST)) {
                throw new IllegalArgumentException("only the last variable may take the rest: " + template);
            }
        }
    }

    /** The template as OpenAPI writes it: {@code {path...}} is {@code {path}}. */
    String path() {
        return template.replace(REST, "}");
    }

    /**
     * The path variables if {@code segments} fit the template, or {@code null}; a rest
     * variable holds its segments, any other exactly one.
     */
    Map<String, List<String>> match(List<String> segments) {
        List<String> parts = PARTS.computeIfAbsent(template, Route::segments);
        boolean rest = !parts.isEmpty() && parts.getLast().endsWith(REST);
        if (!rest && parts.size() != segments.size()) {
            return null; // the common miss, before anything is made
        }
        Map<String, List<String>> vars = new HashMap<>();
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            if (part.endsWith(REST)) {
                if (segments.size() <= i) {
                    return null;
                }
                vars.put(part.substring(1, part.length() - REST.length()), List.copyOf(segments.subList(i, segments.size())));
                return vars;
            }
            if (i >= segments.size()) {
                return null;
            }
            if (part.startsWith("{") && part.endsWith("}")) {
                vars.put(part.substring(1, part.length() - 1), List.of(segments.get(i)));
            } else if (!part.equals(segments.get(i))) {
                return null;
            }
        }
        return parts.size() == segments.size() ? vars : null;
    }

    private static List<String> segments(String template) {
        return template.equals("/") ? List.of() : List.of(template.substring(1).split("/"));
    }
}
