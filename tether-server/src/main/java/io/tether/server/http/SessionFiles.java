package io.tether.server.http;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;

/**
 * Files in a session's working directory: list, download, upload, delete. A path is a
 * list of plain names below the directory: {@code ..}, {@code .}, empty names, NUL and
 * backslashes are refused, and so is any path that passes through a symbolic link (the
 * interpreter can make links, so a link pointing out of the directory must never be
 * followed). Uploads are bounded and land atomically.
 */
final class SessionFiles {
    /** Listing stops here; a listing says when it was cut. */
    static final int MAX_LISTED = 10_000;
    private static final int MAX_DEPTH = 32;

    private final long maxFileBytes;
    /** Makes what an upload created the session's own (see {@link io.tether.runtime.sandbox.Sandbox#handOver}). */
    private final Consumer<Path> handOver;

    SessionFiles(long maxFileBytes, Consumer<Path> handOver) {
        this.handOver = handOver;
        this.maxFileBytes = maxFileBytes;
    }

    void list(Exchange x, Path root) {
        List<Map<String, Object>> entries = new ArrayList<>();
        boolean[] cut = {false};
        try (Stream<Path> walk = Files.walk(root, MAX_DEPTH, new FileVisitOption[0])) {
            walk.skip(1).forEach(p -> {
                if (entries.size() >= MAX_LISTED) {
                    cut[0] = true;
                    return;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("path", root.relativize(p).toString());
                    m.put("type", a.isSymbolicLink() ? "symlink" : a.isDirectory() ? "directory" : a.isRegularFile() ? "file" : "other");
                    m.put("size", a.isRegularFile() ? a.size() : null);
                    m.put("modified_at", a.lastModifiedTime().toInstant().toString());
                    entries.add(m);
                } catch (IOException e) {
                    // vanished while listing: the interpreter may be changing its files
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot list the session's files: " + e.getMessage(), e);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", entries);
        m.put("truncated", cut[0]);
        x.send(200, m);
    }

    void download(Exchange x, Path root, List<String> rel) {
        Path file = resolve(root, rel, false);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw missing(rel, Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS) ? " is a directory" : "");
        }
        try (InputStream in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = Files.size(file);
            x.response.setStatus(200);
            x.response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            x.response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
            try (OutputStream out = Content.Sink.asOutputStream(x.response)) {
                in.transferTo(out);
            } catch (IOException e) {
                throw new Exchange.ClientGone(e);
            }
        } catch (NoSuchFileException e) {
            throw missing(rel, "");
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot read " + String.join("/", rel) + ": " + e.getMessage(), e);
        }
    }

    void upload(Exchange x, Path root, List<String> rel) {
        Path file = resolve(root, rel, true);
        long declared = x.request.getLength();
        if (declared > maxFileBytes) {
            throw tooLarge();
        }
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            throw TetherException.invalid(String.join("/", rel) + " is a directory");
        }
        Path tmp = null;
        try {
            Files.createDirectories(file.getParent());
            resolve(root, rel, true); // the directories just made, checked again for links
            for (Path d = file.getParent(); d.startsWith(root) && !d.equals(root); d = d.getParent()) {
                handOver.accept(d);
            }
            boolean existed = Files.exists(file, LinkOption.NOFOLLOW_LINKS);
            tmp = Files.createTempFile(file.getParent(), ".upload-", ".part");
            long written = 0;
            try (InputStream in = Content.Source.asInputStream(x.request);
                 OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    written += n;
                    if (written > maxFileBytes) {
                        throw tooLarge();
                    }
                    out.write(buf, 0, n);
                }
            }
            handOver.accept(tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", String.join("/", rel));
            m.put("size", written);
            x.send(existed ? 200 : 201, m);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot write " + String.join("/", rel) + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // the directory goes away with the session anyway
                }
            }
        }
    }

    void delete(Exchange x, Path root, List<String> rel) {
        Path file = resolve(root, rel, false);
        try {
            if (!Files.deleteIfExists(file)) {
                throw missing(rel, "");
            }
        } catch (DirectoryNotEmptyException e) {
            throw TetherException.invalid(String.join("/", rel) + " is a directory that is not empty; delete its files first");
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot delete " + String.join("/", rel) + ": " + e.getMessage(), e);
        }
        x.sendEmpty(204);
    }

    /**
     * The file {@code rel} names below {@code root}; refuses names that could leave it and
     * paths through a symbolic link. Only the last name may be missing ({@code forWrite}
     * allows missing directories too).
     */
    static Path resolve(Path root, List<String> rel, boolean forWrite) {
        if (rel.isEmpty()) {
            throw TetherException.invalid("a file path is needed after /files/");
        }
        Path p = root;
        for (int i = 0; i < rel.size(); i++) {
            String name = rel.get(i);
            if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0
                    || name.indexOf('\\') >= 0 || name.indexOf('/') >= 0) {
                throw TetherException.invalid("file path " + String.join("/", rel) + " is refused: '" + name
                        + "' is not a plain file name (no '..', '.', '/', '\\\\' or NUL)");
            }
            if (name.length() > 255) {
                throw TetherException.invalid("file name '" + name.substring(0, 20) + "…' is longer than 255 characters");
            }
            p = p.resolve(name);
            if (Files.isSymbolicLink(p)) {
                throw TetherException.invalid("file path " + String.join("/", rel)
                        + " passes through a symbolic link; links are never followed");
            }
            if (i < rel.size() - 1 && !forWrite && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw missing(rel, "");
            }
        }
        if (!p.normalize().startsWith(root)) {
            throw TetherException.invalid("file path " + String.join("/", rel) + " leaves the session's directory");
        }
        return p;
    }

    private TetherException tooLarge() {
        return new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "the file is larger than " + maxFileBytes
                + " bytes (setting max_file_bytes)");
    }

    private static TetherException missing(List<String> rel, String why) {
        return new TetherException(ErrorCode.NOT_FOUND, "no file " + String.join("/", rel) + why);
    }

}
