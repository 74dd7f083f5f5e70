package io.tether.store.postgres;

import static io.tether.store.sqlite.TestSessions.T0;
import static io.tether.store.sqlite.TestSessions.active;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.ExecutionRecord;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.sqlite.TestExecutions;
import io.tether.testing.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the PostgreSQL store adds to the contract ({@code PostgresSessionStoreContractTest}):
 * several stores on one database, as several nodes have them, durability checked behind the
 * store's back, coalesced touches, and a password that never shows.
 */
class PostgresSessionStoreTest {
    private static PostgresServer server;
    private static String database;
    private final List<PostgresSessionStore> opened = new ArrayList<>();

    @BeforeAll
    static void database() {
        server = PostgresServer.shared();
        database = server.createDatabase(PostgresSessionStoreTest.class.getSimpleName());
    }

    @BeforeEach
    void empty() throws SQLException {
        open(PostgresSessionStore.builder()).close();
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("TRUNCATE sessions, executions, tokens");
        }
    }

    @AfterEach
    void closeAll() {
        opened.forEach(PostgresSessionStore::close);
    }

    private PostgresSessionStore open(PostgresSessionStore.Builder b) {
        PostgresSessionStore s = b.url(PostgresUrl.parse(server.url(database))).maximumPoolSize(8).build();
        opened.add(s);
        return s;
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = server.connect(database); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void limitsHoldAcrossNodesCreatingAtTheSameTime() throws Exception {
        PostgresSessionStore nodeA = open(PostgresSessionStore.builder().maxSessions(5).maxSessionsPerOwner(3));
        PostgresSessionStore nodeB = open(PostgresSessionStore.builder().maxSessions(5).maxSessionsPerOwner(3));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger refused = new AtomicInteger();
        List<Future<Boolean>> results = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                PostgresSessionStore node = i % 2 == 0 ? nodeA : nodeB;
                String id = "alice-" + i;
                results.add(pool.submit((Callable<Boolean>) () -> {
                    go.await();
                    try {
                        node.insert(active(id, "alice", T0));
                        return true;
                    } catch (TetherException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
                        assertThat(e.getMessage()).contains("owner 'alice' has 3 active sessions");
                        refused.incrementAndGet();
                        return false;
                    }
                }));
            }
            go.countDown();
            long created = 0;
            for (Future<Boolean> f : results) {
                created += f.get() ? 1 : 0;
            }
            assertThat(created).isEqualTo(3);
            assertThat(refused).hasValue(13);
        } finally {
            pool.shutdownNow();
        }
        assertThat(count("SELECT count(*) FROM sessions WHERE owner = 'alice'")).isEqualTo(3);

        nodeB.insert(active("bob-1", "bob", T0));
        nodeA.insert(active("bob-2", "bob", T0));
        assertThatThrownBy(() -> nodeB.insert(active("carol-1", "carol", T0)))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                .hasMessageContaining("5 active sessions in total, across every node");
        assertThat(nodeA.find("carol-1")).isEmpty();

        // An ended session no longer counts, whichever node ended it.
        Session bob1 = nodeA.find("bob-1").orElseThrow();
        nodeA.update(bob1.withEnd(SessionStatus.ENDED, io.tether.session.EndReason.MANUAL, T0.plusSeconds(1)));
        nodeB.insert(active("carol-1", "carol", T0));
        assertThat(count("SELECT count(*) FROM sessions WHERE status = 'active'")).isEqualTo(5);
    }

    @Test
    void anAcknowledgedWriteIsCommittedAndSeenByAnotherNode() throws Exception {
        PostgresSessionStore nodeA = open(PostgresSessionStore.builder());
        PostgresSessionStore nodeB = open(PostgresSessionStore.builder());
        Session s = active("s-durable");

        nodeA.insert(s);
        assertThat(count("SELECT count(*) FROM sessions WHERE id = 's-durable' AND version = 1")).isEqualTo(1);
        Session v2 = s.withState(Map.of("x", 1L), JsonObjects.EMPTY, T0.plusSeconds(1));
        nodeA.update(v2);

        assertThat(count("SELECT version FROM sessions WHERE id = 's-durable'")).isEqualTo(2);
        assertThat(nodeB.find("s-durable")).contains(v2);
        // Another node's stale update is refused: versions guard against two writers.
        assertThatThrownBy(() -> nodeB.update(s.withState(Map.of("y", 2L), JsonObjects.EMPTY, T0)))
                .hasMessageContaining("version conflict");
    }

    @Test
    void touchesAreCoalescedIntoOneRowWritePerFlushAndOtherNodesSeeThemAfterIt() throws Exception {
        PostgresSessionStore nodeA = open(PostgresSessionStore.builder().activityFlushInterval(Duration.ofHours(1)));
        PostgresSessionStore nodeB = open(PostgresSessionStore.builder());
        nodeA.insert(active("hot"));

        for (int i = 1; i <= 10_000; i++) {
            nodeA.recordActivity("hot", T0.plusMillis(i), i);
        }

        assertThat(nodeA.find("hot").orElseThrow().interactionCount()).isEqualTo(10_000);
        assertThat(nodeB.find("hot").orElseThrow().interactionCount()).isZero();
        nodeA.flush();
        assertThat(nodeA.activityUpdatesCommitted()).isEqualTo(1);
        Session seen = nodeB.find("hot").orElseThrow();
        assertThat(seen.interactionCount()).isEqualTo(10_000);
        assertThat(seen.lastActivityAt()).isEqualTo(T0.plusMillis(10_000));
    }

    @Test
    void activityIsWrittenWithinTheFlushIntervalAndAtClose() throws Exception {
        PostgresSessionStore timed = open(PostgresSessionStore.builder().activityFlushInterval(Duration.ofMillis(20)));
        timed.insert(active("s-timed"));
        timed.recordActivity("s-timed", T0.plusSeconds(3), 2);

        assertThat(io.tether.store.sqlite.TestSessions.eventually(Duration.ofSeconds(10),
                () -> timed.activityUpdatesCommitted() == 1)).isTrue();

        PostgresSessionStore slow = open(PostgresSessionStore.builder().activityFlushInterval(Duration.ofHours(1)));
        slow.recordActivity("s-timed", T0.plusSeconds(9), 7);
        slow.close();
        assertThat(count("SELECT interaction_count FROM sessions WHERE id = 's-timed'")).isEqualTo(7);
        assertThatThrownBy(() -> slow.find("s-timed")).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SHUTTING_DOWN));
    }

    @Test
    void executionsAreSeenByOtherNodesAtOnceAndRichOutputsRoundTrip() {
        PostgresSessionStore nodeA = open(PostgresSessionStore.builder());
        PostgresSessionStore nodeB = open(PostgresSessionStore.builder());
        ExecutionRecord rich = TestExecutions.rich("s1", 1);

        nodeA.recordExecution(rich, 10);

        assertThat(nodeB.findExecution("s1", 1)).contains(rich);
        for (long n = 2; n <= 5; n++) {
            nodeA.recordExecution(TestExecutions.ok("s1", n), 2);
        }
        assertThat(nodeB.listExecutions("s1", Long.MAX_VALUE, 10)).extracting(ExecutionRecord::number)
                .containsExactly(5L, 4L);
        // Writing the same number again replaces it (a retried write leaves one row).
        nodeA.recordExecution(TestExecutions.ok("s1", 5), 2);
        assertThat(nodeB.listExecutions("s1", Long.MAX_VALUE, 10)).hasSize(2);
    }

    @Test
    void aNulCharacterInCodeOrOutputIsKeptAsTheReplacementCharacter() {
        PostgresSessionStore store = open(PostgresSessionStore.builder());
        ExecutionRecord full = TestExecutions.full("s-nul", 1);
        assertThat(full.result().stdout()).contains("\u0000");

        store.recordExecution(full, 10);

        ExecutionRecord read = store.findExecution("s-nul", 1).orElseThrow();
        assertThat(read.result().stdout()).isEqualTo(full.result().stdout().replace('\u0000', '\uFFFD'));
        assertThat(read.code()).isEqualTo(full.code().replace('\u0000', '\uFFFD'));
        assertThat(read.result().result()).isEqualTo(full.result().result());
        assertThat(read.result().error()).isEqualTo(full.result().error());
    }

    @Test
    void thePasswordNeverAppearsInErrorsOrNames() {
        String secret = "s3cr3t-pa55word";
        PostgresUrl unreachable = PostgresUrl.parse("postgresql://tether:" + secret + "@127.0.0.1:1/tether");

        assertThatThrownBy(() -> PostgresSessionStore.builder().url(unreachable)
                .connectionTimeout(Duration.ofMillis(500)).build())
                .isInstanceOfSatisfying(TetherException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE);
                    assertThat(e.getMessage()).contains("postgresql://tether@127.0.0.1:1/tether")
                            .doesNotContain(secret);
                    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
                    }
                });
        PostgresSessionStore store = open(PostgresSessionStore.builder());
        PostgresSessionStore withPassword = PostgresSessionStore.builder()
                .url(PostgresUrl.parse(server.url(database)).withPassword(secret)).build();
        opened.add(withPassword);
        assertThat(withPassword.toString()).doesNotContain(secret);
        assertThat(withPassword.url().toString()).doesNotContain(secret);
        assertThat(store.toString()).contains(database);
    }

    @Test
    void aDatabaseOfAnotherApplicationOrANewerTetherIsRefused() throws Exception {
        String foreign = server.createDatabase("foreign");
        try (Connection c = server.connect(foreign); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE sessions (id TEXT)");
        }
        assertThatThrownBy(() -> PostgresSessionStore.builder().url(PostgresUrl.parse(server.url(foreign))).build())
                .hasMessageContaining("not a Tether store");
        try (Connection c = server.connect(foreign); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT to_regclass('tether_schema') IS NULL")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("nothing created").isTrue();
        }

        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tether_schema (version, description) VALUES (" + (PostgresSchema.latest() + 1)
                    + ", 'from the future')");
        }
        try {
            assertThatThrownBy(() -> open(PostgresSessionStore.builder()))
                    .hasMessageContaining("written by a newer Tether");
        } finally {
            try (Connection c = server.connect(database); Statement s = c.createStatement()) {
                s.execute("DELETE FROM tether_schema WHERE version > " + PostgresSchema.latest());
            }
        }
    }

    @Test
    void nodesStartingTogetherMigrateOnce() throws Exception {
        String fresh = server.createDatabase("fresh");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<PostgresSessionStore>> starts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                starts.add(pool.submit(() -> PostgresSessionStore.builder().url(PostgresUrl.parse(server.url(fresh)))
                        .maximumPoolSize(2).build()));
            }
            for (Future<PostgresSessionStore> f : starts) {
                opened.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = server.connect(fresh); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*), max(version) FROM tether_schema")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(PostgresSchema.latest());
            assertThat(rs.getInt(2)).isEqualTo(PostgresSchema.latest());
        }
    }
}
