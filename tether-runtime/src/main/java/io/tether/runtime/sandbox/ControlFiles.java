package io.tether.runtime.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes cgroup control files. A control file takes one value per
 * {@code write(2)} and reports a refused value as the error of that call, so a value is
 * written whole, without creating or truncating anything.
 */
final class ControlFiles {
    static final String PROCS = "cgroup.procs";

    private ControlFiles() {
    }

    static void write(Path file, String value) throws IOException {
        Files.write(file, value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
    }

    /** The processes listed in {@code dir/cgroup.procs}; empty when the directory is gone. */
    static List<Long> pids(Path dir) throws IOException {
        String text;
        try {
            text = Files.readString(dir.resolve(PROCS), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Long> pids = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                if (i > start) {
                    pids.add(Long.parseLong(text, start, i, 10));
                }
                start = i + 1;
            }
        }
        if (start < text.length()) {
            pids.add(Long.parseLong(text, start, text.length(), 10));
        }
        return pids;
    }

    /** The whitespace-separated words of a file such as {@code cgroup.subtree_control}. */
    static Set<String> words(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        return text.isEmpty() ? Set.of() : Set.of(text.split("\\s+"));
    }

    static long readLong(Path file) throws IOException {
        return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).strip());
    }

    /** The value of {@code key} in a flat-keyed file such as {@code cpu.stat} ("key value" lines). */
    static long readKey(Path file, String key) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            if (line.startsWith(key) && line.length() > key.length() && line.charAt(key.length()) == ' ') {
                return Long.parseLong(line.substring(key.length() + 1).strip());
            }
        }
        throw new IOException(file + " has no " + key);
    }

    /** Removes a cgroup directory (rmdir; its control files go with it). Gone already is fine. */
    static void removeDirectory(Path dir) throws IOException {
        try {
            Files.delete(dir);
        } catch (NoSuchFileException e) {
            return; // removed before: closing twice or a stale group someone else removed
        }
    }
}
