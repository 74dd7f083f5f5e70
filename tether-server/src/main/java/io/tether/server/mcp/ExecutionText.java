package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An execution's result as an agent reads it: stdout, stderr, the value and the error as
 * text content, each capped with a note that says how much was cut and where the rest is;
 * what the code displayed, in order (images as image content, else its {@code text/plain}),
 * and images in the value's MIME bundle as image content, all images of a call within one
 * budget; the same facts, uncapped except the
 * text, as {@code structuredContent}. An execution that did not end {@code ok} is a tool
 * error ({@code isError: true}) with its traceback.
 */
final class ExecutionText {
    /** The MIME types of a value's bundle that become image content. */
    private static final Set<String> IMAGES = Set.of("image/png", "image/jpeg", "image/gif", "image/webp");

    private ExecutionText() {
    }

    static CallToolResult result(String sessionId, ExecutionResult r, String note, int maxChars) {
        List<Content> content = new ArrayList<>();
        Map<String, Object> structured = new LinkedHashMap<>();
        structured.put("session", sessionId);
        structured.put("execution", r.number());
        structured.put("status", r.status().wireName());
        String where = "execution " + r.number() + " of session " + sessionId;
        String stdout = cap(r.stdout(), maxChars, where);
        String stderr = cap(r.stderr(), maxChars, where);
        structured.put("stdout", stdout);
        structured.put("stderr", stderr);
        if (!stdout.isEmpty()) {
            content.add(TextContent.builder(stdout).build());
        }
        if (!stderr.isEmpty()) {
            content.add(TextContent.builder("[stderr]\n" + stderr).build());
        }
        long[] imageBudget = {maxChars * 8L};
        for (Output o : r.outputs()) {
            // What the code displayed (display(obj), matplotlib figures): images, else its text.
            if (o instanceof Output.DisplayData d && !images(d.data(), content, imageBudget)
                    && d.data().get("text/plain") instanceof String text) {
                content.add(TextContent.builder(cap(text, maxChars, where)).build());
            }
        }
        Object value = r.result().get("text/plain");
        if (value != null) {
            String text = cap(value.toString(), maxChars, where);
            structured.put("result", text);
            content.add(TextContent.builder(text).build());
        }
        images(r.result(), content, imageBudget);
        ExecutionError error = r.error();
        if (error != null) {
            String trace = error.traceback() == null || error.traceback().isEmpty()
                    ? error.name() + ": " + error.value() : String.join("\n", error.traceback());
            String text = cap(trace, maxChars, where);
            structured.put("error", Map.of("name", error.name(), "value", error.value() == null ? "" : error.value(),
                    "traceback", text));
            content.add(TextContent.builder(text).build());
        }
        boolean ok = r.status() == ExecutionStatus.OK;
        String summary = String.format(Locale.ROOT, "[session %s · execution %d · %s · %.2f s%s]", sessionId,
                r.number(), r.status().wireName(), r.duration().toNanos() / 1e9,
                r.truncated() ? " · output cut at the worker's output limit" : "");
        if (!ok && error == null) {
            summary += switch (r.status()) {
                case TIMEOUT -> " The code ran past its timeout and was stopped.";
                case INTERRUPTED -> " The code was interrupted; the session's variables are kept.";
                case CRASHED -> " The interpreter died; the session may have lost its state.";
                default -> "";
            };
        }
        if (note != null) {
            summary += " " + note;
            structured.put("note", note);
        }
        content.add(TextContent.builder(summary).build());
        return CallToolResult.builder().content(content).structuredContent(structured).isError(!ok).build();
    }

    /**
     * Adds the images of a MIME bundle as image content while they fit in what is left of
     * the budget (base64 characters of one call's images); one that does not is a note.
     * Returns whether the bundle had an image.
     */
    private static boolean images(Map<String, Object> bundle, List<Content> content, long[] budget) {
        boolean any = false;
        for (Map.Entry<String, Object> e : bundle.entrySet()) {
            if (IMAGES.contains(e.getKey()) && e.getValue() instanceof String base64) {
                any = true;
                if (base64.length() <= budget[0]) {
                    budget[0] -= base64.length();
                    content.add(ImageContent.builder(base64, e.getKey()).build());
                } else {
                    content.add(TextContent.builder("[an " + e.getKey() + " image of " + base64.length() * 3 / 4
                            + " bytes was left out: too large to show here]").build());
                }
            }
        }
        return any;
    }

    /** The text, cut to {@code max} characters with a note saying how much was cut and where the rest is. */
    static String cap(String text, int max, String where) {
        if (text.length() <= max) {
            return text;
        }
        int cut = text.length() - max;
        return text.substring(0, max) + "\n[… " + cut + " more characters cut; the full text is in " + where
                + " (REST: GET /v1/sessions/{id}/executions/{n}), or write it to a file and use read_file]";
    }
}
