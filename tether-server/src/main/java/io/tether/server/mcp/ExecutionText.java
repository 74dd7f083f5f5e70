package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.ResourceLink;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An execution's result as an agent reads it: stdout, stderr, the value and the error as
 * text content, each capped; what the code displayed, in order (images as image content,
 * else its {@code text/plain}), and images in the value's MIME bundle as image content, all
 * images of a call within one budget; the same facts, the text capped, as
 * {@code structuredContent}. An execution that did not end {@code ok} is a tool error
 * ({@code isError: true}) with its traceback.
 *
 * <p>What does not fit — a text past the cap, an image past the budget — is saved through a
 * {@link Spill} as a file of the session and follows its part as a {@code resource_link}
 * (the capped text says how much was cut and where the whole is). When it cannot be saved
 * (the session's disk quota, {@code max_file_bytes}, a failed write) a note says why and where
 * else the whole is; the call itself never fails for it.
 */
final class ExecutionText {
    /** The MIME types of a bundle that become image content, with the extension of their file. */
    private static final Map<String, String> IMAGES = Map.of("image/png", "png", "image/jpeg", "jpg",
            "image/gif", "gif", "image/webp", "webp");

    /** Where the parts of a result too large to carry go. */
    @FunctionalInterface
    interface Spill {
        /**
         * Saves {@code bytes} as the file for part {@code what} ({@code stdout},
         * {@code display-2}, …) with extension {@code extension}.
         */
        Saved save(String what, String extension, byte[] bytes);
    }

    /** A saved part's link, or why it was not saved. */
    record Saved(ResourceLink link, String failure) {
        static Saved not(String why) {
            return new Saved(null, why);
        }
    }

    private final String sessionId;
    private final ExecutionResult r;
    private final int maxChars;
    private final Spill spill;
    private final List<Content> content = new ArrayList<>();
    private final List<Map<String, Object>> files = new ArrayList<>();
    /** Base64 characters the images of this call may still take. */
    private long imageBudget;

    private ExecutionText(String sessionId, ExecutionResult r, int maxChars, Spill spill) {
        this.sessionId = sessionId;
        this.r = r;
        this.maxChars = maxChars;
        this.spill = spill;
        this.imageBudget = maxChars * 8L;
    }

    /**
     * @param note what the agent should know besides (a new session, a cancel), or {@code null}
     * @param maxChars how many characters of each text the result carries
     * @param spill where what does not fit goes
     */
    static CallToolResult result(String sessionId, ExecutionResult r, String note, int maxChars, Spill spill) {
        return new ExecutionText(sessionId, r, maxChars, spill).build(note);
    }

    private CallToolResult build(String note) {
        Map<String, Object> structured = new LinkedHashMap<>();
        structured.put("session", sessionId);
        structured.put("execution", r.number());
        structured.put("status", r.status().wireName());
        structured.put("stdout", text("", r.stdout(), "stdout"));
        structured.put("stderr", text("[stderr]\n", r.stderr(), "stderr"));
        int shown = 0;
        for (Output o : r.outputs()) {
            // What the code displayed (display(obj), matplotlib figures): images, else its text.
            if (o instanceof Output.DisplayData d) {
                String what = "display-" + ++shown;
                if (!images(d.data(), what) && d.data().get("text/plain") instanceof String text) {
                    text("", text, what);
                }
            }
        }
        Object value = r.result().get("text/plain");
        if (value != null) {
            structured.put("result", text("", value.toString(), "result"));
        }
        images(r.result(), "result");
        ExecutionError error = r.error();
        if (error != null) {
            String trace = error.traceback() == null || error.traceback().isEmpty()
                    ? error.name() + ": " + error.value() : String.join("\n", error.traceback());
            structured.put("error", Map.of("name", error.name(), "value", error.value() == null ? "" : error.value(),
                    "traceback", text("", trace, "traceback")));
        }
        if (!files.isEmpty()) {
            structured.put("files", files);
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
     * Adds {@code text} (after {@code label}) as text content unless it is empty, capped at
     * {@code maxChars}; a longer one is saved whole as part {@code what} and linked after it.
     * Returns the capped text.
     */
    private String text(String label, String text, String what) {
        if (text.isEmpty()) {
            return text;
        }
        if (text.length() <= maxChars) {
            content.add(TextContent.builder(label + text).build());
            return text;
        }
        int cut = text.length() - maxChars;
        Saved saved = spill.save(what, "txt", text.getBytes(StandardCharsets.UTF_8));
        String capped = text.substring(0, maxChars) + "\n[… " + cut + " more characters cut; " + (saved.link() != null
                ? "the whole text (" + text.length() + " characters) is the session's file " + saved.link().name()
                        + ", linked below (resources/read " + saved.link().uri() + ", or read_file)]"
                : "not saved as a file (" + saved.failure() + "); the whole text is in " + execution() + "]");
        content.add(TextContent.builder(label + capped).build());
        link(saved);
        return capped;
    }

    /**
     * Adds the images of a MIME bundle as image content while they fit in what is left of
     * the budget; one that does not is saved as part {@code what} and linked, with a note.
     * Returns whether the bundle had an image.
     */
    private boolean images(Map<String, Object> bundle, String what) {
        boolean any = false;
        for (Map.Entry<String, Object> e : bundle.entrySet()) {
            String extension = IMAGES.get(e.getKey());
            if (extension == null || !(e.getValue() instanceof String base64)) {
                continue;
            }
            any = true;
            if (base64.length() <= imageBudget) {
                imageBudget -= base64.length();
                content.add(ImageContent.builder(base64, e.getKey()).build());
                continue;
            }
            byte[] bytes;
            try {
                bytes = Base64.getMimeDecoder().decode(base64);
            } catch (IllegalArgumentException bad) {
                content.add(TextContent.builder("[an " + e.getKey() + " image was left out: its data is not base64]")
                        .build());
                continue;
            }
            String image = "an " + e.getKey() + " image of " + bytes.length + " bytes";
            Saved saved = spill.save(what, extension, bytes);
            content.add(TextContent.builder(saved.link() != null
                    ? "[" + image + " is too large to show here (the images of one call share " + maxChars * 8L
                            + " base64 characters); it is the session's file " + saved.link().name()
                            + ", linked below]"
                    : "[" + image + " was left out: too large to show here, and not saved as a file ("
                            + saved.failure() + ")]").build());
            link(saved);
        }
        return any;
    }

    private void link(Saved saved) {
        ResourceLink link = saved.link();
        if (link == null) {
            return;
        }
        content.add(link);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", link.name());
        m.put("uri", link.uri());
        m.put("mimeType", link.mimeType());
        m.put("size", link.size());
        files.add(m);
    }

    private String execution() {
        return "execution " + r.number() + " of session " + sessionId + " (REST: GET /v1/sessions/" + sessionId
                + "/executions/" + r.number() + ")";
    }

    /** The text, cut to {@code max} characters with a note saying how much was cut and where the rest is. */
    static String cap(String text, int max, String where) {
        if (text.length() <= max) {
            return text;
        }
        int cut = text.length() - max;
        return text.substring(0, max) + "\n[… " + cut + " more characters cut; the whole text is in " + where + "]";
    }
}
