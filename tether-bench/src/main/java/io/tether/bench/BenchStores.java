package io.tether.bench;

import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import io.tether.store.sqlite.SqliteSessionStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/** The stores benchmarks compare, by the name used in {@code @Param}. */
final class BenchStores {
    private BenchStores() {
    }

    /** The PostgreSQL database of store {@code postgresql}: a URL as {@code store_url} takes. */
    static final String POSTGRES_URL_ENV = "TETHER_BENCH_STORE_URL";

    /**
     * {@code memory}, {@code sqlite} (synchronous FULL: survives power loss, the default),
     * {@code sqlite-normal} (synchronous NORMAL: survives a process crash) or
     * {@code postgresql} (the database at {@value #POSTGRES_URL_ENV}, emptied first; with the
     * server's default limit of 100,000 active sessions, so every create counts the active
     * sessions in the database, as a server does).
     */
    static SessionStore open(String name, Path dir) {
        return switch (name) {
            case "memory" -> new InMemorySessionStore();
            case "sqlite" -> SqliteSessionStore.builder().dataDirectory(dir).build();
            case "sqlite-normal" -> SqliteSessionStore.builder().dataDirectory(dir)
                    .synchronous(SqliteSessionStore.Synchronous.NORMAL).build();
            case "postgresql" -> openPostgres();
            default -> throw new IllegalArgumentException("unknown store " + name);
        };
    }

    private static SessionStore openPostgres() {
        String url = System.getenv(POSTGRES_URL_ENV);
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("store postgresql needs " + POSTGRES_URL_ENV
                    + "=postgresql://user@host:5432/db (a database the benchmark may empty)");
        }
        PostgresSessionStore store = PostgresSessionStore.builder().url(PostgresUrl.parse(url)).maxSessions(100_000)
                .build();
        try (Connection c = store.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("TRUNCATE sessions, executions");
        } catch (SQLException e) {
            store.close();
            throw new IllegalStateException("cannot empty " + store.url() + ": " + e.getMessage(), e);
        }
        return store;
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
