package io.tether.bench;

import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionStore;
import io.tether.store.sqlite.SqliteSessionStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The stores benchmarks compare, by the name used in {@code @Param}. */
final class BenchStores {
    private BenchStores() {
    }

    /**
     * {@code memory}, {@code sqlite} (synchronous FULL: survives power loss, the default) or
     * {@code sqlite-normal} (synchronous NORMAL: survives a process crash).
     */
    static SessionStore open(String name, Path dir) {
        return switch (name) {
            case "memory" -> new InMemorySessionStore();
            case "sqlite" -> SqliteSessionStore.builder().dataDirectory(dir).build();
            case "sqlite-normal" -> SqliteSessionStore.builder().dataDirectory(dir)
                    .synchronous(SqliteSessionStore.Synchronous.NORMAL).build();
            default -> throw new IllegalArgumentException("unknown store " + name);
        };
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("tether-bench");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
