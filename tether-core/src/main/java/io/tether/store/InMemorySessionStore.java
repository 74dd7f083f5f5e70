package io.tether.store;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A store that keeps sessions in this process's memory only: fast, and gone when the
 * process ends. Suits tests and applications whose sessions need not survive a restart.
 *
 * <p>Thread-safe. Activity is applied at once (there is nothing to defer). Listing scans
 * every stored session, so it costs time in proportion to the store's size.
 */
public final class InMemorySessionStore implements SessionStore {
    /** Newest first, then id descending: the order of {@link PageCursor}. */
    static final Comparator<Session> LIST_ORDER = Comparator
            .comparing(Session::createdAt, Comparator.reverseOrder())
            .thenComparing(Session::id, Comparator.reverseOrder());

    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    /** Per session: number → record, for the executions still kept. */
    private final ConcurrentHashMap<String, ConcurrentSkipListMap<Long, ExecutionRecord>> executions =
            new ConcurrentHashMap<>();

    @Override
    public void insert(Session session) {
        if (sessions.putIfAbsent(session.id(), session) != null) {
            throw new TetherException(ErrorCode.STORE_FAILURE, "session " + session.id() + " already stored");
        }
    }

    @Override
    public void update(Session session) {
        sessions.compute(session.id(), (id, stored) -> {
            if (stored == null || stored.version() != session.version() - 1) {
                throw new TetherException(ErrorCode.STORE_FAILURE, "session " + id + " version conflict: stored "
                        + (stored == null ? "nothing" : "version " + stored.version())
                        + ", update is version " + session.version());
            }
            return keepLatestActivity(session, stored.lastActivityAt(), stored.interactionCount());
        });
    }

    @Override
    public void recordActivity(String id, Instant at, long interactionCount) {
        sessions.computeIfPresent(id, (k, stored) -> keepLatestActivity(stored, at, interactionCount));
    }

    private static Session keepLatestActivity(Session s, Instant at, long count) {
        if (!at.isAfter(s.lastActivityAt()) && count <= s.interactionCount()) {
            return s;
        }
        Instant last = at.isAfter(s.lastActivityAt()) ? at : s.lastActivityAt();
        return new Session(s.id(), s.owner(), s.key(), s.runtime(), s.status(), s.createdAt(), last,
                s.endedAt(), s.endReason(), s.idleTimeout(), s.maxLifetime(),
                Math.max(count, s.interactionCount()), s.data(), s.metadata(), s.node(), s.version());
    }

    @Override
    public void recordExecution(ExecutionRecord execution, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be ≥ 1, got " + keep);
        }
        if (execution.running()) {
            throw new IllegalArgumentException("execution " + execution.number() + " is still running");
        }
        ConcurrentSkipListMap<Long, ExecutionRecord> kept =
                executions.computeIfAbsent(execution.sessionId(), id -> new ConcurrentSkipListMap<>());
        kept.put(execution.number(), execution);
        kept.headMap(execution.number() - keep, true).clear();
    }

    @Override
    public Optional<ExecutionRecord> findExecution(String sessionId, long number) {
        ConcurrentSkipListMap<Long, ExecutionRecord> kept = executions.get(sessionId);
        return kept == null ? Optional.empty() : Optional.ofNullable(kept.get(number));
    }

    @Override
    public List<ExecutionRecord> listExecutions(String sessionId, long before, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
        }
        ConcurrentSkipListMap<Long, ExecutionRecord> kept = executions.get(sessionId);
        if (kept == null) {
            return List.of();
        }
        return kept.headMap(before, false).descendingMap().values().stream().limit(limit).toList();
    }

    @Override
    public Optional<Session> find(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    @Override
    public Page<Session> list(SessionQuery q) {
        PageCursor after = q.cursor() == null ? null : PageCursor.decode(q.cursor());
        List<Session> matching = sessions.values().stream()
                .filter(s -> q.owner() == null || q.owner().equals(s.owner()))
                .filter(s -> q.status() == null || q.status() == s.status())
                .filter(s -> q.runtime() == null || q.runtime().equals(s.runtime()))
                .filter(s -> after == null || after.precedes(s))
                .sorted(LIST_ORDER)
                .limit(q.limit() + 1L)
                .toList();
        if (matching.size() <= q.limit()) {
            return new Page<>(matching, null);
        }
        List<Session> page = matching.subList(0, q.limit());
        return new Page<>(page, PageCursor.after(page.get(page.size() - 1)).encode());
    }

    @Override
    public List<Session> findActive() {
        return sessions.values().stream().filter(Session::isActive).toList();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Scans every stored session, like listing.
     */
    @Override
    public int purgeEnded(Instant endedBefore, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be ≥ 1, got " + max);
        }
        List<Session> due = sessions.values().stream()
                .filter(s -> !s.isActive() && s.endedAt().isBefore(endedBefore))
                .sorted(Comparator.comparing(Session::endedAt).thenComparing(Session::id))
                .limit(max)
                .toList();
        for (Session s : due) {
            // by id: late activity may have replaced the object, but an ended session stays ended
            sessions.remove(s.id());
            executions.remove(s.id());
        }
        return due.size();
    }

    @Override
    public StoreCounts counts() {
        EnumMap<SessionStatus, Long> byStatus = new EnumMap<>(SessionStatus.class);
        for (SessionStatus s : SessionStatus.values()) {
            byStatus.put(s, 0L);
        }
        Map<String, Long> byReason = new HashMap<>();
        for (Session s : sessions.values()) {
            byStatus.merge(s.status(), 1L, Long::sum);
            if (s.endReason() != null) {
                byReason.merge(s.endReason().code(), 1L, Long::sum);
            }
        }
        return new StoreCounts(byStatus, byReason);
    }

    @Override
    public void flush() {
        // nothing is deferred
    }

    @Override
    public void close() {
        // nothing to release; the sessions stay readable until garbage collected
    }
}
