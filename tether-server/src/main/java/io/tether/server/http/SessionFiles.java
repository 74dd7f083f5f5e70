package io.tether.server.http;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
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
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;

/**
 * Files in a session's working directory: list, download, upload, delete. A path is a
 * list of plain names below the directory: {@code ..}, {@code .}, empty names, NUL and
 * backslashes are refused, and so is any path that passes through a symbolic link.
 *
 * <p>Session code makes links and renames its files while a request runs, so a path is never
 * handed to the operating system whole (a check of the path and then an open of it would let
 * a link swapped in between lead the server, which the sandbox does not confine, anywhere):
 * every name is looked up in the directory opened before it, without following a link
 * ({@code openat} with {@code O_NOFOLLOW}, through {@link SecureDirectoryStream}), starting
 * from the working directory. A link swapped in at any moment makes the request fail. What an
 * upload creates (a file, a missing directory) is made in the working directory itself under
 * a fresh name, handed to the session, then moved into place; uploads are bounded and land
 * atomically.
 */
final class SessionFiles {
    /** Listing stops here; a listing says when it was cut. */
    static final int MAX_LISTED = 10_000;
    private static final int MAX_DEPTH = 32;
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS);

    private final long maxFileBytes;
    /**
     * Makes what an upload created the session's own (see {@link io.tether.runtime.sandbox.Sandbox#handOver});
     * only ever given a fresh name directly in the working directory, never a path through session-made names.
     */
    private final Consumer<Path> handOver;

    SessionFiles(long maxFileBytes, Consumer<Path> handOver) {
        this.handOver = handOver;
        this.maxFileBytes = maxFileBytes;
    }

    void list(Exchange x, Path root) {
        List<Map<String, Object>> entries = new ArrayList<>();
        boolean[] cut = {false};
        try (SecureDirectoryStream<Path> top = open(root)) {
            walk(top, "", 1, entries, cut);
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot list the session's files: " + e.getMessage(), e);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("files", entries);
        m.put("truncated", cut[0]);
        x.send(200, m);
    }

    /** Lists {@code dir} depth first, below {@code prefix}; a directory that changes meanwhile is skipped. */
    private static void walk(SecureDirectoryStream<Path> dir, String prefix, int depth, List<Map<String, Object>> entries,
                             boolean[] cut) throws IOException {
        for (Path p : dir) {
            if (entries.size() >= MAX_LISTED) {
                cut[0] = true;
                return;
            }
            String name = p.getFileName().toString();
            BasicFileAttributes a = attributes(dir, name);
            if (a == null) {
                continue; // vanished while listing: the interpreter may be changing its files
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", prefix + name);
            m.put("type", a.isSymbolicLink() ? "symlink" : a.isDirectory() ? "directory" : a.isRegularFile() ? "file" : "other");
            m.put("size", a.isRegularFile() ? a.size() : null);
            m.put("modified_at", a.lastModifiedTime().toInstant().toString());
            entries.add(m);
            if (a.isDirectory() && depth < MAX_DEPTH) {
                try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS)) {
                    walk(sub, prefix + name + "/", depth + 1, entries, cut);
                } catch (FileSystemException e) {
                    // replaced by a link or a file, or removed, while listing: not followed
                }
            }
        }
    }

    void download(Exchange x, Path root, List<String> rel) {
        onExisting(root, rel, "read", (dir, name, a) -> {
            if (!a.isRegularFile()) {
                throw missing(rel, a.isDirectory() ? " is a directory" : "");
            }
            try (SeekableByteChannel in = openChanged(dir, name, READ, rel)) {
                long size = in.size();
                x.response.setStatus(200);
                x.response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                x.response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
                try (OutputStream out = Content.Sink.asOutputStream(x.response)) {
                    copy(in, out, size);
                } catch (IOException e) {
                    throw new Exchange.ClientGone(e);
                }
            }
        });
    }

    /** What {@link #onExisting} does with the entry it found. */
    @FunctionalInterface
    private interface EntryAction {
        void apply(SecureDirectoryStream<Path> dir, String name, BasicFileAttributes attributes) throws IOException;
    }

    /**
     * Finds the existing entry {@code rel} without following links on the way or at its end
     * and runs {@code action} on it in its opened directory: what reading and deleting share.
     * A missing entry is {@code not_found}, a link {@code invalid_request}, an entry swapped
     * for something else meanwhile a 4xx (see {@link #changed}); {@code verb} names the
     * operation in an unexpected failure.
     */
    private void onExisting(Path root, List<String> rel, String verb, EntryAction action) {
        check(rel);
        String name = rel.get(rel.size() - 1);
        try (SecureDirectoryStream<Path> top = open(root);
             Closer<SecureDirectoryStream<Path>> dir = new Closer<>(descend(top, root, rel, false), top)) {
            BasicFileAttributes a = attributes(dir.it, name);
            if (a == null) {
                throw missing(rel, "");
            }
            if (a.isSymbolicLink()) {
                throw throughLink(rel);
            }
            action.apply(dir.it, name, a);
        } catch (FileSystemException e) {
            throw changed(rel, e);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot " + verb + " " + String.join("/", rel) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Copies {@code size} bytes at most: what the file held when it was opened, though it may grow. */
    private static void copy(SeekableByteChannel in, OutputStream out, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long left = size;
        while (left > 0) {
            buf.clear().limit((int) Math.min(buf.capacity(), left));
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            out.write(buf.array(), 0, n);
            left -= n;
        }
    }

    void upload(Exchange x, Path root, List<String> rel) {
        check(rel);
        String name = rel.get(rel.size() - 1);
        long declared = x.request.getLength();
        if (declared > maxFileBytes) {
            throw tooLarge();
        }
        String tmp = ".upload-" + UUID.randomUUID() + ".part";
        try (SecureDirectoryStream<Path> top = open(root);
             Closer<SecureDirectoryStream<Path>> dir = new Closer<>(descend(top, root, rel, true), top)) {
            BasicFileAttributes existing = attributes(dir.it, name);
            if (existing != null && existing.isSymbolicLink()) {
                throw throughLink(rel);
            }
            if (existing != null && existing.isDirectory()) {
                throw TetherException.invalid(String.join("/", rel) + " is a directory");
            }
            long written = 0;
            boolean landed = false;
            try {
                try (SeekableByteChannel out = top.newByteChannel(Path.of(tmp), CREATE,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                     InputStream in = Content.Source.asInputStream(x.request)) {
                    handOver.accept(root.resolve(tmp));
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        written += n;
                        if (written > maxFileBytes) {
                            throw tooLarge();
                        }
                        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                        while (b.hasRemaining()) {
                            out.write(b);
                        }
                    }
                }
                // rename(2): atomic, replaces a file, never follows a link at either end
                top.move(Path.of(tmp), dir.it, Path.of(name));
                landed = true;
            } finally {
                if (!landed) {
                    deleteQuietly(top, tmp);
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", String.join("/", rel));
            m.put("size", written);
            x.send(existing != null ? 200 : 201, m);
        } catch (FileSystemException e) {
            throw changed(rel, e);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot write " + String.join("/", rel) + ": " + e.getMessage(), e);
        }
    }

    void delete(Exchange x, Path root, List<String> rel) {
        onExisting(root, rel, "delete", (dir, name, a) -> {
            try {
                if (a.isDirectory()) {
                    dir.deleteDirectory(Path.of(name));
                } else {
                    dir.deleteFile(Path.of(name)); // unlinkat: the name itself, whatever it became
                }
            } catch (DirectoryNotEmptyException e) {
                throw TetherException.invalid(String.join("/", rel) + " is a directory that is not empty; delete its files first");
            } catch (NoSuchFileException e) {
                throw missing(rel, "");
            }
        });
        x.sendEmpty(204);
    }

    /** The working directory, opened, for lookups relative to it. */
    private static SecureDirectoryStream<Path> open(Path root) throws IOException {
        DirectoryStream<Path> s = Files.newDirectoryStream(root);
        if (s instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        s.close();
        throw new TetherException(ErrorCode.INTERNAL, "this platform cannot open a file relative to a directory "
                + "(openat), which serving a session's files safely needs");
    }

    /**
     * The directory that holds {@code rel}'s last name: each directory before it opened in the
     * one before, never through a link. {@code create} makes missing directories (an upload).
     * Returns {@code top} itself for a name directly in the working directory.
     */
    private SecureDirectoryStream<Path> descend(SecureDirectoryStream<Path> top, Path root, List<String> rel,
                                                boolean create) throws IOException {
        SecureDirectoryStream<Path> dir = top;
        try {
            for (int i = 0; i < rel.size() - 1; i++) {
                String name = rel.get(i);
                BasicFileAttributes a = attributes(dir, name);
                if (a == null && create) {
                    makeDirectory(top, root, dir, name);
                } else if (a == null) {
                    throw missing(rel, "");
                } else if (a.isSymbolicLink()) {
                    throw throughLink(rel);
                } else if (!a.isDirectory()) {
                    throw create ? TetherException.invalid(String.join("/", rel.subList(0, i + 1)) + " is not a directory")
                            : missing(rel, "");
                }
                SecureDirectoryStream<Path> next = dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
                if (dir != top) {
                    dir.close();
                }
                dir = next;
            }
            return dir;
        } catch (FileSystemException e) {
            if (dir != top) {
                dir.close();
            }
            throw e instanceof NoSuchFileException && !create ? missing(rel, "") : changed(rel, e);
        } catch (RuntimeException e) {
            if (dir != top) {
                dir.close();
            }
            throw e;
        }
    }

    /** Makes {@code name} in {@code dir}: in the working directory under a fresh name, handed over, moved in. */
    private void makeDirectory(SecureDirectoryStream<Path> top, Path root, SecureDirectoryStream<Path> dir, String name)
            throws IOException {
        String fresh = ".mkdir-" + UUID.randomUUID();
        Files.createDirectory(root.resolve(fresh)); // in the working directory: no name of the session's on the way
        try {
            handOver.accept(root.resolve(fresh));
            top.move(Path.of(fresh), dir, Path.of(name));
        } catch (IOException | RuntimeException e) {
            // made meanwhile by the session: the caller opens whatever is there now, never through a link
            deleteQuietly(top, fresh);
        }
    }

    /** Its attributes, the name itself (a link is not followed); null when there is none. */
    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, String name) throws IOException {
        try {
            return dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static SeekableByteChannel openChanged(SecureDirectoryStream<Path> dir, String name, Set<OpenOption> options,
                                                   List<String> rel) throws IOException {
        try {
            return dir.newByteChannel(Path.of(name), options);
        } catch (FileSystemException e) {
            throw changed(rel, e);
        }
    }

    private static void deleteQuietly(SecureDirectoryStream<Path> dir, String name) {
        try {
            BasicFileAttributes a = attributes(dir, name);
            if (a != null && a.isDirectory()) {
                dir.deleteDirectory(Path.of(name));
            } else if (a != null) {
                dir.deleteFile(Path.of(name));
            }
        } catch (IOException e) {
            // the working directory goes away with the session anyway
        }
    }

    /** Refuses names that could leave the directory. */
    static void check(List<String> rel) {
        if (rel.isEmpty()) {
            throw TetherException.invalid("a file path is needed after /files/");
        }
        for (String name : rel) {
            if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0
                    || name.indexOf('\\') >= 0 || name.indexOf('/') >= 0) {
                throw TetherException.invalid("file path " + String.join("/", rel) + " is refused: '" + name
                        + "' is not a plain file name (no '..', '.', '/', '\\\\' or NUL)");
            }
            if (name.getBytes(StandardCharsets.UTF_8).length > 255) { // NAME_MAX counts bytes, not characters
                throw TetherException.invalid("file name '" + name.substring(0, Math.min(20, name.length()))
                        + "…' is longer than 255 bytes in UTF-8");
            }
        }
    }

    private TetherException tooLarge() {
        return new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "the file is larger than " + maxFileBytes
                + " bytes (setting max_file_bytes)");
    }

    private static TetherException missing(List<String> rel, String why) {
        return new TetherException(ErrorCode.NOT_FOUND, "no file " + String.join("/", rel) + why);
    }

    private static TetherException throughLink(List<String> rel) {
        return TetherException.invalid("file path " + String.join("/", rel)
                + " passes through a symbolic link; links are never followed");
    }

    /** A name became a link, a file or nothing between its lookup and its use: the session changed it. */
    private static TetherException changed(List<String> rel, FileSystemException e) {
        return TetherException.invalid("file path " + String.join("/", rel) + " changed while it was used (a "
                + "symbolic link or a file took a directory's place, or it was removed); links are never followed");
    }

    /** Closes a directory unless it is {@code keep} (the working directory, closed by its own try). */
    private record Closer<T extends DirectoryStream<?>>(T it, T keep) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (it != keep) {
                it.close();
            }
        }
    }
}
