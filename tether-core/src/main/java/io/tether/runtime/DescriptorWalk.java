package io.tether.runtime;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks a directory tree through open directories ({@link SecureDirectoryStream}: {@code openat}
 * and {@code fstatat} relative to a directory descriptor), never through paths built from the
 * root. A tree deeper than {@code PATH_MAX} is walked like any other, and symbolic links are
 * never followed, not even one swapped in for a directory while the walk runs.
 *
 * <p>Depth-first. Each directory's entries are read in one go (their attributes with
 * {@code fstatat}), then its subdirectories are walked one after the other. At most
 * {@link #OPEN_LEVELS} directories below the root are open at once (two descriptors each,
 * JDK's doing): a deeper walk closes the ones above and reopens each on the way back up
 * through its child's {@code ..}, checked by file key, so a hostile tree cannot use up the
 * process's descriptors.
 *
 * <p>A tree that changes while it is walked is walked as found: an entry removed or replaced
 * by a non-directory between being listed and being opened is skipped. Where a reopened
 * {@code ..} is no longer the directory the walk left (a directory on the way was moved), the
 * walk stops with {@link TreeMovedException}.
 *
 * @implNote The JDK opens a directory relative to its parent with {@code O_RDONLY|O_NOFOLLOW}
 *     but without {@code O_DIRECTORY}: an entry listed as a directory and replaced by a FIFO
 *     before it is opened blocks the open until something writes to that FIFO. Callers that
 *     walk trees other code may change bound the walk from outside.
 */
final class DescriptorWalk {
    /** Directories below the root kept open at once; 64 descriptors. */
    static final int OPEN_LEVELS = 32;

    /** What the walk does with what it finds. */
    interface Visitor {
        /**
         * One entry of a directory being walked.
         *
         * @param dir   the open directory that holds it
         * @param name  its name in {@code dir}
         * @param attrs its attributes, symbolic links not followed
         * @return whether to walk into it (only asked of directories that matter: ignored for
         *     other entries)
         */
        boolean visit(SecureDirectoryStream<Path> dir, Path name, BasicFileAttributes attrs) throws IOException;

        /** Everything under the directory {@code name} of {@code parent} was visited. */
        default void leave(SecureDirectoryStream<Path> parent, Path name) throws IOException {
        }
    }

    /** The walk climbed back through {@code ..} and found another directory than the one it left. */
    static final class TreeMovedException extends IOException {
        TreeMovedException(String message) {
            super(message);
        }
    }

    private final Path dotDot;
    private final Visitor visitor;

    private DescriptorWalk(Path dotDot, Visitor visitor) {
        this.dotDot = dotDot;
        this.visitor = visitor;
    }

    /**
     * Walks everything under the directory {@code root} (the root itself is not visited).
     *
     * @return {@code false}, having visited nothing, when the platform has no
     *     {@link SecureDirectoryStream}
     * @throws IOException when a directory cannot be opened or read (for example permission
     *     denied), or {@link TreeMovedException}
     */
    static boolean walk(Path root, Visitor visitor) throws IOException {
        try (DirectoryStream<Path> opened = Files.newDirectoryStream(root)) {
            if (!(opened instanceof SecureDirectoryStream<Path> top)) {
                return false;
            }
            new DescriptorWalk(root.getFileSystem().getPath(".."), visitor).run(top);
            return true;
        }
    }

    /** A directory on the current path from the root. */
    private static final class Frame {
        final Path name; // in its parent; null for the root
        final ArrayDeque<Path> subdirs = new ArrayDeque<>();
        SecureDirectoryStream<Path> stream; // null while closed to save descriptors
        Object key; // its file key, taken when it is closed

        Frame(Path name, SecureDirectoryStream<Path> stream) {
            this.name = name;
            this.stream = stream;
        }
    }

    private void run(SecureDirectoryStream<Path> top) throws IOException {
        Frame root = new Frame(null, top);
        List<Frame> path = new ArrayList<>();
        path.add(root);
        IOException failure = null;
        try {
            read(root);
            while (true) {
                Frame current = path.getLast();
                Path next = current.subdirs.poll();
                if (next != null) {
                    SecureDirectoryStream<Path> child = openChild(current.stream, next);
                    if (child != null) {
                        Frame f = new Frame(next, child);
                        path.add(f);
                        int above = path.size() - 1 - OPEN_LEVELS;
                        if (above >= 1) {
                            Frame far = path.get(above);
                            far.key = keyOf(far.stream);
                            closeStream(far);
                        }
                        read(f);
                    }
                } else if (current == root) {
                    return;
                } else {
                    path.removeLast();
                    Frame parent = path.getLast();
                    try {
                        if (parent.stream == null) {
                            parent.stream = climb(current.stream, parent.key);
                        }
                    } finally {
                        closeStream(current);
                    }
                    visitor.leave(parent.stream, current.name);
                }
            }
        } catch (IOException e) {
            failure = e;
            throw e;
        } finally {
            IOException closing = null;
            for (Frame f : path) {
                try {
                    if (f != root) {
                        closeStream(f);
                    }
                } catch (IOException e) {
                    if (failure != null) {
                        failure.addSuppressed(e);
                    } else if (closing == null) {
                        closing = e;
                    } else {
                        closing.addSuppressed(e);
                    }
                }
            }
            if (closing != null) {
                throw closing;
            }
        }
    }

    private void read(Frame f) throws IOException {
        try {
            for (Path entry : f.stream) {
                Path name = entry.getFileName();
                BasicFileAttributes attrs = attributes(f.stream, name);
                if (attrs != null && visitor.visit(f.stream, name, attrs) && attrs.isDirectory()) {
                    f.subdirs.add(name);
                }
            }
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
    }

    /** The attributes of {@code name} in {@code dir}, links not followed; {@code null} once it is gone. */
    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, Path name) throws IOException {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            return null; // removed since it was listed: it holds nothing any more
        }
    }

    /** Opens the subdirectory {@code name}; {@code null} when it is no longer a directory. */
    private static SecureDirectoryStream<Path> openChild(SecureDirectoryStream<Path> dir, Path name)
            throws IOException {
        try {
            return dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null; // removed, or replaced by a file, since it was listed
        } catch (FileSystemException e) {
            BasicFileAttributes now = attributes(dir, name);
            if (now == null || !now.isDirectory()) {
                return null; // replaced by a symbolic link (ELOOP with O_NOFOLLOW) since it was listed
            }
            throw e;
        }
    }

    /** Reopens the parent of {@code child}, which must still be the directory with {@code key}. */
    private SecureDirectoryStream<Path> climb(SecureDirectoryStream<Path> child, Object key) throws IOException {
        SecureDirectoryStream<Path> up = child.newDirectoryStream(dotDot, LinkOption.NOFOLLOW_LINKS);
        boolean same = false;
        try {
            same = key != null && key.equals(keyOf(up));
        } finally {
            if (!same) {
                up.close();
            }
        }
        if (!same) {
            throw new TreeMovedException("a directory was moved while the tree was walked");
        }
        return up;
    }

    private static Object keyOf(SecureDirectoryStream<Path> dir) throws IOException {
        return dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey();
    }

    private static void closeStream(Frame f) throws IOException {
        SecureDirectoryStream<Path> s = f.stream;
        if (s != null) {
            f.stream = null;
            s.close();
        }
    }
}
