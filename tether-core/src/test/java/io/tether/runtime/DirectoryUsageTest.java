package io.tether.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Measuring (and deleting) working directories: every byte counted once, at any depth, links never followed. */
class DirectoryUsageTest {
    /** Deep enough that the deepest path (2 characters a level) is longer than Linux's PATH_MAX of 4096. */
    private static final int DEEP = 2_100;

    @TempDir
    Path tmp;

    private static long size(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
    }

    private static Path write(Path file, int bytes) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, new byte[bytes]);
    }

    @Test
    void anEmptyDirectoryHoldsOnlyItsOwnEntry() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("empty"));

        assertThat(DirectoryUsage.measure(dir)).isEqualTo(new DirectoryUsage(size(dir), 0, 0));
    }

    @Test
    void filesAtEveryDepthCountWithTheirApparentSize() throws IOException {
        Path dir = tmp.resolve("work");
        write(dir.resolve("top.bin"), 1_000);
        write(dir.resolve("a/one.bin"), 20_000);
        write(dir.resolve("a/b/c/two.bin"), 300_000);
        Files.createDirectories(dir.resolve("a/empty"));
        try (RandomAccessFile sparse = new RandomAccessFile(dir.resolve("a/b/sparse.bin").toFile(), "rw")) {
            sparse.setLength(64L << 20); // no blocks behind it: still 64 MiB by its apparent size
        }
        long dirs = size(dir) + size(dir.resolve("a")) + size(dir.resolve("a/b")) + size(dir.resolve("a/b/c"))
                + size(dir.resolve("a/empty"));

        assertThat(DirectoryUsage.measure(dir))
                .isEqualTo(new DirectoryUsage(dirs + 1_000 + 20_000 + 300_000 + (64L << 20), 4, 4));
    }

    @Test
    void symbolicLinksCountAsThemselvesAndAreNeverFollowed() throws IOException {
        Path outside = tmp.resolve("outside");
        Path bigFile = write(outside.resolve("big.bin"), 1 << 20);
        Path dir = Files.createDirectory(tmp.resolve("work"));
        Path toFile = Files.createSymbolicLink(dir.resolve("to-file"), bigFile);
        Path toDir = Files.createSymbolicLink(dir.resolve("to-dir"), outside);
        Path toParent = Files.createSymbolicLink(dir.resolve("loop"), dir);

        assertThat(DirectoryUsage.measure(dir))
                .isEqualTo(new DirectoryUsage(size(dir) + size(toFile) + size(toDir) + size(toParent), 3, 0));
    }

    @Test
    void aFileWithSeveralHardLinksCountsOnce() throws IOException {
        Path dir = tmp.resolve("work");
        Path file = write(dir.resolve("data.bin"), 50_000);
        Files.createLink(dir.resolve("again.bin"), file);
        Files.createDirectories(dir.resolve("sub"));
        Files.createLink(dir.resolve("sub/and-again.bin"), file);

        DirectoryUsage usage = DirectoryUsage.measure(dir);

        assertThat(usage.bytes()).isEqualTo(size(dir) + size(dir.resolve("sub")) + 50_000);
        assertThat(usage.files()).as("every link is an entry").isEqualTo(3);
    }

    @Test
    void aTreeDeeperThanPathMaxIsMeasuredAndDeletedWithoutLeakingDescriptors() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Path half = chain(tree, DEEP / 2);
        Path lower = Files.createDirectory(tmp.resolve("lower"));
        Path bottom = chain(lower, DEEP / 2);
        write(bottom.resolve("deep.bin"), 3_000);
        long lowerBytes;
        try (Stream<Path> all = Files.walk(lower.resolve("d"))) {
            lowerBytes = all.mapToLong(p -> sizeUnchecked(p)).sum();
        }
        Files.move(lower.resolve("d"), half.resolve("d"));
        long upperBytes; // the tree and its upper half, measured by path as far as paths reach
        try (Stream<Path> upper = Files.walk(tree, DEEP / 2)) {
            upperBytes = upper.mapToLong(p -> sizeUnchecked(p)).sum();
        }
        assertThatThrownBy(() -> {
            try (Stream<Path> all = Files.walk(tree)) {
                all.count();
            }
        }).as("the JDK's path-based walk cannot reach the bottom").hasRootCauseInstanceOf(FileSystemException.class);
        long descriptors = openDescriptors();

        DirectoryUsage usage = DirectoryUsage.measure(tree);

        assertThat(usage).isEqualTo(new DirectoryUsage(upperBytes + lowerBytes, 1, DEEP));
        assertThat(openDescriptors()).isEqualTo(descriptors);
        WorkDirectories.delete(tree);
        assertThat(Files.exists(tree, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(openDescriptors()).isEqualTo(descriptors);
    }

    @Test
    void climbingBackThroughADirectoryMovedAwayStopsTheWalk() throws IOException {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        Path bottom = chain(tree, DescriptorWalk.OPEN_LEVELS + 10);
        Files.createFile(bottom.resolve("f"));
        Path second = tree.resolve("d").resolve("d"); // closed to save descriptors by the time the walk is at the bottom
        AtomicInteger files = new AtomicInteger();

        assertThatThrownBy(() -> DescriptorWalk.walk(tree, new DescriptorWalk.Visitor() {
            @Override
            public boolean visit(SecureDirectoryStream<Path> dir, Path name, BasicFileAttributes attrs)
                    throws IOException {
                if (!attrs.isDirectory() && files.incrementAndGet() == 1) {
                    Files.move(second, tree.resolve("moved")); // its '..' is no longer the directory the walk left
                }
                return true;
            }
        })).isInstanceOf(DescriptorWalk.TreeMovedException.class);
        assertThat(DirectoryUsage.measure(tree).files()).as("measured again from the start").isEqualTo(1);
    }

    @Test
    void aMissingDirectoryIsAnError() {
        assertThatThrownBy(() -> DirectoryUsage.measure(tmp.resolve("gone"))).isInstanceOf(NoSuchFileException.class);
    }

    /** {@code levels} nested directories named {@code d} under {@code top}; returns the deepest. */
    private static Path chain(Path top, int levels) throws IOException {
        Path p = top;
        for (int i = 0; i < levels; i++) {
            p = Files.createDirectory(p.resolve("d"));
        }
        return p;
    }

    private static long sizeUnchecked(Path p) {
        try {
            return size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
