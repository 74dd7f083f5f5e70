package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.server.files.SessionFiles;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the file tools ({@code list_files}, {@code read_file}, {@code write_file}) and the file
 * resources ({@value #FILE_TEMPLATE}) answer, over the server's one safe access to a session's
 * working directory ({@link SessionFiles}: no link followed, what the server writes handed to
 * the session). A file's name is its path below the working directory ({@code data/in.csv}).
 */
final class McpFiles {
    /** How many entries {@code list_files} shows at most (the REST listing: 10,000). */
    static final int MAX_LISTED = 1_000;
    /** The URI of a session's file as an MCP resource; {@code name} is percent-encoded, {@code /} too. */
    static final String FILE_TEMPLATE = "tether://sessions/{id}/files/{name}";
    private static final String PREFIX = "tether://sessions/";
    private static final Map<String, String> TYPES = Map.ofEntries(Map.entry("txt", "text/plain"),
            Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"), Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"), Map.entry("svg", "image/svg+xml"),
            Map.entry("json", "application/json"), Map.entry("csv", "text/csv"), Map.entry("html", "text/html"),
            Map.entry("pdf", "application/pdf"));

    private final SessionFiles files;

    McpFiles(SessionFiles files) {
        this.files = files;
    }

    SessionFiles access() {
        return files;
    }

    CallToolResult list(String session, Path root) {
        SessionFiles.Listing listing = files.list(root, MAX_LISTED);
        List<Map<String, Object>> entries = new ArrayList<>();
        StringBuilder text = new StringBuilder(listing.entries().isEmpty() ? "No files in session " + session + "."
                : "Files in session " + session + ":");
        for (SessionFiles.Entry e : listing.entries()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.path());
            m.put("type", e.type());
            m.put("size", e.size());
            entries.add(m);
            text.append("\n- ").append(e.path()).append(switch (e.type()) {
                case "directory" -> "/";
                case "file" -> " (" + e.size() + " bytes)";
                default -> " (" + e.type() + ")";
            });
        }
        if (listing.truncated()) {
            text.append("\n[only the first ").append(MAX_LISTED).append(" entries are listed; the REST API lists up to "
                    + "10,000: GET /v1/sessions/").append(session).append("/files]");
        }
        return CallToolResult.builder().content(List.of(TextContent.builder(text.toString()).build()))
                .structuredContent(Map.of("session", session, "files", entries, "truncated", listing.truncated()))
                .isError(false).build();
    }

    CallToolResult read(String session, Path root, String name, int maxChars) {
        byte[] bytes = files.readBytes(root, SessionFiles.path(name),
                (int) Math.min(files.maxFileBytes(), (long) maxChars * 4));
        String text = utf8(bytes);
        if (text == null) {
            // cut in the middle of a character, or not text at all
            text = new String(bytes, StandardCharsets.UTF_8);
            if (text.chars().filter(c -> c == 0xFFFD).count() > 8) {
                throw new ToolError("read_file: " + name + " is not UTF-8 text; read it as the resource "
                        + uri(session, name) + " or through the REST API (GET /v1/sessions/" + session + "/files/"
                        + name + ")");
            }
        }
        return CallToolResult.builder().content(List.of(TextContent.builder(ExecutionText.cap(text, maxChars,
                        "the file (REST: GET /v1/sessions/" + session + "/files/" + name + ")")).build()))
                .isError(false).build();
    }

    CallToolResult write(String session, Path root, String name, byte[] content) {
        SessionFiles.Written w = files.write(root, SessionFiles.path(name), content);
        return CallToolResult.builder().content(List.of(TextContent.builder("Wrote " + w.size() + " bytes to "
                        + name + " in session " + session + ".").build()))
                .structuredContent(Map.of("session", session, "name", name, "size", w.size()))
                .isError(false).build();
    }

    /** A file as a resource's contents: {@code text} when it is UTF-8 text, else {@code blob}. */
    record Contents(String uri, String mimeType, String text, byte[] blob) {
    }

    /**
     * The whole file {@code name} as a resource, up to {@code max_file_bytes}.
     *
     * @throws ToolError when it is bigger
     * @throws io.tether.TetherException when there is no such file or it cannot be read
     */
    Contents resource(String uri, String session, Path root, String name) {
        long max = files.maxFileBytes();
        byte[] bytes = files.readBytes(root, SessionFiles.path(name), (int) Math.min(Integer.MAX_VALUE - 8, max));
        if (bytes.length > max) {
            throw new ToolError(uri + " is over " + max + " bytes (max_file_bytes): fetch it through the REST API "
                    + "(GET /v1/sessions/" + session + "/files/" + name + ")");
        }
        String type = mimeType(name);
        boolean binary = type.equals("application/pdf") || type.startsWith("image/") && !type.equals("image/svg+xml");
        String text = binary ? null : utf8(bytes);
        if (text == null) {
            return new Contents(uri, type, null, bytes);
        }
        return new Contents(uri, type.equals("application/octet-stream") ? "text/plain" : type, text, null);
    }

    /** The resource URI of a session's file. */
    static String uri(String session, String name) {
        return PREFIX + session + "/files/" + encode(name);
    }

    /**
     * The session id and file name of a file resource's URI.
     *
     * @throws ToolError when it is not one
     */
    static String[] parse(String uri) {
        String bad = uri + " is not a session file's URI (" + FILE_TEMPLATE + ")";
        if (!uri.startsWith(PREFIX)) {
            throw new ToolError(bad);
        }
        String rest = uri.substring(PREFIX.length());
        int slash = rest.indexOf("/files/");
        if (slash <= 0 || rest.substring(0, slash).matches(".*[^A-Za-z0-9_-].*")) {
            throw new ToolError(bad);
        }
        String name = rest.substring(slash + "/files/".length());
        if (name.isEmpty() || name.contains("/")) {
            throw new ToolError(bad + "; a '/' in the name is written %2F");
        }
        return new String[] {rest.substring(0, slash), decode(name, bad)};
    }

    /** The MIME type a file's extension names; {@code application/octet-stream} when none. */
    static String mimeType(String name) {
        int dot = name.lastIndexOf('.');
        String type = dot < 0 ? null : TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type != null ? type : "application/octet-stream";
    }

    /** Percent-encodes all but RFC 3986's unreserved characters, as the template's {@code {name}} expands. */
    static String encode(String name) {
        StringBuilder b = new StringBuilder();
        for (byte x : name.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    private static String decode(String s, String bad) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(s.charAt(i + 2), 16);
                if (lo < 0) {
                    throw new ToolError(bad + ": a '%' must start a %XX escape");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                int cp = s.codePointAt(i);
                byte[] raw = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
                i += Character.charCount(cp) - 1;
            }
        }
        String text = utf8(out.toByteArray());
        if (text == null) {
            throw new ToolError(bad + ": its name is not UTF-8 once decoded");
        }
        return text;
    }

    /** The bytes as UTF-8 text, or {@code null} when they are not. */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
