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
import org.junit.jupiter.api.Test;

class InMemorySessionStoreTest extends SessionStoreContract {
    private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

    @Override
    protected SessionStore openEmpty() {
        return new InMemorySessionStore();
    }

    private static Session active(String id, String owner, String runtime, Instant createdAt) {
        return new Session(id, owner, null, runtime, SessionStatus.ACTIVE, createdAt, createdAt, null, null,
                Duration.ofMinutes(30), null, 0, JsonObjects.EMPTY, JsonObjects.EMPTY, null, 1);
    }

    private static Session active(String id) {
        return active(id, "alice", Session.NO_RUNTIME, T0);
    }

    @Test
    void aMalformedCursorIsRefused() {
        for (String cursor : new String[] {"", "not a cursor!", "%%%", encodeRaw("12345"), encodeRaw("a:id"),
                encodeRaw(":id"), encodeRaw("123:"), encodeRaw("1.5:id")}) {
            assertThatThrownBy(() -> SessionQuery.all().after(cursor))
                    .as("cursor '%s'", cursor)
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessageContaining("malformed page cursor");
        }
    }

    @Test
    void aLimitOutside1To1000IsRefused() {
        for (int limit : new int[] {0, -1, SessionQuery.MAX_LIMIT + 1}) {
            assertThatThrownBy(() -> SessionQuery.all().withLimit(limit))
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessageContaining("limit must be between 1 and 1000")
                    .hasMessageContaining(String.valueOf(limit));
        }
        assertThat(SessionQuery.all().withLimit(1).limit()).isEqualTo(1);
        assertThat(SessionQuery.all().withLimit(1000).limit()).isEqualTo(1000);
    }

    @Test
    void theDefaultQueryListsEverySessionFiftyAtATime() {
        SessionQuery q = SessionQuery.all();

        assertThat(q).isEqualTo(new SessionQuery(null, null, null, 50, null));
    }

    @Test
    void queryWithersChangeOnlyTheirOwnField() {
        String cursor = new PageCursor(1, "x").encode();
        SessionQuery q = SessionQuery.all().withOwner("alice").withStatus(SessionStatus.ERROR).withRuntime("python")
                .withLimit(7).after(cursor);

        assertThat(q).isEqualTo(new SessionQuery("alice", SessionStatus.ERROR, "python", 7, cursor));
        assertThat(q.withOwner(null).owner()).isNull();
        assertThat(q.withOwner(null).cursor()).isEqualTo(cursor);
    }

    @Test
    void aCursorRoundTripsThroughItsOpaqueText() {
        PageCursor cursor = PageCursor.after(active("Zx-_9q", "alice", "none", T0));

        String text = cursor.encode();

        assertThat(text).matches("[A-Za-z0-9_-]+");
        assertThat(PageCursor.decode(text)).isEqualTo(new PageCursor(T0.toEpochMilli(), "Zx-_9q"));
        assertThat(PageCursor.decode(new PageCursor(-5, "a:b").encode())).isEqualTo(new PageCursor(-5, "a:b"));
    }

    @Test
    void aCursorPrecedesOlderSessionsAndSameTimeSessionsWithSmallerIds() {
        PageCursor cursor = new PageCursor(T0.toEpochMilli(), "m");

        assertThat(cursor.precedes(active("z", "o", "none", T0.minusMillis(1)))).isTrue();
        assertThat(cursor.precedes(active("a", "o", "none", T0))).isTrue();
        assertThat(cursor.precedes(active("m", "o", "none", T0))).isFalse();
        assertThat(cursor.precedes(active("z", "o", "none", T0))).isFalse();
        assertThat(cursor.precedes(active("a", "o", "none", T0.plusMillis(1)))).isFalse();
    }

    @Test
    void flushAndCloseKeepSessionsReadable() {
        Session s = active("s1");
        store.insert(s);

        store.flush();
        store.close();
        store.close();

        assertThat(store.find("s1")).contains(s);
    }

    private static String encodeRaw(String raw) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }
}
