package io.tether.store.sqlite;

import static io.tether.store.sqlite.TestSessions.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.session.EndReason;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.InMemorySessionStore;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import io.tether.store.jdbc.ListQuery;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listing, counting and finding active sessions, checked against {@link InMemorySessionStore},
 * whose in-memory sort is the reference for list order and paging.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqliteListingTest {
    private static final List<String> OWNERS = List.of("alice", "bob", "carol");
    private static final List<String> RUNTIMES = List.of(Session.NO_RUNTIME, "python");
    private static final List<EndReason> REASONS = List.of(EndReason.MANUAL, EndReason.IDLE_TIMEOUT,
            EndReason.WORKER_CRASHED, EndReason.of("custom_reason"));

    private SqliteSessionStore store;
    private final InMemorySessionStore reference = new InMemorySessionStore();

    @BeforeAll
    void fill(@TempDir Path dir) {
        store = SqliteSessionStore.builder().dataDirectory(dir).build();
        Random random = new Random(42);
        for (int i = 0; i < 90; i++) {
            // Only 9 distinct creation times, so pages split runs of equal created_at.
            Session s = new Session(String.format("s%03d-%d", random.nextInt(1000), i),
                    OWNERS.get(random.nextInt(OWNERS.size())), null, RUNTIMES.get(random.nextInt(RUNTIMES.size())),
                    SessionStatus.ACTIVE, T0.plusSeconds(random.nextInt(9)), T0.plusSeconds(10), null, null,
                    Duration.ofMinutes(5), null, i, JsonObjects.EMPTY, Map.of("i", (long) i), null, 1);
            store.insert(s);
            if (random.nextInt(3) > 0) {
                SessionStatus terminal = SessionStatus.values()[1 + random.nextInt(3)];
                s = s.withEnd(terminal, REASONS.get(random.nextInt(REASONS.size())), T0.plusSeconds(60));
                store.update(s);
            }
            reference.insert(s);
        }
    }

    @AfterAll
    void close() {
        store.close();
    }

    @Test
    void everyFilterPagesLikeTheReference() {
        List<SessionQuery> queries = new ArrayList<>();
        for (String owner : Arrays.asList(null, "alice", "bob", "nobody")) {
            for (SessionStatus status : Arrays.asList(null, SessionStatus.ACTIVE, SessionStatus.ENDED)) {
                for (String runtime : Arrays.asList(null, "python")) {
                    queries.add(new SessionQuery(owner, status, runtime, 7, null));
                }
            }
        }
        for (SessionQuery first : queries) {
            assertThat(allPages(store, first)).as("pages of %s", first).isEqualTo(allPages(reference, first));
        }
    }

    @Test
    void pagingVisitsEverySessionOnceNewestFirst() {
        List<Page<Session>> pages = allPages(store, SessionQuery.all().withLimit(7));

        List<Session> seen = pages.stream().flatMap(p -> p.items().stream()).toList();
        assertThat(pages).hasSizeGreaterThan(2);
        assertThat(seen).hasSize(90).doesNotHaveDuplicates();
        for (int i = 1; i < seen.size(); i++) {
            Session prev = seen.get(i - 1);
            Session next = seen.get(i);
            assertThat(prev.createdAt().isAfter(next.createdAt())
                    || prev.createdAt().equals(next.createdAt()) && prev.id().compareTo(next.id()) > 0)
                    .as("%s before %s", prev.id(), next.id()).isTrue();
        }
        assertThat(pages.get(pages.size() - 1).hasNext()).isFalse();
    }

    @Test
    void aPageExactlyAsLongAsTheRestHasNoNextCursor() {
        int all = (int) store.counts().total();

        Page<Session> page = store.list(SessionQuery.all().withLimit(all));

        assertThat(page.items()).hasSize(all);
        assertThat(page.nextCursor()).isNull();
    }

    @Test
    void countsMatchTheReference() {
        assertThat(store.counts()).isEqualTo(reference.counts());
        assertThat(store.counts().total()).isEqualTo(90);
    }

    @Test
    void findActiveReturnsExactlyTheActiveSessions() {
        assertThat(store.findActive()).containsExactlyInAnyOrderElementsOf(reference.findActive());
    }

    @Test
    void listingUsesAnIndexForOrderInsteadOfSorting() throws Exception {
        List<SessionQuery> shapes = List.of(
                SessionQuery.all(),
                SessionQuery.all().withOwner("alice"),
                SessionQuery.all().withStatus(SessionStatus.ACTIVE),
                SessionQuery.all().withOwner("alice").withStatus(SessionStatus.ACTIVE),
                SessionQuery.all().withOwner("alice").after(store.list(SessionQuery.all().withLimit(3)).nextCursor()));
        try (Connection c = TestSessions.rawConnection(store.file())) {
            for (SessionQuery q : shapes) {
                ListQuery sql = ListQuery.of(q);
                StringBuilder plan = new StringBuilder();
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql.sql())) {
                    for (int i = 0; i < sql.parameters().size(); i++) {
                        ps.setObject(i + 1, sql.parameters().get(i));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString("detail")).append('\n');
                        }
                    }
                }
                assertThat(plan.toString()).as("plan of %s", q).contains("USING INDEX").doesNotContain("TEMP B-TREE");
            }
        }
    }

    private static List<Page<Session>> allPages(io.tether.store.SessionStore s, SessionQuery first) {
        List<Page<Session>> pages = new ArrayList<>();
        SessionQuery q = first;
        while (true) {
            Page<Session> page = s.list(q);
            pages.add(page);
            if (!page.hasNext()) {
                return pages;
            }
            assertThat(pages).as("runaway paging").hasSizeLessThan(100);
            q = q.after(page.nextCursor());
        }
    }
}
