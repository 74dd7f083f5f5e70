package io.tether.bench;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.store.sqlite.SqliteSessionStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The retention purge on a big SQLite store: fills a store file with N sessions that ended
 * longer than the retention ago (one kept execution each) and 10,000 active ones, then
 * times {@link SessionManager#purgeEnded()} (synchronous FULL, the default) while one thread
 * keeps creating and ending sessions, whose latency shows what the purge costs other writes.
 *
 * <pre>java -cp tether-bench/target/benchmarks.jar io.tether.bench.PurgeHarness [N] [directory]</pre>
 *
 * The rows are bulk-inserted with plain SQL into a file the store created (its schema), so
 * the setup takes seconds, not the hours N group commits would.
 */
public final class PurgeHarness {
    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");
    private static final int ACTIVE = 10_000;

    private PurgeHarness() {
    }

    private static final String USAGE = """
            usage: ./tether purge-bench [N] [DIRECTORY]
              the retention purge on an SQLite store of N ended sessions (default 1000000),
              in DIRECTORY (default: a temporary one, deleted after)
            """;

    public static void main(String[] args) throws Exception {
        Usage.run(args, USAGE, PurgeHarness::purge);
    }

    private static void purge(String[] args) throws Exception {
        Usage.rejectOptions(args);
        if (args.length > 2) {
            throw new Usage.BadArgument("at most two arguments, N and DIRECTORY");
        }
        int n = args.length > 0 ? Usage.wholeNumber("N", args[0], 1) : 1_000_000;
        Path dir = args.length > 1 ? Files.createDirectories(Path.of(args[1])) : BenchStores.tempDir();
        try {
            Path file = dir.resolve(SqliteSessionStore.FILE_NAME);
            SqliteSessionStore.builder().file(file).build().close();
            long filled = System.nanoTime();
            fill(file, n);
            System.out.printf(Locale.ROOT, "filled %,d ended sessions + %,d executions + %,d active in %.1f s; "
                    + "file %,d MB; java %s%n", n, n, ACTIVE, seconds(System.nanoTime() - filled),
                    Files.size(file) >> 20, Runtime.version());

            SessionManager manager = SessionManager.builder()
                    .store(SqliteSessionStore.builder().file(file).build())
                    .clock(InstantSource.fixed(NOW)).reaperInterval(Duration.ZERO).purgeInterval(Duration.ZERO)
                    .build().start();
            List<Long> quiet = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                long began = System.nanoTime();
                manager.end(manager.create(SessionSpec.of("bystander")).id(), EndReason.MANUAL);
                quiet.add(System.nanoTime() - began);
            }
            AtomicBoolean purging = new AtomicBoolean(true);
            List<Long> latencies = new ArrayList<>();
            Thread writes = Thread.ofPlatform().name("writes").start(() -> {
                while (purging.get()) {
                    long began = System.nanoTime();
                    Session s = manager.create(SessionSpec.of("bystander"));
                    manager.end(s.id(), EndReason.MANUAL);
                    latencies.add(System.nanoTime() - began);
                }
            });
            long began = System.nanoTime();
            int purged = manager.purgeEnded();
            long took = System.nanoTime() - began;
            purging.set(false);
            writes.join();
            manager.close();

            System.out.printf(Locale.ROOT, "purged %,d sessions in %.1f s (%,.0f sessions/s, batches of 1000)%n",
                    purged, seconds(took), purged / seconds(took));
            System.out.println("create+end pairs before the purge: " + summary(quiet));
            System.out.println("create+end pairs during the purge: " + summary(latencies));
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
                System.out.printf(Locale.ROOT, "left: %,d sessions (%,d active), %,d executions%n",
                        count(s, "SELECT count(*) FROM sessions"),
                        count(s, "SELECT count(*) FROM sessions WHERE status = 'active'"),
                        count(s, "SELECT count(*) FROM executions"));
            }
        } finally {
            if (args.length <= 1) {
                BenchStores.delete(dir);
            }
        }
    }

    /** N sessions ended 60 to 90 days before {@link #NOW}, one execution each, and the active ones. */
    private static void fill(Path file, int n) throws Exception {
        long ended = NOW.minus(Duration.ofDays(90)).toEpochMilli();
        long spread = Duration.ofDays(30).toMillis() / Math.max(1, n);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("BEGIN");
            try (PreparedStatement ps = c.prepareStatement("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                    INSERT INTO sessions (id, owner, session_key, runtime, status, created_at, last_activity_at,
                        ended_at, end_reason, idle_timeout_ms, max_lifetime_ms, interaction_count, data, metadata,
                        node, version)
                    SELECT printf('ended-%09d', i), 'owner-' || (i % 100), NULL, 'python', 'ended',
                        ?2 + i * ?3 - 60000, ?2 + i * ?3 - 1000, ?2 + i * ?3, 'manual', 1800000, NULL, 1,
                        '{}', '{"team":"bench"}', 'local', 2 FROM n""")) {
                ps.setInt(1, n);
                ps.setLong(2, ended);
                ps.setLong(3, spread);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO executions (session_id, number, code, status, started_at, ended_at, duration_nanos,
                        stdout, stderr, result, error_name, error_value, error_traceback, truncated)
                    SELECT id, 1, 'print(21 * 2)', 'ok', ended_at - 2000, ended_at - 1000, 1000000, '42' || char(10),
                        '', '{}', NULL, NULL, NULL, 0 FROM sessions WHERE status = 'ended'""")) {
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                    INSERT INTO sessions (id, owner, session_key, runtime, status, created_at, last_activity_at,
                        ended_at, end_reason, idle_timeout_ms, max_lifetime_ms, interaction_count, data, metadata,
                        node, version)
                    SELECT printf('active-%09d', i), 'owner-' || (i % 100), NULL, 'none', 'active', ?2, ?2, NULL,
                        NULL, NULL, NULL, 0, '{}', '{}', 'local', 1 FROM n""")) {
                ps.setInt(1, ACTIVE);
                ps.setLong(2, ended);
                ps.executeUpdate();
            }
            s.execute("COMMIT");
            s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    private static String summary(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return String.format(Locale.ROOT, "%,d, median %.1f ms, p99 %.1f ms, max %.1f ms", sorted.size(),
                millis(sorted.get(sorted.size() / 2)), millis(sorted.get((int) (sorted.size() * 0.99))),
                millis(sorted.get(sorted.size() - 1)));
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double millis(long nanos) {
        return nanos / (double) TimeUnit.MILLISECONDS.toNanos(1);
    }
}
