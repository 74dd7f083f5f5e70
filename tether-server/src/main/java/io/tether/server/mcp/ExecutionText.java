package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An execution's result as an agent reads it: stdout, stderr, the value and the error as
 * text content, each capped with a note that says how much was cut and where the rest is;
 * images in the value's MIME bundle as image content; the same facts, uncapped except the
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
        Object value = r.result().get("text/plain");
        if (value != null) {
            String text = cap(value.toString(), maxChars, where);
            structured.put("result", text);
            content.add(TextContent.builder(text).build());
        }
        for (Map.Entry<String, Object> e : r.result().entrySet()) {
            // Rich outputs put images into the value's MIME bundle as base64.
            if (IMAGES.contains(e.getKey()) && e.getValue() instanceof String base64) {
                content.add(base64.length() <= maxChars * 8L
                        ? ImageContent.builder(base64, e.getKey()).build()
                        : TextContent.builder("[an " + e.getKey() + " image of " + base64.length() * 3 / 4
                                + " bytes was left out: too large to show here]").build());
            }
        }
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
