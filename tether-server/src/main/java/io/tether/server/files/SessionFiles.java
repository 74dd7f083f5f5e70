package io.tether.server.files;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.io.InputStream;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Files in a session's working directory — list, read, write, delete — for every server
 * surface that reaches them (the REST files API, the MCP file tools and resources, and the
 * files an MCP result links to). A path is a list of plain names below the directory:
 * {@code ..}, {@code .}, empty names, NUL and backslashes are refused, and so is any path that
 * passes through a symbolic link.
 *
 * <p>Session code makes links and renames its files while a request runs, so a path is never
 * handed to the operating system whole (a check of the path and then an open of it would let
 * a link swapped in between lead the server, which the sandbox does not confine, anywhere):
 * every name is looked up in the directory opened before it, without following a link
 * ({@code openat} with {@code O_NOFOLLOW}, through {@link SecureDirectoryStream}), starting
 * from the working directory. A link swapped in at any moment makes the operation fail. What a
 * write creates (a file, a missing directory) is made in the working directory itself under
 * a fresh name, handed to the session (so the sandbox's user owns it), then moved into place;
 * writes are bounded by {@code max_file_bytes} and land atomically.
 *
 * <p>Failures are {@link TetherException}s: {@code not_found} for a missing file,
 * {@code invalid_request} for a refused path or one the session changed meanwhile,
 * {@code payload_too_large} past {@code max_file_bytes}, {@code internal} otherwise.
 * Thread-safe (it holds no state but its settings).
 */
public final class SessionFiles {
    private static final int MAX_DEPTH = 32;
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS);

    private final long maxFileBytes;
    /**
     * Makes what a write created the session's own (see {@link io.tether.runtime.sandbox.Sandbox#handOver});
     * only ever given a fresh name directly in the working directory, never a path through session-made names.
     */
    private final Consumer<Path> handOver;

    /**
     * @param maxFileBytes the largest file a write takes ({@code max_file_bytes})
     * @param handOver makes a file or directory the server created in a working directory the session's own
     */
    public SessionFiles(long maxFileBytes, Consumer<Path> handOver) {
        this.handOver = handOver;
        this.maxFileBytes = maxFileBytes;
    }

    /** The largest file a write takes. */
    public long maxFileBytes() {
        return maxFileBytes;
    }

    /** One entry of a listing: its path below the working directory ({@code a/b.txt}). */
    public record Entry(String path, String type, Long size, Instant modifiedAt) {
    }

    /** A listing, depth first; {@code truncated} when it stopped at its limit. */
    public record Listing(List<Entry> entries, boolean truncated) {
    }

    /** What a write did: the bytes written, and whether it made the file (else it replaced one). */
    public record Written(long size, boolean created) {
    }

    /** Reads an opened file of {@code size} bytes (what it held when opened; it may grow). */
    @FunctionalInterface
    public interface Reader<T> {
        T read(SeekableByteChannel in, long size) throws IOException;
    }

    /**
     * Every entry below {@code root}, depth first, at most {@code max} of them and 32
     * directories deep; links are listed ({@code symlink}) and never followed, and a directory
     * that changes while it is listed is skipped.
     */
    public Listing list(Path root, int max) {
        List<Entry> entries = new ArrayList<>();
        boolean[] cut = {false};
        try (SecureDirectoryStream<Path> top = open(root)) {
            walk(top, "", 1, max, entries, cut);
        } catch (IOException | java.nio.file.DirectoryIteratorException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot list the session's files: " + e.getMessage(), e);
        }
        return new Listing(entries, cut[0]);
    }

    private static void walk(SecureDirectoryStream<Path> dir, String prefix, int depth, int max, List<Entry> entries,
                             boolean[] cut) throws IOException {
        for (Path p : dir) {
            if (entries.size() >= max) {
                cut[0] = true;
                return;
            }
            String name = p.getFileName().toString();
            BasicFileAttributes a = attributes(dir, name);
            if (a == null) {
                continue; // vanished while listing: the interpreter may be changing its files
            }
            entries.add(new Entry(prefix + name, a.isSymbolicLink() ? "symlink" : a.isDirectory() ? "directory"
                    : a.isRegularFile() ? "file" : "other", a.isRegularFile() ? a.size() : null,
                    a.lastModifiedTime().toInstant()));
            if (a.isDirectory() && depth < MAX_DEPTH) {
                try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS)) {
                    walk(sub, prefix + name + "/", depth + 1, max, entries, cut);
                } catch (FileSystemException e) {
                    // replaced by a link or a file, or removed, while listing: not followed
                }
            }
        }
    }

    /**
     * Opens the regular file {@code rel} and hands it to {@code reader}. An exception the
     * reader throws that is not an {@link IOException} passes through as it is.
     */
    public <T> T read(Path root, List<String> rel, Reader<T> reader) {
        return onExisting(root, rel, "read", (dir, name, a) -> {
            if (!a.isRegularFile()) {
                throw missing(rel, a.isDirectory() ? " is a directory" : "");
            }
            try (SeekableByteChannel in = openChanged(dir, name, READ, rel)) {
                return reader.read(in, in.size());
            }
        });
    }

    /** The first {@code max} bytes of the regular file {@code rel}, and one more when it has more. */
    public byte[] readBytes(Path root, List<String> rel, int max) {
        return read(root, rel, (in, size) -> {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(max + 1L, size + 1));
            while (buf.hasRemaining() && in.read(buf) > 0) {
                // fill up to the cap
            }
            return Arrays.copyOf(buf.array(), buf.position());
        });
    }

    /** {@link #write(Path, List, InputStream, long)} of bytes in hand. */
    public Written write(Path root, List<String> rel, byte[] content) {
        return write(root, rel, new java.io.ByteArrayInputStream(content), content.length);
    }

    /**
     * Writes {@code in} to {@code rel}, making missing directories and replacing a file of
     * that name; the file lands whole or not at all.
     *
     * @param declared the length the caller announced, or -1
     */
    public Written write(Path root, List<String> rel, InputStream in, long declared) {
        check(rel);
        String name = rel.get(rel.size() - 1);
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
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
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
            return new Written(written, existing == null);
        } catch (FileSystemException e) {
            throw changed(rel, e);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot write " + String.join("/", rel) + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the file or empty directory {@code rel} (a link itself, never what it points to). */
    public void delete(Path root, List<String> rel) {
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
            return null;
        });
    }

    /** What {@link #onExisting} does with the entry it found. */
    @FunctionalInterface
    private interface EntryAction<T> {
        T apply(SecureDirectoryStream<Path> dir, String name, BasicFileAttributes attributes) throws IOException;
    }

    /**
     * Finds the existing entry {@code rel} without following links on the way or at its end
     * and runs {@code action} on it in its opened directory: what reading and deleting share.
     * A missing entry is {@code not_found}, a link {@code invalid_request}, an entry swapped
     * for something else meanwhile a 4xx (see {@link #changed}); {@code verb} names the
     * operation in an unexpected failure.
     */
    private <T> T onExisting(Path root, List<String> rel, String verb, EntryAction<T> action) {
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
            return action.apply(dir.it, name, a);
        } catch (FileSystemException e) {
            throw changed(rel, e);
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot " + verb + " " + String.join("/", rel) + ": "
                    + e.getMessage(), e);
        }
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
     * one before, never through a link. {@code create} makes missing directories (a write).
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

    /** A {@code /}-separated path below the working directory ({@code data/in.csv}) as its names, checked. */
    public static List<String> path(String path) {
        List<String> rel = List.of(path.split("/", -1));
        check(rel);
        return rel;
    }

    /** Refuses names that could leave the directory. */
    public static void check(List<String> rel) {
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
