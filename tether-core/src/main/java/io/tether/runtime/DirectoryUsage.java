package io.tether.runtime;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * How much a directory tree holds on disk, counted the way {@code du --apparent-size --bytes}
 * counts: the apparent size ({@code st_size}) of the directory itself and of every entry
 * under it, at any depth.
 *
 * <ul>
 *   <li>Symbolic links are never followed; a link counts as its own size (the length of its
 *       target's name).
 *   <li>A file with several hard links in the tree counts once (up to
 *       {@value #REMEMBERED_FILES} files remembered per measurement; beyond that a further link
 *       may count again: an overestimate, never an underestimate).
 *   <li>A tree deeper than {@code PATH_MAX} is measured like any other: the walk goes from
 *       open directory to open directory, never through a path built from the root
 *       (on platforms with a {@link SecureDirectoryStream}, such as Linux and macOS; elsewhere
 *       it walks paths and fails on such a tree).
 *   <li>Sparse files count with their apparent size, not the blocks they use.
 * </ul>
 *
 * <p>A tree that changes while it is measured is measured as found: a file created, grown or
 * removed in a directory already read is seen by the next measurement. Cost: opening and
 * reading each directory plus one {@code fstatat} per entry; measured here, 15 µs for an empty
 * directory and 2.5–4.7 ms for 1,000 files (see {@code docs/runtimes.md}).
 *
 * @implNote The JDK opens a directory without {@code O_DIRECTORY}: code that puts a FIFO
 *     where a directory was, between the directory being listed and being opened, makes the
 *     open block until something writes to that FIFO. Measure a tree such code can change on
 *     a thread that may block, and bound the wait (the session manager does).
 *
 * @param bytes       apparent bytes of the directory and everything under it
 * @param files       entries that are not directories (files, links, FIFOs, sockets…),
 *                    every hard link counted
 * @param directories directories under it, itself not counted
 */
public record DirectoryUsage(long bytes, long files, long directories) {
    /** Files whose identity a measurement remembers to count hard links once. */
    public static final int REMEMBERED_FILES = 1 << 16;
    private static final int ATTEMPTS = 3;

    /**
     * Measures {@code dir} and everything under it. Thread-safe; blocks while it reads.
     *
     * @throws java.nio.file.NoSuchFileException when {@code dir} does not exist
     * @throws IOException when part of the tree cannot be read (for example a directory its
     *     owner made unreadable), or when directories kept being moved during three attempts
     */
    public static DirectoryUsage measure(Path dir) throws IOException {
        BasicFileAttributes top = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!top.isDirectory()) {
            return new DirectoryUsage(top.size(), 1, 0);
        }
        for (int attempt = 1; ; attempt++) {
            Counter counter = new Counter(top.size());
            try {
                if (!DescriptorWalk.walk(dir, counter)) {
                    Files.walkFileTree(dir, counter.byPath(dir));
                }
                return counter.usage();
            } catch (DescriptorWalk.TreeMovedException e) {
                if (attempt == ATTEMPTS) {
                    throw new IOException("directories under " + dir + " kept being moved while it was measured ("
                            + ATTEMPTS + " attempts)", e);
                }
            }
        }
    }

    /** Adds up what a walk visits. */
    private static final class Counter implements DescriptorWalk.Visitor {
        private final Set<Object> seen = new HashSet<>();
        private long bytes;
        private long files;
        private long directories;

        Counter(long rootBytes) {
            this.bytes = rootBytes;
        }

        @Override
        public boolean visit(SecureDirectoryStream<Path> dir, Path name, BasicFileAttributes attrs) {
            add(attrs);
            return true;
        }

        void add(BasicFileAttributes attrs) {
            if (attrs.isDirectory()) {
                directories++;
                bytes += attrs.size();
                return;
            }
            files++;
            Object key = attrs.fileKey();
            if (key != null) {
                if (seen.contains(key)) {
                    return; // another hard link to a file already counted
                }
                if (seen.size() < REMEMBERED_FILES) {
                    seen.add(key);
                }
            }
            bytes += attrs.size();
        }

        DirectoryUsage usage() {
            return new DirectoryUsage(bytes, files, directories);
        }

        /** The same count through paths, where the platform offers nothing better. */
        SimpleFileVisitor<Path> byPath(Path root) {
            return new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    if (!d.equals(root)) {
                        add(attrs);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    add(attrs);
                    return FileVisitResult.CONTINUE;
                }
            };
        }
    }
}
