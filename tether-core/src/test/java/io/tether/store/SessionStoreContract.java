package io.tether.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.session.EndReason;
import io.tether.session.ExecutionRecord;
import io.tether.session.JsonObjects;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link SessionStore} does, whatever it keeps sessions in: one suite, run against
 * each store by a subclass that says how to open an empty one (the in-memory store here; SQLite
 * and PostgreSQL in {@code tether-store-jdbc}).
 */
public abstract class SessionStoreContract {
    private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

    /** The store under test, empty at the start of each test. */
    protected SessionStore store;

    /** A new store holding no sessions and no executions; closed after the test. */
    protected abstract SessionStore openEmpty();

    @BeforeEach
    void openStore() {
        store = openEmpty();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static Session active(String id, String owner, String runtime, Instant createdAt) {
        return new Session(id, owner, null, runtime, SessionStatus.ACTIVE, createdAt, createdAt, null, null,
                Duration.ofMinutes(30), null, 0, JsonObjects.EMPTY, JsonObjects.EMPTY, null, 1);
    }

    private static Session active(String id) {
        return active(id, "alice", Session.NO_RUNTIME, T0);
    }

    private static Session ended(Session s, SessionStatus status, EndReason reason) {
        return s.withEnd(status, reason, s.createdAt().plusSeconds(60));
    }

    private static void assertFails(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    /** Follows next cursors to the end; a cursor that fails to advance fails the test instead of looping. */
    private List<Session> listAll(SessionQuery first) {
        int stored = Math.toIntExact(store.counts().total());
        List<Session> all = new ArrayList<>();
        SessionQuery q = first;
        for (int pages = 1; ; pages++) {
            assertThat(pages).as("pages needed for %d sessions", stored).isLessThanOrEqualTo(stored + 1);
            Page<Session> page = store.list(q);
            assertThat(page.items()).hasSizeLessThanOrEqualTo(q.limit());
            all.addAll(page.items());
            if (!page.hasNext()) {
                return all;
            }
            assertThat(page.items()).as("only a full page has a next page").hasSize(q.limit());
            q = q.after(page.nextCursor());
        }
    }

    // ------------------------------------------------------------------ insert, find, update

    @Test
    void anInsertedSessionIsFoundEqualToWhatWasWritten() {
        Session s = new Session("s1", "alice", "nb", "python", SessionStatus.ACTIVE, T0, T0.plusSeconds(1), null,
                null, Duration.ofMinutes(5), Duration.ofHours(1), 3, Map.of("n", 1L), Map.of("m", "x"), "node-a", 4);

        store.insert(s);

        assertThat(store.find("s1")).contains(s);
        assertThat(store.find("missing")).isEmpty();
    }

    @Test
    void everyFieldAndNestedJsonRoundTripExactly() {
        Map<String, Object> raw = new java.util.LinkedHashMap<>();
        raw.put("nothing", null);
        raw.putAll(Map.of("long", Long.MAX_VALUE, "double", 0.1 + 0.2, "tiny", 4.9e-324,
                "big", new java.math.BigInteger("123456789012345678901234567890"),
                "text", "grüße, 日本, emoji \uD83D\uDE80, quote \" and \\ backslash, nul \u0000",
                "list", java.util.Arrays.asList(1L, null, "two", 3.5, List.of(), Map.of()),
                "nested", Map.of("deeper", Map.of("flag", true, "off", false))));
        Session full = new Session("s-full", "owner-ü", "key-1", "python", SessionStatus.ACTIVE, T0,
                T0.plusMillis(1234), null, null, Duration.ofSeconds(90), Duration.ofHours(8), 17,
                JsonObjects.copyOf(raw, "data"), JsonObjects.copyOf(Map.of("label", "ünïcödé", "n", 7L), "metadata"),
                "node-a", 3);
        Session nulls = new Session("s-nulls", "bob", null, Session.NO_RUNTIME, SessionStatus.ACTIVE, T0, T0, null,
                null, null, null, 0, JsonObjects.EMPTY, JsonObjects.EMPTY, null, 1);

        store.insert(full);
        store.insert(nulls);

        assertThat(store.find("s-full")).contains(full);
        assertThat(store.find("s-nulls")).contains(nulls);
    }

    @Test
    void insertingAnExistingIdFailsAndKeepsTheStoredSession() {
        Session original = active("s1");
        store.insert(original);

        assertFails(ErrorCode.STORE_FAILURE, () -> store.insert(active("s1", "bob", "python", T0.plusSeconds(5))));

        assertThat(store.find("s1")).contains(original);
    }

    @Test
    void anUpdateOneVersionAheadReplacesTheSession() {
        Session s = active("s1");
        store.insert(s);
        Session updated = s.withState(Map.of("n", 2L), Map.of(), T0.plusSeconds(10));

        store.update(updated);

        assertThat(store.find("s1")).contains(updated);
        assertThat(updated.version()).isEqualTo(2);
    }

    @Test
    void anUpdateWithTheWrongVersionFailsAndChangesNothing() {
        Session s = active("s1");
        store.insert(s);
        Session sameVersion = new Session("s1", "alice", null, "none", SessionStatus.ACTIVE, T0, T0, null, null,
                null, null, 9, Map.of("stale", true), Map.of(), null, s.version());
        Session skipsAVersion = s.withState(Map.of("n", 1L), Map.of(), T0).withState(Map.of("n", 2L), Map.of(), T0);

        assertFails(ErrorCode.STORE_FAILURE, () -> store.update(sameVersion));
        assertFails(ErrorCode.STORE_FAILURE, () -> store.update(skipsAVersion));

        assertThat(store.find("s1")).contains(s);
    }

    @Test
    void updatingAMissingSessionFailsAndDoesNotInsertIt() {
        assertFails(ErrorCode.STORE_FAILURE, () -> store.update(active("ghost").withState(Map.of(), Map.of(), T0)));

        assertThat(store.find("ghost")).isEmpty();
    }

    @Test
    void anEndedSessionIsStoredByUpdate() {
        Session s = active("s1");
        store.insert(s);
        Session end = ended(s, SessionStatus.TIMEOUT, EndReason.IDLE_TIMEOUT);

        store.update(end);

        assertThat(store.find("s1")).contains(end);
        assertThat(store.findActive()).isEmpty();
    }

    // ------------------------------------------------------------------ activity

    @Test
    void recordedActivityMovesLastActivityAndInteractionCountForward() {
        store.insert(active("s1"));

        store.recordActivity("s1", T0.plusSeconds(30), 4);

        Session s = store.find("s1").orElseThrow();
        assertThat(s.lastActivityAt()).isEqualTo(T0.plusSeconds(30));
        assertThat(s.interactionCount()).isEqualTo(4);
        assertThat(s.version()).as("activity alone does not change the version").isEqualTo(1);
    }

    @Test
    void recordedActivityNeverMovesEitherValueBackwards() {
        store.insert(active("s1"));
        store.recordActivity("s1", T0.plusSeconds(30), 4);

        store.recordActivity("s1", T0.plusSeconds(10), 2); // both older
        assertThat(store.find("s1").orElseThrow())
                .extracting(Session::lastActivityAt, Session::interactionCount)
                .containsExactly(T0.plusSeconds(30), 4L);

        store.recordActivity("s1", T0.plusSeconds(20), 6); // older time, higher count
        assertThat(store.find("s1").orElseThrow())
                .extracting(Session::lastActivityAt, Session::interactionCount)
                .containsExactly(T0.plusSeconds(30), 6L);

        store.recordActivity("s1", T0.plusSeconds(40), 5); // newer time, lower count
        assertThat(store.find("s1").orElseThrow())
                .extracting(Session::lastActivityAt, Session::interactionCount)
                .containsExactly(T0.plusSeconds(40), 6L);
    }

    @Test
    void activityForAnUnknownSessionIsIgnored() {
        store.recordActivity("ghost", T0, 1);

        assertThat(store.find("ghost")).isEmpty();
        assertThat(store.counts().total()).isZero();
    }

    @Test
    void anUpdateCarryingOlderActivityKeepsTheNewerStoredActivity() {
        Session s = active("s1");
        store.insert(s);
        Session update = s.withState(Map.of("n", 1L), Map.of(), T0.plusSeconds(5)); // count 1, at +5
        store.recordActivity("s1", T0.plusSeconds(50), 7); // arrives first

        store.update(update);

        Session stored = store.find("s1").orElseThrow();
        assertThat(stored.data()).isEqualTo(Map.of("n", 1L));
        assertThat(stored.version()).isEqualTo(2);
        assertThat(stored.lastActivityAt()).isEqualTo(T0.plusSeconds(50));
        assertThat(stored.interactionCount()).isEqualTo(7);
    }

    @Test
    void anUpdateCarryingNewerActivityTakesIt() {
        Session s = active("s1");
        store.insert(s);
        store.recordActivity("s1", T0.plusSeconds(5), 2);

        store.update(s.withActivity(T0.plusSeconds(5)).withActivity(T0.plusSeconds(6)).withState(
                Map.of(), Map.of(), T0.plusSeconds(60)));

        Session stored = store.find("s1").orElseThrow();
        assertThat(stored.lastActivityAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(stored.interactionCount()).isEqualTo(3);
    }

    // ------------------------------------------------------------------ listing

    @Test
    void listingFiltersByOwnerStatusAndRuntimeNewestFirst() {
        Session a1 = active("a1", "alice", "none", T0);
        Session a2 = active("a2", "alice", "python", T0.plusSeconds(1));
        Session a3 = ended(active("a3", "alice", "python", T0.plusSeconds(2)), SessionStatus.ENDED, EndReason.MANUAL);
        Session b1 = active("b1", "bob", "python", T0.plusSeconds(3));
        for (Session s : List.of(a1, a2, a3, b1)) {
            store.insert(s);
        }

        assertThat(store.list(SessionQuery.all()).items()).containsExactly(b1, a3, a2, a1);
        assertThat(store.list(SessionQuery.all().withOwner("alice")).items()).containsExactly(a3, a2, a1);
        assertThat(store.list(SessionQuery.all().withStatus(SessionStatus.ACTIVE)).items()).containsExactly(b1, a2, a1);
        assertThat(store.list(SessionQuery.all().withRuntime("python")).items()).containsExactly(b1, a3, a2);
        assertThat(store.list(SessionQuery.all().withOwner("alice").withStatus(SessionStatus.ACTIVE)
                .withRuntime("python")).items()).containsExactly(a2);
        assertThat(store.list(SessionQuery.all().withOwner("carol")).items()).isEmpty();
    }

    @Test
    void sessionsCreatedAtTheSameMillisecondAreOrderedByIdDescending() {
        store.insert(active("b", "alice", "none", T0));
        store.insert(active("c", "alice", "none", T0));
        store.insert(active("a", "alice", "none", T0));

        assertThat(store.list(SessionQuery.all()).items()).extracting(Session::id).containsExactly("c", "b", "a");
    }

    @Test
    void pagingThroughManySessionsSharingCreationTimesReturnsEachExactlyOnceInOrder() {
        // 230 sessions over only 4 distinct creation times: most page boundaries fall inside a tie.
        List<Session> sessions = new ArrayList<>();
        for (int i = 0; i < 230; i++) {
            sessions.add(active(String.format("id-%04d", i), i % 3 == 0 ? "bob" : "alice", "none",
                    T0.plusMillis(i % 4)));
        }
        Collections.shuffle(sessions, new Random(42));
        sessions.forEach(store::insert);
        List<Session> expected = sessions.stream()
                .sorted(Comparator.comparing(Session::createdAt).thenComparing(Session::id).reversed())
                .toList();

        for (int limit : new int[] {1, 7, 50, 229, 230, 231}) {
            List<Session> listed = listAll(SessionQuery.all().withLimit(limit));

            assertThat(listed).as("limit %d", limit).containsExactlyElementsOf(expected);
        }
        assertThat(listAll(SessionQuery.all().withOwner("bob").withLimit(9)))
                .containsExactlyElementsOf(expected.stream().filter(s -> s.owner().equals("bob")).toList());
    }

    @Test
    void aListingThatFillsItsLastPageExactlyEndsWithoutAnEmptyPage() {
        for (int i = 0; i < 10; i++) {
            store.insert(active("s" + i, "alice", "none", T0.plusSeconds(i)));
        }

        Page<Session> first = store.list(SessionQuery.all().withLimit(5));
        Page<Session> second = store.list(SessionQuery.all().withLimit(5).after(first.nextCursor()));

        assertThat(first.hasNext()).isTrue();
        assertThat(second.items()).hasSize(5);
        assertThat(second.hasNext()).isFalse();
        assertThat(second.nextCursor()).isNull();
    }

    @Test
    void sessionsCreatedWhilePagingDoNotShiftOrRepeatLaterPages() {
        for (int i = 0; i < 6; i++) {
            store.insert(active("old" + i, "alice", "none", T0.plusSeconds(i)));
        }
        Page<Session> first = store.list(SessionQuery.all().withLimit(3));

        store.insert(active("new", "alice", "none", T0.plusSeconds(100)));
        Page<Session> second = store.list(SessionQuery.all().withLimit(3).after(first.nextCursor()));

        assertThat(first.items()).extracting(Session::id).containsExactly("old5", "old4", "old3");
        assertThat(second.items()).extracting(Session::id).containsExactly("old2", "old1", "old0");
        assertThat(second.hasNext()).isFalse();
    }

    @Test
    void anEmptyStoreListsAnEmptyLastPage() {
        Page<Session> page = store.list(SessionQuery.all());

        assertThat(page.items()).isEmpty();
        assertThat(page.hasNext()).isFalse();
    }

    @Test
    void listedPagesCannotBeModified() {
        store.insert(active("s1"));

        List<Session> items = store.list(SessionQuery.all()).items();

        assertThatThrownBy(() -> items.add(active("s2"))).isInstanceOf(UnsupportedOperationException.class);
    }

    // ------------------------------------------------------------------ counts, active

    @Test
    void countsAreByStatusAndEndReasonWithEveryStatusPresent() {
        store.insert(active("a1"));
        store.insert(active("a2"));
        store.insert(ended(active("e1"), SessionStatus.ENDED, EndReason.MANUAL));
        store.insert(ended(active("e2"), SessionStatus.ENDED, EndReason.MANUAL));
        store.insert(ended(active("t1"), SessionStatus.TIMEOUT, EndReason.IDLE_TIMEOUT));
        store.insert(ended(active("t2"), SessionStatus.TIMEOUT, EndReason.MAX_LIFETIME));
        store.insert(ended(active("x1"), SessionStatus.ENDED, EndReason.of("quota_exhausted")));

        StoreCounts counts = store.counts();

        assertThat(counts.byStatus()).containsOnly(
                Map.entry(SessionStatus.ACTIVE, 2L), Map.entry(SessionStatus.ENDED, 3L),
                Map.entry(SessionStatus.TIMEOUT, 2L), Map.entry(SessionStatus.ERROR, 0L));
        assertThat(counts.byEndReason()).containsOnly(
                Map.entry("manual", 2L), Map.entry("idle_timeout", 1L), Map.entry("max_lifetime", 1L),
                Map.entry("quota_exhausted", 1L));
        assertThat(counts.total()).isEqualTo(7);
    }

    @Test
    void anEmptyStoreCountsZeroForEveryStatus() {
        StoreCounts counts = store.counts();

        assertThat(counts.byStatus()).hasSize(SessionStatus.values().length).allSatisfy((s, n) -> assertThat(n).isZero());
        assertThat(counts.byEndReason()).isEmpty();
        assertThat(counts.total()).isZero();
    }

    @Test
    void findActiveReturnsOnlyActiveSessions() {
        Session a1 = active("a1");
        Session a2 = active("a2", "bob", "python", T0);
        store.insert(a1);
        store.insert(a2);
        store.insert(ended(active("e1"), SessionStatus.ERROR, EndReason.WORKER_CRASHED));

        assertThat(store.findActive()).containsExactlyInAnyOrder(a1, a2);
    }

    // ------------------------------------------------------------------ execution history

    private static ExecutionRecord execution(String sessionId, long number) {
        Instant started = T0.plusSeconds(number);
        ExecutionResult r = new ExecutionResult(number, ExecutionStatus.OK, "out " + number, "", Map.of(), null,
                Duration.ofMillis(3), false);
        return new ExecutionRecord(sessionId, "print(" + number + ")", started, started.plusMillis(3), r);
    }

    private static List<Long> numbers(List<ExecutionRecord> records) {
        return records.stream().map(ExecutionRecord::number).toList();
    }

    @Test
    void listedExecutionsAreTheKeptOnesOfThatSessionNewestFirstBelowTheGivenNumber() {
        for (long n = 1; n <= 6; n++) {
            store.recordExecution(execution("s1", n), 4);
        }
        store.recordExecution(execution("s2", 1), 4);

        assertThat(numbers(store.listExecutions("s1", Long.MAX_VALUE, 10))).containsExactly(6L, 5L, 4L, 3L);
        assertThat(numbers(store.listExecutions("s1", Long.MAX_VALUE, 2))).containsExactly(6L, 5L);
        assertThat(numbers(store.listExecutions("s1", 5, 2))).containsExactly(4L, 3L);
        assertThat(store.listExecutions("s1", 3, 10)).isEmpty();
        assertThat(store.listExecutions("s1", Long.MAX_VALUE, 1)).containsExactly(execution("s1", 6));
        assertThat(numbers(store.listExecutions("s2", Long.MAX_VALUE, 10))).containsExactly(1L);
        assertThat(store.listExecutions("nobody", Long.MAX_VALUE, 10)).isEmpty();
        assertThatThrownBy(() -> store.listExecutions("s1", Long.MAX_VALUE, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
    @Test
    void purgeDeletesOnlySessionsEndedBeforeTheCutoffOldestFirstWithTheirExecutions() {
        Instant cutoff = T0.plus(Duration.ofDays(30));
        for (String id : new String[] {"old-1", "old-2", "old-3", "at-cutoff", "active"}) {
            store.insert(active(id));
            store.recordExecution(execution(id, 1), 10);
        }
        store.update(active("old-1").withEnd(SessionStatus.ENDED, EndReason.MANUAL, T0.plusSeconds(3)));
        store.update(active("old-2").withEnd(SessionStatus.ENDED, EndReason.MANUAL, T0.plusSeconds(1)));
        store.update(active("old-3").withEnd(SessionStatus.ENDED, EndReason.MANUAL, T0.plusSeconds(2)));
        store.update(active("at-cutoff").withEnd(SessionStatus.ENDED, EndReason.MANUAL, cutoff));
        store.flush();

        assertThat(store.purgeEnded(cutoff, 2)).isEqualTo(2);
        assertThat(store.find("old-2")).as("the oldest end goes first").isEmpty();
        assertThat(store.find("old-3")).isEmpty();
        assertThat(store.find("old-1")).isPresent();
        assertThat(store.purgeEnded(cutoff, 2)).isEqualTo(1);
        assertThat(store.purgeEnded(cutoff, 2)).isZero();

        assertThat(store.find("old-1")).isEmpty();
        assertThat(store.findExecution("old-1", 1)).isEmpty();
        assertThat(store.find("at-cutoff")).isPresent();
        assertThat(store.findExecution("at-cutoff", 1)).isPresent();
        assertThat(store.findActive()).extracting(Session::id).containsExactly("active");
        assertThat(store.counts().total()).isEqualTo(2);
    }
}
