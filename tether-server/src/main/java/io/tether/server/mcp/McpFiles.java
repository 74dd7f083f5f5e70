package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The file tools' access to a session's working directory: names directly in it (no
 * subdirectories: the REST files API reaches those). Everything goes through a
 * {@link SecureDirectoryStream} of the working directory with links never followed, so
 * session code that swaps a name for a link to a server file cannot make the server read or
 * write outside the session's own directory.
 */
final class McpFiles {
    /** How many names {@code list_files} shows at most. */
    static final int MAX_LISTED = 1_000;
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS);

    private final long maxFileBytes;
    /** Makes a file the server created the session's own (the sandbox's hand-over). */
    private final Consumer<Path> handOver;

    McpFiles(long maxFileBytes, Consumer<Path> handOver) {
        this.maxFileBytes = maxFileBytes;
        this.handOver = handOver;
    }

    CallToolResult list(String session, Path root) {
        List<Map<String, Object>> entries = new ArrayList<>();
        boolean cut = false;
        try (SecureDirectoryStream<Path> dir = open(root)) {
            for (Path p : dir) {
                if (entries.size() == MAX_LISTED) {
                    cut = true;
                    break;
                }
                String name = p.getFileName().toString();
                BasicFileAttributes a = dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS).readAttributes();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", name);
                m.put("type", a.isDirectory() ? "directory" : a.isRegularFile() ? "file" : "other");
                m.put("size", a.size());
                entries.add(m);
            }
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            throw new ToolError("list_files: cannot list the files of session " + session + ": " + e.getMessage());
        }
        entries.sort((x, y) -> ((String) x.get("name")).compareTo((String) y.get("name")));
        StringBuilder text = new StringBuilder(entries.isEmpty() ? "No files in session " + session + "."
                : "Files in session " + session + ":");
        for (Map<String, Object> e : entries) {
            text.append("\n- ").append(e.get("name")).append(e.get("type").equals("directory") ? "/" : "")
                    .append(" (").append(e.get("size")).append(" bytes)");
        }
        if (cut) {
            text.append("\n[only the first ").append(MAX_LISTED).append(" names are listed]");
        }
        return CallToolResult.builder().content(List.of(TextContent.builder(text.toString()).build()))
                .structuredContent(Map.of("session", session, "files", entries, "truncated", cut)).isError(false)
                .build();
    }

    CallToolResult read(String session, Path root, String name, int maxChars) {
        byte[] bytes = bytes("read_file", session, root, name, (int) Math.min(maxFileBytes, (long) maxChars * 4));
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            // cut in the middle of a character, or not text at all
            text = new String(bytes, StandardCharsets.UTF_8);
            if (text.chars().filter(c -> c == 0xFFFD).count() > 8) {
                throw new ToolError("read_file: " + name + " is not UTF-8 text; fetch it through the REST API "
                        + "(GET /v1/sessions/" + session + "/files/" + name + ")");
            }
        }
        return CallToolResult.builder().content(List.of(TextContent.builder(ExecutionText.cap(text, maxChars,
                        "the file (REST: GET /v1/sessions/" + session + "/files/" + name + ")")).build()))
                .isError(false).build();
    }

    /**
     * The first {@code max} bytes (and one more, to tell a cut) of the regular file
     * {@code name} directly in {@code root}, never through a link.
     *
     * @throws ToolError when there is no such file or it cannot be read
     */
    byte[] bytes(String tool, String session, Path root, String name, int max) {
        check(name);
        try (SecureDirectoryStream<Path> dir = open(root);
             SeekableByteChannel in = dir.newByteChannel(Path.of(name), READ)) {
            BasicFileAttributes a = dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes();
            if (!a.isRegularFile()) {
                throw new ToolError(tool + ": " + name + " is not a file");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(max + 1L, Math.max(a.size() + 1, 1)));
            while (buf.hasRemaining() && in.read(buf) > 0) {
                // fill up to the cap
            }
            return java.util.Arrays.copyOf(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            throw new ToolError(tool + ": session " + session + " has no file " + name);
        } catch (IOException e) {
            throw new ToolError(tool + ": cannot read " + name + ": " + e.getMessage()
                    + (e instanceof java.nio.file.FileSystemLoopException ? "" : " (a link is never followed)"));
        }
    }

    /** The largest file {@link #bytes} is asked for in whole. */
    long maxFileBytes() {
        return maxFileBytes;
    }

    CallToolResult write(String session, Path root, String name, byte[] content) {
        check(name);
        if (content.length > maxFileBytes) {
            throw new ToolError("write_file: the content has " + content.length + " bytes; the limit is "
                    + maxFileBytes + " (setting max_file_bytes)");
        }
        String tmp = ".upload-" + UUID.randomUUID();
        try (SecureDirectoryStream<Path> dir = open(root)) {
            try {
                try (SeekableByteChannel out = dir.newByteChannel(Path.of(tmp), CREATE,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                    handOver.accept(root.resolve(tmp));
                    ByteBuffer b = ByteBuffer.wrap(content);
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                }
                dir.move(Path.of(tmp), dir, Path.of(name));
            } catch (IOException | RuntimeException e) {
                try {
                    dir.deleteFile(Path.of(tmp));
                } catch (IOException gone) {
                    // moved into place or never made
                }
                throw e;
            }
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            throw new ToolError("write_file: " + name + " is a directory in session " + session);
        } catch (IOException e) {
            throw new ToolError("write_file: cannot write " + name + ": " + e.getMessage());
        }
        return CallToolResult.builder().content(List.of(TextContent.builder("Wrote " + content.length + " bytes to "
                        + name + " in session " + session + ".").build()))
                .structuredContent(Map.of("session", session, "name", name, "size", content.length))
                .isError(false).build();
    }

    /** A name directly in the working directory: no separator, not {@code .} or {@code ..}, no NUL. */
    private static void check(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\0")
                || name.length() > 255) {
            throw new ToolError("name must be a file name directly in the working directory (no '/', not '.' or "
                    + "'..', at most 255 characters), got '" + name + "'; the REST files API reaches subdirectories");
        }
    }

    private static SecureDirectoryStream<Path> open(Path root) throws IOException {
        DirectoryStream<Path> ds = java.nio.file.Files.newDirectoryStream(root);
        if (ds instanceof SecureDirectoryStream<Path> s) {
            return s;
        }
        ds.close();
        throw new IOException("this platform cannot open a directory without following links");
    }
}
